/**
 * Slow consumers: `events()` and `batches()` with a bounded buffer and an overflow policy,
 * against real node:http servers on 127.0.0.1. Each policy is checked by counting what
 * reaches a consumer that does not keep up.
 */
import { getEventListeners, setMaxListeners } from "node:events";
import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, test, vi } from "vitest";
import { EventSource, type ParsedEvent } from "../../src/index.js";
import { sleep, sse, startServer, until } from "../support/server.js";
import { closeSources, open } from "../support/sources.js";

afterEach(async () => {
  await closeSources();
});

const N = 500;
const SYMBOLS = ["AAPL", "MSFT", "GOOG", "AMZN", "NVDA"];

/** A server that writes N events at once ("id: i", data "SYM:i") and keeps the stream open. */
async function burstServer(n = N) {
  return startServer((_req, res) => {
    sse(res);
    let body = "";
    for (let i = 0; i < n; i++) body += `id: ${i}\ndata: ${SYMBOLS[i % SYMBOLS.length]}:${i}\n\n`;
    res.write(body);
  });
}

/** Takes `count` items from an iterator, failing if they do not come. */
async function take<T>(it: AsyncIterator<T>, count: number): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < count; i++) {
    const r = await Promise.race([it.next(), sleep(2000).then(() => "timeout" as const)]);
    if (r === "timeout") throw new Error(`only ${out.length} of ${count} items came`);
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

// Every MessageEvent a source makes comes from makeMessageEvent (src/client/message-event.ts,
// which on Node builds it without the global constructor): counted there.
const messageEvents = vi.hoisted(() => ({ made: 0 }));
vi.mock("../../src/client/message-event.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/client/message-event.js")>();
  return {
    ...real,
    makeMessageEvent: (...args: Parameters<typeof real.makeMessageEvent>) => {
      messageEvents.made++;
      return real.makeMessageEvent(...args);
    },
  };
});

/** Counts the MessageEvents made from now on. */
function countMessageEvents(): () => number {
  const start = messageEvents.made;
  return () => messageEvents.made - start;
}

const seq = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, k) => `${SYMBOLS[(from + k) % SYMBOLS.length]}:${from + k}`);

describe("events() overflow policies (a consumer that has not pulled while the burst arrived)", () => {
  test("drop-newest keeps the first bufferSize events and counts the rest as dropped", async () => {
    const server = await burstServer();
    const s = open(server.url);
    const it = s.events({ bufferSize: 10, overflow: "drop-newest" });
    await until(() => s.stats.events === N);
    expect(s.stats.dropped).toBe(N - 10);
    s.close();
    const got = await take(it, N);
    expect(got.map((e) => e.data)).toEqual(seq(0, 10));
  });

  test("drop-oldest keeps the last bufferSize events", async () => {
    const server = await burstServer();
    const s = open(server.url);
    const it = s.events({ bufferSize: 10, overflow: "drop-oldest" });
    await until(() => s.stats.events === N);
    expect(s.stats.dropped).toBe(N - 10);
    s.close();
    const got = await take(it, N);
    expect(got.map((e) => e.data)).toEqual(seq(N - 10, N));
  });

  test("latest-by-key keeps the newest event per key, in the place of the key's first", async () => {
    const server = await burstServer();
    const s = open(server.url);
    const it = s.events({ overflow: "latest-by-key", key: (e) => e.data.split(":")[0] });
    await until(() => s.stats.events === N);
    expect(s.stats.dropped).toBe(N - SYMBOLS.length);
    s.close();
    const got = await take(it, N);
    // First appearance order AAPL, MSFT...; each the last of its symbol (495..499).
    expect(got.map((e) => e.data)).toEqual(seq(N - SYMBOLS.length, N));
    expect(got.map((e) => e.lastEventId)).toEqual(["495", "496", "497", "498", "499"]);
  });

  test("the deprecated maxBuffered still bounds the buffer", async () => {
    const server = await burstServer();
    const s = open(server.url);
    const it = s.events({ maxBuffered: 7, overflow: "drop-newest" });
    await until(() => s.stats.events === N);
    expect(s.stats.dropped).toBe(N - 7);
    it.return?.();
  });

  test("a slow consumer under drop-oldest gets an increasing subsequence, ending with the last event", async () => {
    const n = 300;
    const server = await startServer(async (_req, res) => {
      sse(res);
      for (let i = 0; i < n; i++) {
        res.write(`data: ${i}\n\n`);
        if (i % 20 === 19) await sleep(2);
      }
    });
    const s = open(server.url);
    const got: number[] = [];
    for await (const e of s.events({ bufferSize: 5, overflow: "drop-oldest" })) {
      got.push(Number(e.data));
      if (got.at(-1) === n - 1) break;
      await sleep(3); // deliberately slow
    }
    const sorted = [...got].sort((a, b) => a - b);
    expect(got).toEqual(sorted);
    expect(new Set(got).size).toBe(got.length);
    expect(got.length).toBeLessThan(n);
    expect(got.length + s.stats.dropped).toBe(n);
  });

  test("block (the default) loses nothing for a slow consumer", async () => {
    const n = 3000;
    const server = await burstServer(n);
    const s = open(server.url);
    const got: string[] = [];
    for await (const e of s.events({ bufferSize: 50 })) {
      got.push(e.data);
      if (got.length % 500 === 0) await sleep(5);
      if (got.length === n) break;
    }
    expect(got).toEqual(seq(0, n));
    expect(s.stats.dropped).toBe(0);
  });

  test("bad options throw where they are written", async () => {
    const s = new EventSource("http://127.0.0.1:9/");
    s.close();
    expect(() => s.events({ overflow: "latest-by-key" })).toThrow(TypeError);
    expect(() => s.events({ overflow: "drop-oldest", key: (e) => e.data })).toThrow(TypeError);
    expect(() => s.events({ overflow: "newest" as never })).toThrow(TypeError);
    expect(() => s.batches({ bufferSize: 0 })).toThrow(RangeError);
  });
});

