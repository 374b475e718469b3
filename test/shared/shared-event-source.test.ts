// SharedEventSource on Node: several "tabs" (sources in one process, each with its own
// BroadcastChannel, which Node delivers between instances as browsers do between tabs) share
// one connection to a real node:http feed on 127.0.0.1. Node 20 has no Web Locks API, so a
// small in-process one stands in (FIFO per name, released when the callback settles, as the
// spec's exclusive locks are); the browser suite runs the same with the real one.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { type LockManagerLike, SharedEventSource } from "../../src/shared/index.js";

class Locks implements LockManagerLike {
  readonly #queues = new Map<string, (() => void)[]>();

  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>): Promise<unknown> {
    const queue = this.#queues.get(name) ?? [];
    this.#queues.set(name, queue);
    return new Promise((resolve, reject) => {
      const run = (): void => {
        callback()
          .then(resolve, reject)
          .finally(() => {
            queue.shift();
            queue[0]?.();
          });
      };
      queue.push(run);
      if (queue.length === 1) run();
      options.signal?.addEventListener("abort", () => {
        const i = queue.indexOf(run);
        if (i > 0) {
          queue.splice(i, 1);
          reject(new DOMException("aborted", "AbortError"));
        }
      });
    });
  }
}

/** A feed of numbered events (id = number), `every` ms apart, resuming after Last-Event-ID. */
async function feed(every = 5, total = 10_000) {
  const requests: (string | undefined)[] = [];
  const sockets = new Set<import("node:net").Socket>();
  const server = http.createServer((req, res) => {
    const last = req.headers["last-event-id"] as string | undefined;
    requests.push(last);
    res.writeHead(200, { "content-type": "text/event-stream" });
    let i = Number(last ?? 0);
    const timer = setInterval(() => {
      if (++i > total) return void res.end();
      res.write(`id: ${i}\ndata: ${i}\n\n`);
    }, every);
    res.on("close", () => clearInterval(timer));
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  cleanups.push(close);
  return { url, requests };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tab(url: string, locks: Locks, name = "feed") {
  const source = new SharedEventSource(url, { locks, name, syncDelay: 30, reconnect: { initialDelay: 10 } });
  cleanups.push(() => source.close());
  const got: number[] = [];
  source.addEventListener("message", (e) => got.push(Number((e as MessageEvent).data)));
  return { source, got };
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe("SharedEventSource", () => {
  test("three tabs, one connection: every tab gets every event once, in order", async () => {
    const { url, requests } = await feed();
    const locks = new Locks();
    const tabs = [tab(url, locks), tab(url, locks), tab(url, locks)];
    await until(() => tabs.every((t) => t.got.length >= 30), "30 events in every tab");
    const n = Math.min(...tabs.map((t) => t.got.length));
    for (const t of tabs) expect(t.got.slice(0, n)).toEqual(upTo(n));
    expect(requests).toHaveLength(1);
    expect(tabs.filter((t) => t.source.holder)).toHaveLength(1);
    expect(tabs.map((t) => t.source.readyState)).toEqual([1, 1, 1]);
  });

  test("the holder closes mid-stream: another takes over with Last-Event-ID, no event lost or repeated", async () => {
    const { url, requests } = await feed();
    const locks = new Locks();
    const tabs = [tab(url, locks), tab(url, locks), tab(url, locks)];
    for (let round = 0; round < 2; round++) {
      const live = tabs.filter((t) => t.source.readyState !== SharedEventSource.CLOSED);
      await until(() => live.every((t) => t.got.length >= 20 * (round + 1)), "events before the takeover");
      const holder = live.find((t) => t.source.holder)!;
      holder.source.close();
    }
    const last = tabs.find((t) => t.source.readyState !== SharedEventSource.CLOSED)!;
    await until(() => last.got.length >= 80, "events after two takeovers");
    // The survivor saw 1..n exactly once, across three holders.
    expect(last.got).toEqual(upTo(last.got.length));
    expect(last.source.holder).toBe(true);
    expect(requests).toHaveLength(3);
    expect(Number(requests[1])).toBeGreaterThanOrEqual(20);
    expect(Number(requests[2])).toBeGreaterThanOrEqual(40);
    // The second tab, holder of the middle stretch, also saw an unbroken run until it closed.
    for (const t of tabs) expect(t.got).toEqual(upTo(t.got.length));
  });

  test("a tab that joins later gets the events from then on, on the same connection", async () => {
    const { url, requests } = await feed();
    const locks = new Locks();
    const first = tab(url, locks);
    await until(() => first.got.length >= 10, "10 events");
    const second = tab(url, locks);
    await until(() => second.got.length >= 10, "10 events in the second tab");
    const start = second.got[0]!;
    expect(start).toBeGreaterThan(1);
    expect(second.got).toEqual(upTo(second.got.at(-1)!).slice(start - 1));
    expect(requests).toHaveLength(1);
    expect(second.source.holder).toBe(false);
  });

  test("tabs that join after the holder opened are OPEN, with one open event each", async () => {
    const { url } = await feed();
    const locks = new Locks();
    const tabs: ReturnType<typeof tab>[] = [];
    const opens: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = tab(url, locks);
      opens.push(0);
      t.source.addEventListener("open", () => opens[i]!++);
      tabs.push(t);
      await until(() => t.source.readyState === SharedEventSource.OPEN, `OPEN in tab ${i}`, 1000);
      await until(() => t.got.length >= 3, `3 events in tab ${i}`);
    }
    // The third's arrival told the second nothing new.
    expect(opens).toEqual([1, 1, 1]);
  });

  test("names keep feeds apart: two names, two connections", async () => {
    const { url, requests } = await feed();
    const locks = new Locks();
    const a = tab(url, locks, "a");
    const b = tab(url, locks, "b");
    await until(() => a.got.length >= 5 && b.got.length >= 5, "events in both");
    expect(requests).toHaveLength(2);
    expect(a.source.holder && b.source.holder).toBe(true);
  });

  test("a feed that fails for good (404) closes every tab with the error", async () => {
    const server = http.createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const locks = new Locks();
    const tabs = [tab(url, locks), tab(url, locks)];
    const codes = tabs.map((t) => {
      const seen: string[] = [];
      t.source.addEventListener("error", (e) => seen.push(`${(e as Event & { code: string }).code}`));
      return seen;
    });
    await until(() => tabs.every((t) => t.source.readyState === SharedEventSource.CLOSED), "every tab CLOSED");
    expect(codes).toEqual([["HTTP_STATUS"], ["HTTP_STATUS"]]);
  });

  test("a follower dispatches each event number once, and answers a new holder's sync with where it is", async () => {
    // The test speaks the tabs' protocol on the channel: it plays the holders; the tab under
    // test never gets the lock.
    const never: LockManagerLike = { request: () => new Promise(() => {}) };
    const source = new SharedEventSource("http://127.0.0.1:1/", { locks: never, name: "protocol" });
    cleanups.push(() => source.close());
    const got: string[] = [];
    source.addEventListener("message", (e) => got.push(`${(e as MessageEvent).data}@${(e as MessageEvent).lastEventId}`));
    const channel = new BroadcastChannel("eventsource-wasm:protocol");
    cleanups.push(() => channel.close());
    const answers: unknown[] = [];
    channel.onmessage = (e) => answers.push(e.data);
    const post = (n: number) => channel.postMessage({ t: "event", n, type: "message", data: `d${n}`, id: `i${n}`, origin: "o" });
    for (const n of [1, 2, 3]) post(n);
    // A new holder that resumed from behind posts 2 and 3 again, then 4.
    for (const n of [2, 3, 4]) post(n);
    await until(() => got.length >= 4, "4 events");
    channel.postMessage({ t: "sync" });
    await until(() => answers.length > 0, "an answer");
    expect(got).toEqual(["d1@i1", "d2@i2", "d3@i3", "d4@i4"]);
    expect(answers).toEqual([{ t: "at", n: 4, id: "i4" }]);
    expect(source.lastEventId).toBe("i4");
  });

  test("bad options and a platform without Web Locks throw at construction", () => {
    expect(() => new SharedEventSource("http://127.0.0.1:1/", { locks: new Locks(), syncDelay: -1 })).toThrow(RangeError);
    expect(() => new SharedEventSource("ftp://127.0.0.1/", { locks: new Locks() })).toThrow(/scheme/);
    expect(() => new SharedEventSource("http://127.0.0.1:1/")).toThrow(/Web Locks/);
  });
});
