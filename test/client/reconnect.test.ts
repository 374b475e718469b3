/**
 * The reconnect policy (src/client/reconnect.ts): the opt-in retries (retryStatuses,
 * Retry-After, shouldRetry, resetAfter) against real node:http servers on 127.0.0.1.
 */
import { afterEach, describe, expect, test } from "vitest";
import { EventSource, type GiveUpInfo, type ReconnectInfo, type RetryContext } from "../../src/index.js";
import { sse, startServer, until } from "../support/server.js";
import { closeSources, errors, open } from "../support/sources.js";

afterEach(closeSources);

/** 503 with `retryAfter` for the first `failures` requests, then a stream with one event. */
async function deployServer(failures: number, retryAfter: () => string) {
  return startServer((_req, res, { n }) => {
    if (n <= failures) {
      res.writeHead(503, { "retry-after": retryAfter(), "content-type": "text/plain" });
      res.end("deploying");
      return;
    }
    sse(res);
    res.write(`data: up after ${n - 1} failures\n\n`);
  });
}

describe("retryStatuses and Retry-After", () => {
  test("503 with Retry-After (seconds), then recovery: each retry is an error event with the status", async () => {
    const server = await deployServer(2, () => "1");
    const reconnects: ReconnectInfo[] = [];
    const s = open(server.url, {
      reconnect: { initialDelay: 10, maxDelay: 150, retryStatuses: [429, 502, 503, 504] },
      on: { reconnect: (info) => reconnects.push(info) },
    });
    const errs = errors(s);
    const got: string[] = [];
    s.onmessage = (e) => got.push(e.data);
    const start = Date.now();
    await until(() => got.length === 1, 5000);
    expect(got).toEqual(["up after 2 failures"]);
    expect(errs.map((e) => [e.code, e.status, e.willReconnect])).toEqual([
      ["HTTP_STATUS", 503, true],
      ["HTTP_STATUS", 503, true],
    ]);
    // Retry-After: 1 s, capped by maxDelay (150 ms), rather than the 10 ms reconnection time.
    expect(reconnects.map((r) => [r.attempt, r.delay, r.reason, r.retryAfter, r.error.status])).toEqual([
      [1, 150, "HTTP_STATUS", 1000, 503],
      [2, 150, "HTTP_STATUS", 1000, 503],
    ]);
    expect(Date.now() - start).toBeGreaterThanOrEqual(290);
    expect(s.readyState).toBe(EventSource.OPEN);
    expect(s.stats.reconnects).toBe(2);
  });

  test("Retry-After as an HTTP date", async () => {
    const server = await deployServer(1, () => new Date(Date.now() + 3000).toUTCString());
    const reconnects: ReconnectInfo[] = [];
    const s = open(server.url, {
      reconnect: { initialDelay: 10, maxDelay: 100, retryStatuses: [503] },
      on: { reconnect: (info) => reconnects.push(info) },
    });
    await new Promise((r) => s.addEventListener("message", r));
    expect(reconnects).toHaveLength(1);
    expect(reconnects[0]!.retryAfter).toBeGreaterThan(1000);
    expect(reconnects[0]!.retryAfter).toBeLessThanOrEqual(3000);
    expect(reconnects[0]!.delay).toBe(100);
  });

  test("by default a 503 fails for good, as the spec says; giveUp is told", async () => {
    const server = await deployServer(1, () => "0");
    const gaveUp: GiveUpInfo[] = [];
    const s = open(server.url, { reconnect: { initialDelay: 10 }, on: { giveUp: (info) => gaveUp.push(info) } });
    const errs = errors(s);
    await until(() => s.readyState === EventSource.CLOSED);
    expect(errs.map((e) => [e.code, e.status, e.willReconnect])).toEqual([["HTTP_STATUS", 503, false]]);
    expect(gaveUp.map((g) => [g.error.code, g.error.status, g.attempts])).toEqual([["HTTP_STATUS", 503, 0]]);
    expect(server.requests).toHaveLength(1);
  });

  test("maxAttempts bounds status retries: MAX_ATTEMPTS, with the last 503 as cause", async () => {
    const server = await deployServer(100, () => "0");
    const gaveUp: GiveUpInfo[] = [];
    const s = open(server.url, {
      reconnect: { initialDelay: 5, retryStatuses: [503], maxAttempts: 2 },
      on: { giveUp: (info) => gaveUp.push(info) },
    });
    const errs = errors(s);
    await until(() => s.readyState === EventSource.CLOSED);
    expect(errs.map((e) => [e.code, e.willReconnect])).toEqual([
      ["HTTP_STATUS", true],
      ["HTTP_STATUS", true],
      ["MAX_ATTEMPTS", false],
    ]);
    expect(server.requests).toHaveLength(3);
    expect(gaveUp[0]!.error.code).toBe("MAX_ATTEMPTS");
    expect(gaveUp[0]!.attempts).toBe(2);
  });
});

