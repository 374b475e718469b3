/**
 * HTML "reestablish the connection": reconnection with Last-Event-ID, `retry:`, backoff,
 * jitter, maxAttempts and idleTimeout, through EventSource against real node:http servers on
 * 127.0.0.1. The delays themselves are asserted exactly in reconnect.test.ts.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { EventSource, EventSourceError, EventSourceErrorEvent } from "../../src/index.js";
import { lastEventIdOf, once, sleep, sse, startRawServer, startServer, until } from "../support/server.js";
import { closeSources, errors, open, record } from "../support/sources.js";

afterEach(closeSources);

describe("reestablish the connection", () => {
  test("end of body reconnects with Last-Event-ID, after an error event (CONNECTING)", async () => {
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      res.end(n === 1 ? "id: 41\ndata: a\n\nid: 42\ndata: b\n\nid: 43\ndata: incomplete\n" : "data: c\n\n");
    });
    const s = open(server.url);
    const got = record(s);
    const err = await once<EventSourceErrorEvent>(s, "error");
    expect(err.code).toBe("STREAM_ENDED");
    expect(err.willReconnect).toBe(true);
    expect(err.status).toBe(200);
    expect(err.headers!.get("content-type")).toBe("text/event-stream");
    expect(s.readyState).toBe(EventSource.CONNECTING);
    await until(() => got.length === 3);
    expect(got).toEqual(["a", "b", "c"]);
    // The unfinished event's id never took effect.
    expect(server.requests[1]!.headers["last-event-id"]).toBe("42");
  });

  test("a network error (socket destroyed) reconnects with code NETWORK", async () => {
    const server = await startServer((req, res, { n }) => {
      if (n === 1) {
        sse(res);
        res.write("id: 1\ndata: a\n\n");
        setTimeout(() => req.socket.destroy(), 10);
        return;
      }
      sse(res);
    });
    const s = open(server.url);
    const err = await once<EventSourceErrorEvent>(s, "error");
    expect(err.code).toBe("NETWORK");
    await until(() => server.requests.length === 2);
    expect(server.requests[1]!.headers["last-event-id"]).toBe("1");
  });

  test("regression: an error in the segment that carried the response head is not lost (reconnects)", async () => {
    // One write: a 200 event-stream head, then a chunk size that is not hex. node:http
    // reports the error between the `response` event and the body reader attaching.
    const server = await startRawServer(
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\nZZZZ\r\ndata: x\n\n\r\n",
    );
    const s = open(server.url);
    const seen: string[] = [];
    s.addEventListener("open", () => seen.push("open"));
    s.addEventListener("error", (e) => {
      const err = e as EventSourceErrorEvent;
      seen.push(`${err.code} willReconnect=${err.willReconnect}`);
      s.close();
    });
    await until(() => seen.length === 2, 1000, "an error event");
    expect(seen).toEqual(["open", "NETWORK willReconnect=true"]);
  });

  test("a refused connection reconnects (NETWORK)", async () => {
    const server = await startServer(() => {});
    const url = server.url;
    await server.close();
    const s = open(url, { reconnect: { initialDelay: 10, maxAttempts: 1 } });
    const errs = errors(s);
    await until(() => s.readyState === EventSource.CLOSED);
    expect(errs.map((e) => e.code)).toEqual(["NETWORK", "MAX_ATTEMPTS"]);
    expect(errs[1]!.cause).toBeInstanceOf(EventSourceError);
  });

  test("a non-ASCII last event id is sent as UTF-8 bytes", async () => {
    const id = "é€😀-ид";
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      if (n === 1) res.end(`id: ${id}\ndata: a\n\n`);
    });
    const s = open(server.url);
    await until(() => server.requests.length === 2);
    expect(lastEventIdOf(server.requests[1]!)).toBe(id);
    expect(s.lastEventId).toBe(id);
  });

  test("an empty id resets it: no Last-Event-ID on the next connect", async () => {
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      if (n === 1) res.end("id: 5\ndata: a\n\nid\ndata: b\n\n");
    });
    open(server.url);
    await until(() => server.requests.length === 2);
    expect(server.requests[1]!.headers["last-event-id"]).toBeUndefined();
  });

  test("an id that cannot be a header value (control character) is not sent; reconnection still works", async () => {
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      if (n === 1) res.end("id: a\u0001b\ndata: x\n\n");
    });
    const s = open(server.url);
    await until(() => server.requests.length === 2);
    expect(s.lastEventId).toBe("a\u0001b");
    expect(server.requests[1]!.headers["last-event-id"]).toBeUndefined();
  });

  test("the lastEventId option is sent from the first request (resume)", async () => {
    const server = await startServer((_req, res) => sse(res));
    const s = open(server.url, { lastEventId: "seq-ü-9" });
    await once(s, "open");
    expect(lastEventIdOf(server.requests[0]!)).toBe("seq-ü-9");
  });

  test("retry: takes effect when its line is read", async () => {
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      // The retry line, then the body ends without a blank line: it still counts.
      if (n === 1) res.end("retry: 30\n");
    });
    const s = open(server.url, { reconnect: { initialDelay: 10_000 } });
    await until(() => server.requests.length === 2, 2000, "reconnect after retry: 30");
    const gap = server.requests[1]!.at - server.requests[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(25);
    expect(gap).toBeLessThan(1500);
    s.close();
  });

  test("regression: a retry: over 2^31 - 1 ms waits (clamped), it does not reconnect within 1 ms", async () => {
    // setTimeout takes a delay over 2^31 - 1 as 1 ms. "9" x 400 is Infinity as a number, and
    // with jitter Infinity - Infinity * r would be NaN (1 ms too).
    for (const retry of ["3000000000", "9".repeat(400)]) {
      const server = await startServer((_req, res) => {
        sse(res);
        res.end(`retry: ${retry}\ndata: x\n\n`);
      });
      const s = open(server.url, { reconnect: { initialDelay: 10, jitter: 0.5 } });
      await once(s, "error");
      await sleep(60);
      expect(server.requests).toHaveLength(1);
      expect(s.readyState).toBe(EventSource.CONNECTING);
      s.close();
    }
  });

  test("regression: an idleTimeout over 2^31 - 1 ms arms one clamped timer, not a busy loop", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.write(":\n");
    });
    const spy = vi.spyOn(globalThis, "setTimeout");
    try {
      const s = open(server.url, { idleTimeout: 3e9 });
      await once(s, "open");
      await sleep(50);
      // Our sleeps use short delays: the long ones are the idle watchdog's.
      const long = spy.mock.calls.map((call) => call[1] ?? 0).filter((ms) => ms > 1e6);
      expect(long).toEqual([2 ** 31 - 1]);
      expect(s.readyState).toBe(EventSource.OPEN);
    } finally {
      spy.mockRestore();
    }
  });

  test("retry: with non-digits is ignored", async () => {
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      if (n === 1) res.end("retry: 1e3\nretry: -5\nretry: 20ms\n");
    });
    open(server.url, { reconnect: { initialDelay: 30 } });
    await until(() => server.requests.length === 2);
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(25);
  });

  test("backoff: factor and maxDelay grow the delay; maxAttempts gives up with MAX_ATTEMPTS", async () => {
    const server = await startServer((req) => req.socket.destroy());
    const s = open(server.url, {
      reconnect: { initialDelay: 20, factor: 1.5, maxDelay: 200, maxAttempts: 3 },
    });
    const errs = errors(s);
    await until(() => s.readyState === EventSource.CLOSED, 5000);
    expect(server.requests).toHaveLength(4); // first try + 3 reconnections
    expect(errs.map((e) => e.code)).toEqual(["NETWORK", "NETWORK", "NETWORK", "MAX_ATTEMPTS"]);
    expect(errs.map((e) => e.willReconnect)).toEqual([true, true, true, false]);
    const gaps = server.requests.slice(1).map((r, i) => r.at - server.requests[i]!.at);
    // 20 (the reconnection time), then growing from max(20, 100): 150, 225 capped to 200.
    expect(gaps[0]).toBeGreaterThanOrEqual(18);
    expect(gaps[0]).toBeLessThan(140);
    expect(gaps[1]).toBeGreaterThanOrEqual(148);
    expect(gaps[2]).toBeGreaterThanOrEqual(198);
    expect(gaps[2]).toBeLessThan(198 + 400);
    expect(s.stats.reconnects).toBe(3);
  });

  test("regression: with factor > 1, a retry: 0 still backs off (growth starts from 100 ms)", async () => {
    const server = await startServer((req, res, { n }) => {
      if (n > 1) return void req.socket.destroy(); // the server is down after the first stream
      sse(res);
      res.end("retry: 0\ndata: x\n\n");
    });
    const s = open(server.url, { reconnect: { factor: 2, maxAttempts: 2 } });
    const errs = errors(s);
    await until(() => s.readyState === EventSource.CLOSED, 2000);
    expect(errs.map((e) => e.code)).toEqual(["STREAM_ENDED", "NETWORK", "MAX_ATTEMPTS"]);
    const gaps = server.requests.slice(1).map((r, i) => r.at - server.requests[i]!.at);
    // 0 (the reconnection time, at once), then max(0, 100) * 2.
    expect(gaps).toHaveLength(2);
    expect(gaps[0]).toBeLessThan(100);
    expect(gaps[1]).toBeGreaterThanOrEqual(198);
  });

  test("with factor 1, a retry: 0 reconnects at once, as the spec says", async () => {
    const server = await startServer((req, res, { n }) => {
      if (n > 1) return void req.socket.destroy();
      sse(res);
      res.end("retry: 0\ndata: x\n\n");
    });
    const s = open(server.url, { reconnect: { maxAttempts: 5 } });
    await until(() => s.readyState === EventSource.CLOSED, 2000);
    expect(server.requests).toHaveLength(6);
    expect(server.requests[5]!.at - server.requests[0]!.at).toBeLessThan(250);
  });

  test("jitter: each delay is scaled by a random factor in [1 - jitter, 1]", async () => {
    const server = await startServer((req) => req.socket.destroy());
    const s = open(server.url, { reconnect: { initialDelay: 60, jitter: 0.5, maxAttempts: 5 } });
    await until(() => s.readyState === EventSource.CLOSED, 5000);
    const gaps = server.requests.slice(1).map((r, i) => r.at - server.requests[i]!.at);
    expect(gaps).toHaveLength(5);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(28);
      expect(gap).toBeLessThan(60 + 300);
    }
  });

  test("maxAttempts: 0 never reconnects", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.end("data: once\n\n");
    });
    const s = open(server.url, { reconnect: { maxAttempts: 0 } });
    const errs = errors(s);
    await until(() => s.readyState === EventSource.CLOSED);
    expect(errs).toHaveLength(1);
    expect(errs[0]!.code).toBe("MAX_ATTEMPTS");
    expect((errs[0]!.cause as EventSourceError).code).toBe("STREAM_ENDED");
    await sleep(40);
    expect(server.requests).toHaveLength(1);
  });

  test("regression: a MAX_ATTEMPTS error carries the number of attempts (event and iterator error)", async () => {
    const server = await startServer((req) => req.socket.destroy());
    for (const maxAttempts of [0, 2]) {
      const s = open(server.url, { reconnect: { initialDelay: 5, maxAttempts } });
      const errs = errors(s);
      let thrown: unknown;
      try {
        for await (const e of s) void e;
      } catch (e) {
        thrown = e;
      }
      const last = errs.at(-1)!;
      expect([last.code, last.attempts]).toEqual(["MAX_ATTEMPTS", maxAttempts]);
      expect(thrown).toBeInstanceOf(EventSourceError);
      expect((thrown as EventSourceError).attempts).toBe(maxAttempts);
      // Only MAX_ATTEMPTS has it.
      expect(errs.slice(0, -1).map((e) => e.attempts)).toEqual(Array(maxAttempts).fill(undefined));
    }
  });

  test("a successful open resets the attempt count", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.end("data: x\n\n");
    });
    const s = open(server.url, { reconnect: { initialDelay: 5, maxAttempts: 1 } });
    await until(() => server.requests.length >= 4);
    expect(s.readyState).not.toBe(EventSource.CLOSED);
  });

  test("idleTimeout: no byte for that long drops the connection and reconnects", async () => {
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      res.write(`id: ${n}\ndata: ${n}\n\n`);
      // then silence (a half-open connection looks like this)
    });
    const s = open(server.url, { idleTimeout: 60 });
    const got = record(s);
    const err = await once<EventSourceErrorEvent>(s, "error");
    expect(err.code).toBe("IDLE_TIMEOUT");
    expect(err.willReconnect).toBe(true);
    await until(() => got.length === 2);
    expect(got).toEqual(["1", "2"]);
    expect(server.requests[1]!.headers["last-event-id"]).toBe("1");
  });

  test("idleTimeout: a stream that keeps sending is not dropped", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      const t = setInterval(() => res.write(":keepalive\n"), 20);
      res.on("close", () => clearInterval(t));
    });
    // A bound far above the keepalive gap: a busy machine can stall a timer for 100 ms.
    const s = open(server.url, { idleTimeout: 400 });
    const errs = errors(s);
    await once(s, "open");
    await sleep(1000);
    expect(errs).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  test("idleTimeout also covers a server that never answers", async () => {
    const server = await startServer(() => {});
    const s = open(server.url, { idleTimeout: 50 });
    const err = await once<EventSourceErrorEvent>(s, "error");
    expect(err.code).toBe("IDLE_TIMEOUT");
  });

  test("regression: idleTimeout also covers a headers function that never settles", async () => {
    const server = await startServer((_req, res) => sse(res));
    let calls = 0;
    const s = open(server.url, {
      idleTimeout: 50,
      headers: () => {
        calls++;
        return new Promise<Record<string, string>>(() => {}); // a token service that hangs
      },
    });
    const err = await once<EventSourceErrorEvent>(s, "error", 1000);
    expect([err.code, err.willReconnect]).toEqual(["IDLE_TIMEOUT", true]);
    await until(() => calls === 2, 1000, "the headers function to be called again");
    expect(server.requests).toHaveLength(0);
  });

  test("regression: without idleTimeout, the clock is not read per chunk", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      let n = 0;
      const t = setInterval(() => {
        // Comment chunks (no event) a few ms apart, then one event.
        res.write(++n < 20 ? ":c\n" : "data: x\n\n");
        if (n === 20) clearInterval(t);
      }, 2);
      res.on("close", () => clearInterval(t));
    });
    const s = open(server.url);
    await once(s, "open");
    const spy = vi.spyOn(Date, "now");
    try {
      const got = record(s);
      while (got.length === 0) await sleep(5);
      // One read, for stats.lastEventAt of the chunk that carried the event.
      expect(spy.mock.calls.length).toBeLessThanOrEqual(1);
      expect(s.stats.lastEventAt).toEqual(expect.any(Number));
    } finally {
      spy.mockRestore();
    }
  });

  test("error events that reconnect say the delay", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.end("retry: 25\ndata: x\n\n");
    });
    const s = open(server.url, { reconnect: { initialDelay: 10, factor: 2 } });
    const errs = errors(s);
    await until(() => errs.length >= 2);
    s.close();
    expect(errs[0]!.delay).toBe(25);
    expect(errs[0]!.willReconnect).toBe(true);
  });
});
