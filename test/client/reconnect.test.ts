/**
 * The reconnect policy (src/client/reconnect.ts): its delays exactly, as a pure function of
 * the attempt, the settings, the reconnection time, Retry-After and the random source; the
 * policy's decisions; and the opt-in retries (retryStatuses, Retry-After, shouldRetry,
 * resetAfter) through EventSource against real node:http servers on 127.0.0.1.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import type { EventSourceErrorInit } from "../../src/client/errors.js";
import { reconnectSettings, type ReconnectOptions } from "../../src/client/options.js";
import { ReconnectPolicy, reconnectDelay } from "../../src/client/reconnect.js";
import { MAX_TIMER_DELAY } from "../../src/client/timers.js";
import { EventSource, type GiveUpInfo, type ReconnectInfo, type RetryContext } from "../../src/index.js";
import { sse, startServer, until } from "../support/server.js";
import { closeSources, errors, open } from "../support/sources.js";
import { uncaughtDuring } from "../support/uncaught.js";

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

/** The delays of attempts 1..n in a row, with no Retry-After. */
function delays(n: number, options: ReconnectOptions, reconnectionTime: number, random = () => 0): number[] {
  const settings = reconnectSettings(options);
  return Array.from({ length: n }, (_, k) => reconnectDelay(k + 1, settings, reconnectionTime, undefined, random));
}

/** Just under 1: the largest number Math.random can return. */
const ALMOST_ONE = 1 - 2 ** -53;

describe("reconnectDelay", () => {
  test("factor 1 (the spec's): every attempt waits the reconnection time", () => {
    expect(delays(5, {}, 250)).toEqual([250, 250, 250, 250, 250]);
    expect(delays(3, { maxDelay: 10 }, 250)).toEqual([250, 250, 250]);
  });

  test("backoff: the first attempt waits the reconnection time, then it grows by the factor", () => {
    expect(delays(5, { factor: 2 }, 250)).toEqual([250, 500, 1000, 2000, 4000]);
    expect(delays(4, { factor: 1.5 }, 1000)).toEqual([1000, 1500, 2250, 3375]);
    expect(delays(3, { factor: 3 }, 400)).toEqual([400, 1200, 3600]);
  });

  test("maxDelay caps the backoff at every attempt after it is reached", () => {
    expect(delays(7, { factor: 2, maxDelay: 1000 }, 100)).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    expect(delays(4, { factor: 10, maxDelay: 2500 }, 300)).toEqual([300, 2500, 2500, 2500]);
    // The default cap: 30 s.
    expect(delays(10, { factor: 2 }, 1000).slice(5)).toEqual([30_000, 30_000, 30_000, 30_000, 30_000]);
  });

  test("maxDelay never shortens the reconnection time itself (a server's retry:)", () => {
    expect(delays(3, { factor: 2, maxDelay: 1000 }, 5000)).toEqual([5000, 5000, 5000]);
    expect(delays(2, { maxDelay: 1000 }, 5000)).toEqual([5000, 5000]);
  });

  test("with factor > 1 a reconnection time of 0 grows from 100 ms; with factor 1 it stays 0", () => {
    expect(delays(4, { factor: 2 }, 0)).toEqual([0, 200, 400, 800]);
    expect(delays(3, { factor: 2 }, 40)).toEqual([40, 200, 400]);
    expect(delays(3, {}, 0)).toEqual([0, 0, 0]);
  });

  test("a delay over 2^31 - 1 ms is clamped to it (a timer would take it as 1 ms), before the jitter", () => {
    expect(delays(2, {}, 1e300)).toEqual([MAX_TIMER_DELAY, MAX_TIMER_DELAY]);
    expect(delays(1, {}, Infinity)).toEqual([MAX_TIMER_DELAY]);
    expect(delays(40, { factor: 2, maxDelay: 2 ** 40 }, 1000)[39]).toBe(MAX_TIMER_DELAY);
    expect(delays(1, { jitter: 0.5 }, Infinity, () => 0.5)).toEqual([MAX_TIMER_DELAY * 0.75]);
  });

  test("Retry-After replaces the computed delay, capped by maxDelay, and is not jittered", () => {
    const settings = reconnectSettings({ factor: 2, maxDelay: 10_000, jitter: 1 });
    for (const attempt of [1, 2, 5]) {
      expect(reconnectDelay(attempt, settings, 250, 7000, () => 0.5)).toBe(7000);
      expect(reconnectDelay(attempt, settings, 250, 60_000, () => 0.5)).toBe(10_000);
      expect(reconnectDelay(attempt, settings, 250, 0, () => 0.5)).toBe(0);
    }
    expect(reconnectDelay(1, reconnectSettings({ maxDelay: 2 ** 40 }), 250, 2 ** 35, Math.random)).toBe(MAX_TIMER_DELAY);
  });

  describe.each([0.1, 0.5, 1])("jitter %s", (jitter) => {
    const options = { factor: 2, maxDelay: 5000, jitter };
    const unjittered = delays(8, { factor: 2, maxDelay: 5000 }, 300);

    test("each delay is the unjittered one times (1 - jitter * random)", () => {
      expect(unjittered).toEqual([300, 600, 1200, 2400, 4800, 5000, 5000, 5000]);
      expect(delays(8, options, 300, () => 0)).toEqual(unjittered);
      expect(delays(8, options, 300, () => 0.5)).toEqual(unjittered.map((d) => d - d * jitter * 0.5));
    });

    test.each([0, 0.25, 0.5, 0.75, ALMOST_ONE])("random %s: every delay lies in [(1 - jitter) * delay, delay]", (r) => {
      const jittered = delays(8, options, 300, () => r);
      jittered.forEach((d, k) => {
        expect(d).toBeLessThanOrEqual(unjittered[k]!);
        expect(d).toBeGreaterThanOrEqual(unjittered[k]! * (1 - jitter));
      });
      if (r > 0) jittered.forEach((d, k) => expect(d).toBeLessThan(unjittered[k]!));
      if (r === ALMOST_ONE) jittered.forEach((d, k) => expect(d).toBeCloseTo(unjittered[k]! * (1 - jitter), 6));
    });
  });
});