describe("shouldRetry", () => {
  test("has the last word: retries a 404 it chooses, with the context", async () => {
    const server = await startServer((_req, res, { n }) => {
      if (n === 1) {
        res.writeHead(404);
        res.end();
        return;
      }
      sse(res);
      res.write("data: found\n\n");
    });
    const asked: RetryContext[] = [];
    const s = open(server.url, {
      reconnect: { initialDelay: 5, shouldRetry: (c) => (asked.push(c), c.status === 404 ? true : undefined) },
    });
    await new Promise((r) => s.addEventListener("message", r));
    expect(asked.map((c) => [c.status, c.error.code, c.attempt, c.retry])).toEqual([[404, "HTTP_STATUS", 1, false]]);
  });

  test("can refuse a network reconnection (the end of a stream)", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.end("data: once\n\n");
    });
    const asked: RetryContext[] = [];
    const s = open(server.url, { reconnect: { initialDelay: 5, shouldRetry: (c) => (asked.push(c), false) } });
    const errs = errors(s);
    await until(() => s.readyState === EventSource.CLOSED);
    expect(asked.map((c) => [c.error.code, c.status, c.retry])).toEqual([["STREAM_ENDED", 200, true]]);
    expect(errs.map((e) => [e.code, e.willReconnect])).toEqual([["STREAM_ENDED", false]]);
    expect(server.requests).toHaveLength(1);
  });
});

describe("resetAfter", () => {
  // A server that accepts and drops every connection at once: each open resets the count by
  // default, so maxAttempts never ends it; with resetAfter the short connections count.
  const flapping = () =>
    startServer((_req, res) => {
      sse(res);
      res.end();
    });

  test("without it, a connection that opens resets the attempt count", async () => {
    const server = await flapping();
    const s = open(server.url, { reconnect: { initialDelay: 1, maxAttempts: 2 } });
    await until(() => server.requests.length >= 6);
    expect(s.readyState).not.toBe(EventSource.CLOSED);
  });

  test("with it, connections shorter than resetAfter do not, and the source gives up", async () => {
    const server = await flapping();
    const s = open(server.url, { reconnect: { initialDelay: 1, maxAttempts: 2, resetAfter: 10_000 } });
    const errs = errors(s);
    await until(() => s.readyState === EventSource.CLOSED);
    expect(errs.at(-1)!.code).toBe("MAX_ATTEMPTS");
    expect(server.requests).toHaveLength(3);
  });

  test("a connection open for resetAfter ms resets the backoff", async () => {
    let hold = 0;
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      if (n === 3) hold = 120;
      setTimeout(() => res.end(), n === 3 ? hold : 0);
    });
    const reconnects: ReconnectInfo[] = [];
    const s = open(server.url, {
      reconnect: { initialDelay: 1, resetAfter: 100 },
      on: { reconnect: (r) => reconnects.push(r) },
    });
    await until(() => reconnects.length >= 4, 5000);
    s.close();
    // A fifth attempt may come before close(): the first four tell the story.
    expect(reconnects.slice(0, 4).map((r) => r.attempt)).toEqual([1, 2, 1, 2]);
  });
});