describe("batches()", () => {
  test("the same records as listeners, one array per network chunk", async () => {
    const server = await startServer(async (_req, res) => {
      sse(res);
      res.write("id: 1\nevent: tick\ndata: a\n\ndata: b\n\n");
      await sleep(50);
      res.write("event: halt\ndata: c\ndata: d\n\nid: 2\ndata: e\n\n");
      await sleep(50);
      res.write("data: f\n\n");
    });
    const s = open(server.url);
    const heard: ParsedEvent[] = [];
    for (const type of ["message", "tick", "halt"]) {
      s.addEventListener(type, (e) => {
        const m = e as MessageEvent;
        heard.push({ type: m.type, data: m.data, lastEventId: m.lastEventId });
      });
    }
    const batches = await take(s.batches(), 3);
    expect(batches.map((b) => b.length)).toEqual([2, 2, 1]);
    expect(batches.flat()).toEqual(heard);
    expect(batches.flat()).toEqual([
      { type: "tick", data: "a", lastEventId: "1" },
      { type: "message", data: "b", lastEventId: "1" },
      { type: "halt", data: "c\nd", lastEventId: "1" },
      { type: "message", data: "e", lastEventId: "2" },
      { type: "message", data: "f", lastEventId: "2" },
    ]);
    expect(s.stats.events).toBe(5);
  });

  test("with only batch consumers, no MessageEvent is made, until a listener wants one", async () => {
    const made = countMessageEvents();
    // Each later chunk is written once the test has taken the one before (a timed gap may
    // merge chunks on a busy machine).
    let response: ServerResponse | undefined;
    const server = await startServer((_req, res) => {
      sse(res);
      res.write("data: 1\n\ndata: 2\n\n");
      response = res;
    });
    const s = open(server.url);
    const errors: Event[] = [];
    s.addEventListener("error", (e) => errors.push(e));
    const noop = (): void => {};
    s.addEventListener("message", noop);
    s.removeEventListener("message", noop);
    const it = s.batches();
    const first = await take(it, 1);
    expect(first[0]!.map((r) => r.data)).toEqual(["1", "2"]);
    expect(made()).toBe(0);
    // A server's `event: error` still reaches the error listeners (as a MessageEvent).
    response!.write("event: error\ndata: server-named\n\n");
    const second = await take(it, 1);
    expect(second[0]![0]!.data).toBe("server-named");
    expect(made()).toBe(1);
    expect((errors[0] as MessageEvent).data).toBe("server-named");
    const got: string[] = [];
    s.onmessage = (e) => got.push(e.data);
    response!.write("data: 3\n\n");
    await take(it, 1);
    expect(got).toEqual(["3"]);
    expect(made()).toBe(2);
  });

  test("a listener removed by its signal stops MessageEvents", async () => {
    const made = countMessageEvents();
    const server = await startServer(async (_req, res) => {
      sse(res);
      res.write("data: 1\n\n");
      await sleep(60);
      res.write("data: 2\n\n");
    });
    const s = open(server.url);
    const ac = new AbortController();
    const got: string[] = [];
    s.addEventListener("message", (e) => got.push((e as MessageEvent).data), { signal: ac.signal });
    const it = s.batches();
    await take(it, 1);
    expect(made()).toBe(1);
    ac.abort();
    await take(it, 1);
    expect(made()).toBe(1);
    expect(got).toEqual(["1"]);
  });

  test("listeners with a signal: the book watches it with one shared abort listener", () => {
    const s = new EventSource("http://127.0.0.1:9/");
    s.close();
    const plain = new EventTarget();
    const a = new AbortController();
    const b = new AbortController();
    setMaxListeners(50, a.signal, b.signal, s, plain);
    for (let i = 0; i < 12; i++) {
      s.addEventListener("message", () => {}, { signal: a.signal });
      plain.addEventListener("message", () => {}, { signal: b.signal });
    }
    expect(getEventListeners(a.signal, "abort").length).toBe(getEventListeners(b.signal, "abort").length + 1);
  });

  test("drop-newest and drop-oldest count records; latest-by-key gives one record per key per batch", async () => {
    const server = await burstServer();
    const newest = open(server.url);
    const a = newest.batches({ bufferSize: 10, overflow: "drop-newest" });
    const oldest = open(server.url);
    const b = oldest.batches({ bufferSize: 10, overflow: "drop-oldest" });
    const keyed = open(server.url);
    const c = keyed.batches({ overflow: "latest-by-key", key: (r) => r.data.split(":")[0] });
    await until(() => newest.stats.events === N && oldest.stats.events === N && keyed.stats.events === N);
    for (const s of [newest, oldest, keyed]) s.close();
    expect((await take(a, N)).flat().map((r) => r.data)).toEqual(seq(0, 10));
    expect((await take(b, N)).flat().map((r) => r.data)).toEqual(seq(N - 10, N));
    const conflated = await take(c, N);
    expect(conflated).toHaveLength(1);
    expect(conflated[0]!.map((r) => r.data)).toEqual(seq(N - SYMBOLS.length, N));
    expect([newest.stats.dropped, oldest.stats.dropped, keyed.stats.dropped]).toEqual([N - 10, N - 10, N - 5]);
  });

  test("block pauses the socket: a slow batch consumer gets every record in order", async () => {
    const n = 20_000;
    const server = await burstServer(n);
    const s = open(server.url);
    let count = 0;
    let maxLag = 0;
    for await (const batch of s.batches({ bufferSize: 100 })) {
      for (const r of batch) expect(r.data).toBe(`${SYMBOLS[count % SYMBOLS.length]}:${count++}`);
      maxLag = Math.max(maxLag, s.stats.events - count);
      await sleep(1);
      if (count === n) break;
    }
    expect(count).toBe(n);
    // Parsed but not consumed: at most the bound plus about one 64 KiB chunk (~2,600 events
    // here), never the whole burst the server wrote at once.
    expect(maxLag).toBeLessThan(100 + 4000);
    expect(s.stats.dropped).toBe(0);
  });

  test("events() and batches() side by side get the same events; close() ends both", async () => {
    const server = await burstServer(50);
    const s = open(server.url);
    const ev = s.events();
    const ba = s.batches();
    await until(() => s.stats.events === 50);
    s.close();
    const events = await take(ev, 100);
    const records = (await take(ba, 100)).flat();
    expect(events.map((e) => e.data)).toEqual(records.map((r) => r.data));
    expect(records).toHaveLength(50);
  });
});
