/**
 * EventSource's options at work (headers, method and body, engine, maxEventSize, stats) and
 * the constructor's refusals, against real node:http servers on 127.0.0.1.
 */
import { afterEach, describe, expect, test } from "vitest";
import { EventSource, EventSourceErrorEvent, type EventSourceOptions } from "../../src/index.js";
import { ParseError } from "../../src/parser/errors.js";
import { once, sleep, sse, startServer, until } from "../support/server.js";
import { closeSources, errors, open, record } from "../support/sources.js";

afterEach(closeSources);

describe("options", () => {
  test("headers function is called on every (re)connect (rotating token)", async () => {
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      if (n < 3) res.end(`id: ${n}\ndata: ${n}\n\n`);
    });
    let calls = 0;
    const s = open(server.url, {
      headers: async () => {
        calls++;
        await sleep(1);
        return { authorization: `Bearer token-${calls}` };
      },
    });
    await until(() => server.requests.length === 3);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([
      "Bearer token-1",
      "Bearer token-2",
      "Bearer token-3",
    ]);
    expect(calls).toBe(3);
    await until(() => s.readyState === EventSource.OPEN);
  });

  test("headers: a Headers object and a sync function work; Last-Event-ID stays ours", async () => {
    const server = await startServer((_req, res) => sse(res));
    const a = open(server.url, { headers: new Headers({ "x-a": "1" }), lastEventId: "L" });
    const b = open(server.url, { headers: () => ({ "x-b": "2", "last-event-id": "forged" }) });
    await Promise.all([once(a, "open"), once(b, "open")]);
    const byHeader = (k: string) => server.requests.find((r) => r.headers[k] !== undefined)!;
    expect(byHeader("x-a").headers["last-event-id"]).toBe("L");
    expect(byHeader("x-b").headers["last-event-id"]).toBeUndefined();
  });

  test("a headers function that throws is an error event (HEADERS) and is retried", async () => {
    const server = await startServer((_req, res) => sse(res));
    let calls = 0;
    const s = open(server.url, {
      headers: () => {
        if (++calls === 1) throw new Error("token service down");
        return { authorization: "Bearer ok" };
      },
    });
    const err = await once<EventSourceErrorEvent>(s, "error");
    expect(err.code).toBe("HEADERS");
    expect(err.willReconnect).toBe(true);
    await once(s, "open");
    expect(server.requests[0]!.headers.authorization).toBe("Bearer ok");
  });

  test("method and body are sent (and again on reconnection)", async () => {
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      if (n === 1) res.end();
    });
    open(server.url, { method: "POST", body: '{"subscribe":["a"]}', headers: { "content-type": "application/json" } });
    await until(() => server.requests.length === 2);
    for (const r of server.requests) {
      expect(r).toMatchObject({ method: "POST", body: '{"subscribe":["a"]}' });
      expect(r.headers["content-type"]).toBe("application/json");
    }
  });

  test("engine option passes through to the parser", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.write("data: x\n\n");
    });
    const s = open(server.url, { engine: "js" });
    expect(s.engine).toBe("js");
    expect(s.engineOption).toBe("js");
    await once(s, "message");
    const auto = open(server.url);
    expect(auto.engineOption).toBe("auto");
    expect(["js", "wasm"]).toContain(auto.engine);
  });

  test("maxEventSize: an oversized event is an EVENT_TOO_LARGE error event, then the stream goes on", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.write(`data: small\n\ndata: ${"x".repeat(500)}\n\ndata: after\n\n`);
    });
    const s = open(server.url, { maxEventSize: 100 });
    const got = record(s);
    const errs = errors(s);
    await until(() => got.length === 2);
    expect(got).toEqual(["small", "after"]);
    expect(errs).toHaveLength(1);
    expect(errs[0]!.code).toBe("EVENT_TOO_LARGE");
    expect(errs[0]!.cause).toBeInstanceOf(ParseError);
    expect(errs[0]!.willReconnect).toBe(false);
    expect(s.readyState).toBe(EventSource.OPEN);
    expect(server.requests).toHaveLength(1);
  });

  test("invalid options throw from the constructor", () => {
    expect(() => new EventSource("http://127.0.0.1:1/", { reconnect: { jitter: 2 } })).toThrow(RangeError);
    expect(() => new EventSource("http://127.0.0.1:1/", { idleTimeout: -1 })).toThrow(RangeError);
    expect(() => new EventSource("http://127.0.0.1:1/", { maxEventSize: 0 })).toThrow(RangeError);
    expect(() => new EventSource("http://127.0.0.1:1/", { engine: "rust" as "js" })).toThrow(TypeError);
  });

  test("regression: non-finite delays, a factor below 1 and non-numbers are refused at construction", () => {
    const make = (init: EventSourceOptions) => () => new EventSource("http://127.0.0.1:1/", init).close();
    for (const bad of [Infinity, NaN]) {
      expect(make({ idleTimeout: bad })).toThrow(RangeError);
      expect(make({ reconnect: { initialDelay: bad } })).toThrow(RangeError);
      expect(make({ reconnect: { maxDelay: bad } })).toThrow(RangeError);
      expect(make({ reconnect: { factor: bad } })).toThrow(RangeError);
    }
    expect(make({ reconnect: { factor: 0.5 } })).toThrow(/reconnect.factor must be a number >= 1/);
    expect(make({ idleTimeout: "100" as unknown as number })).toThrow(TypeError);
    expect(make({ reconnect: { initialDelay: "1s" as unknown as number } })).toThrow(TypeError);
    // Long but finite is fine (clamped to 2^31 - 1 ms by the timers); counts may be Infinity.
    expect(make({ idleTimeout: 3e9, reconnect: { initialDelay: 3e9, maxAttempts: Infinity } })).not.toThrow();
  });

  test("stats: events, bytes, connections, reconnects, dropped, parseErrors, lastEventAt, engine", async () => {
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      if (n === 1) res.end("data: a\n\ndata: b\n\n");
      else res.write("data: c\n\n");
    });
    const s = open(server.url);
    expect(s.stats).toEqual({
      events: 0,
      bytes: 0,
      connections: 0,
      reconnects: 0,
      dropped: 0,
      parseErrors: 0,
      lastEventAt: null,
      engine: s.engine,
    });
    const got = record(s);
    await until(() => got.length === 3);
    const stats = s.stats;
    expect(stats.connections).toBe(2);
    expect(stats.reconnects).toBe(1);
    expect(stats.bytes).toBe(18 + 9);
    expect(stats.events).toBe(3);
    expect(typeof stats.lastEventAt).toBe("number");
    expect(s.stats).not.toBe(stats); // a snapshot
  });
});