describe("ReconnectPolicy", () => {
  const network: EventSourceErrorInit = { code: "NETWORK", message: "ECONNRESET" };
  const status = (code: number, retryAfter?: string): EventSourceErrorInit => ({
    code: "HTTP_STATUS",
    message: `status ${code}`,
    status: code,
    headers: new Headers(retryAfter === undefined ? {} : { "retry-after": retryAfter }),
  });
  const delayOf = (answer: ReturnType<ReconnectPolicy["next"]>) => (answer.final === null ? answer.delay : answer.final.code);

  test("counts attempts in a row and backs off from the reconnection time; opened() starts again", () => {
    const policy = new ReconnectPolicy(reconnectSettings({ initialDelay: 200, factor: 2, jitter: 0.5 }), () => 0.5);
    expect([1, 2, 3].map(() => delayOf(policy.next(network, true)))).toEqual([150, 300, 600]);
    expect(policy.attempts).toBe(3);
    policy.reconnectionTime = 1000;
    expect(delayOf(policy.next(network, true))).toBe(6000);
    policy.opened();
    expect(policy.attempts).toBe(0);
    expect(delayOf(policy.next(network, true))).toBe(750);
  });

  test("maxAttempts: the next failure past it is MAX_ATTEMPTS, with the count and the last failure", () => {
    const policy = new ReconnectPolicy(reconnectSettings({ initialDelay: 10, maxAttempts: 2 }));
    expect(delayOf(policy.next(network, true))).toBe(10);
    expect(delayOf(policy.next(network, true))).toBe(10);
    expect(policy.exhausted).toBe(true);
    const answer = policy.next(network, true);
    expect(answer.final).toMatchObject({ code: "MAX_ATTEMPTS", attempts: 2 });
    expect(answer.final!.message).toContain("ECONNRESET");
    expect(policy.attempts).toBe(2);
  });

  test("a status fails for good unless retryStatuses has it; Retry-After (seconds) sets the delay", () => {
    const plain = new ReconnectPolicy(reconnectSettings({ initialDelay: 10 }));
    expect(plain.next(status(503, "2"), false).final).toMatchObject({ code: "HTTP_STATUS", status: 503 });
    expect(plain.attempts).toBe(0);
    const policy = new ReconnectPolicy(reconnectSettings({ initialDelay: 10, retryStatuses: [503], maxDelay: 5000 }));
    expect(policy.next(status(503, "2"), false)).toEqual({ final: null, delay: 2000, retryAfter: 2000 });
    expect(policy.next(status(503, " 9 "), false)).toEqual({ final: null, delay: 5000, retryAfter: 9000 });
    expect(policy.next(status(503), false)).toEqual({ final: null, delay: 10, retryAfter: undefined });
    expect(policy.next(status(503, "soon"), false)).toEqual({ final: null, delay: 10, retryAfter: undefined });
    expect(policy.next(status(404, "1"), false).final).toMatchObject({ status: 404 });
  });

  test("Retry-After as an HTTP date: the time until it, 0 when past", () => {
    vi.useFakeTimers({ now: Date.parse("2026-01-01T00:00:00Z") });
    try {
      const policy = new ReconnectPolicy(reconnectSettings({ initialDelay: 10, retryStatuses: [503] }));
      expect(policy.next(status(503, "Thu, 01 Jan 2026 00:00:07 GMT"), false)).toMatchObject({ delay: 7000, retryAfter: 7000 });
      expect(policy.next(status(503, "Wed, 31 Dec 2025 23:00:00 GMT"), false)).toMatchObject({ delay: 0, retryAfter: 0 });
    } finally {
      vi.useRealTimers();
    }
  });

  test("shouldRetry has the last word and is told the attempt; a throw keeps the policy's answer", async () => {
    const asked: unknown[] = [];
    const policy = new ReconnectPolicy(
      reconnectSettings({
        initialDelay: 10,
        shouldRetry: ({ status: code, attempt, retry }) => {
          asked.push([code, attempt, retry]);
          if (code === 404) return true;
          if (code === 500) throw new Error("hook failed");
          return undefined;
        },
      }),
    );
    expect(delayOf(policy.next(status(404), false))).toBe(10);
    expect(delayOf(policy.next(network, true))).toBe(10);
    const uncaught = await uncaughtDuring(() => expect(delayOf(policy.next(status(500), false))).toBe("HTTP_STATUS"));
    expect(asked).toEqual([
      [404, 1, false],
      [undefined, 2, true],
      [500, 3, false],
    ]);
    expect(uncaught).toEqual([new Error("hook failed")]);
  });

  test("resetAfter: only a connection open that long resets the count", () => {
    vi.useFakeTimers({ now: 1_000_000 });
    try {
      const policy = new ReconnectPolicy(reconnectSettings({ initialDelay: 10, resetAfter: 500 }));
      policy.next(network, true);
      policy.next(network, true);
      policy.opened();
      vi.setSystemTime(1_000_499);
      policy.ended();
      expect(policy.attempts).toBe(2);
      policy.opened();
      vi.setSystemTime(1_001_000);
      policy.ended();
      expect(policy.attempts).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  test("wait() runs the reconnection after the delay; cancel() stops it", async () => {
    const policy = new ReconnectPolicy(reconnectSettings({}));
    let ran = 0;
    policy.wait(0, () => ran++);
    expect(policy.waiting).toBe(true);
    policy.cancel();
    expect(policy.waiting).toBe(false);
    policy.wait(1, () => ran++);
    await new Promise((r) => setTimeout(r, 20));
    expect(ran).toBe(1);
    expect(policy.waiting).toBe(false);
  });
});

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
