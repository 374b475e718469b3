// Attempt on its own, over a response whose body the test drives: chunks go to Delivery.chunk
// until the attempt ends, the body's end and errors become failures, the idle watchdog, and
// pause/resume.
import { afterEach, describe, expect, test, vi } from "vitest";
import { Attempt } from "../../src/client/attempt.js";
import type { Delivery } from "../../src/client/delivery.js";
import type { EventSourceErrorInit } from "../../src/client/errors.js";
import type { BodySink, TransportResponse } from "../../src/client/transport/types.js";

function response() {
  const calls: string[] = [];
  let sink: BodySink | null = null;
  const res: TransportResponse = {
    status: 200,
    statusText: "OK",
    header: () => null,
    headers: () => new Headers(),
    read: (s) => void (sink = s),
    pause: () => void calls.push("pause"),
    resume: () => void calls.push("resume"),
    cancel: () => void calls.push("cancel"),
  };
  return { res, calls, sink: () => sink! };
}

/** Stands in for Delivery: records chunks, and takes a chunk that starts with "data" as an event. */
function recorder() {
  const chunks: { text: string; now: number }[] = [];
  const sink = {
    lastEventAt: null as number | null,
    chunk(bytes: Uint8Array, now: number): void {
      const text = new TextDecoder().decode(bytes);
      chunks.push({ text, now });
      if (text.startsWith("data")) this.lastEventAt = Date.now();
    },
  };
  return { delivery: sink as unknown as Delivery, chunks };
}

afterEach(() => void vi.useRealTimers());

describe("Attempt.read", () => {
  test("each chunk goes to delivery.chunk, with the clock read only when an idle watchdog needs it", () => {
    for (const idleTimeout of [0, 5000]) {
      const attempt = new Attempt(idleTimeout, 0, () => {});
      const { res, sink } = response();
      const { delivery, chunks } = recorder();
      attempt.response = res;
      attempt.read(delivery, () => {});
      sink().onData(new TextEncoder().encode("data: a\n\n"));
      expect(chunks.map((c) => c.text)).toEqual(["data: a\n\n"]);
      if (idleTimeout === 0) expect(chunks[0]!.now).toBe(0);
      else expect(chunks[0]!.now).toBe(attempt.lastChunkAt);
      attempt.end();
    }
  });

  test("after end(), no chunk, end or error reaches the source", () => {
    const attempt = new Attempt(0, 0, () => {});
    const { res, sink, calls } = response();
    const { delivery, chunks } = recorder();
    const failures: EventSourceErrorInit[] = [];
    attempt.response = res;
    attempt.read(delivery, (init) => failures.push(init));
    const body = sink();
    attempt.end();
    expect(calls).toEqual(["cancel"]);
    expect(attempt.controller.signal.aborted).toBe(true);
    body.onData(new Uint8Array([100]));
    body.onEnd();
    body.onError(new Error("late"));
    expect(chunks).toEqual([]);
    expect(failures).toEqual([]);
  });

  test("the body's end is STREAM_ENDED, its error NETWORK with the cause", () => {
    for (const ending of ["end", "error"] as const) {
      const attempt = new Attempt(0, 0, () => {});
      const { res, sink } = response();
      const failures: EventSourceErrorInit[] = [];
      attempt.response = res;
      attempt.read(recorder().delivery, (init) => failures.push(init));
      const cause = new Error("reset");
      if (ending === "end") sink().onEnd();
      else sink().onError(cause);
      expect(failures).toHaveLength(1);
      expect(failures[0]!.code).toBe(ending === "end" ? "STREAM_ENDED" : "NETWORK");
      expect(failures[0]!.status).toBe(200);
      if (ending === "error") expect(failures[0]!.cause).toBe(cause);
    }
  });
});

describe("Attempt's idle watchdog", () => {
  test("fires once no byte came for idleTimeout ms; each chunk moves the deadline", () => {
    vi.useFakeTimers();
    let idle = 0;
    const attempt = new Attempt(1000, 0, () => idle++);
    const { res, sink } = response();
    attempt.response = res;
    attempt.watchIdle();
    attempt.read(recorder().delivery, () => {});
    vi.advanceTimersByTime(900);
    sink().onData(new Uint8Array([58, 10]));
    vi.advanceTimersByTime(900);
    expect(idle).toBe(0);
    vi.advanceTimersByTime(100);
    expect(idle).toBe(1);
    attempt.end();
  });

  test("does not fire while paused by backpressure, and re-arms on resume", () => {
    vi.useFakeTimers();
    let idle = 0;
    const attempt = new Attempt(1000, 0, () => idle++);
    const { res, calls } = response();
    attempt.response = res;
    attempt.watchIdle();
    attempt.pause();
    attempt.pause();
    expect(attempt.paused).toBe(true);
    vi.advanceTimersByTime(5000);
    expect(idle).toBe(0);
    attempt.resume();
    expect(calls).toEqual(["pause", "resume"]);
    vi.advanceTimersByTime(999);
    expect(idle).toBe(0);
    vi.advanceTimersByTime(1);
    expect(idle).toBe(1);
    attempt.end();
  });

  test("ending the attempt stops the watchdog", () => {
    vi.useFakeTimers();
    let idle = 0;
    const attempt = new Attempt(1000, 0, () => idle++);
    attempt.watchIdle();
    attempt.end();
    vi.advanceTimersByTime(5000);
    expect(idle).toBe(0);
  });
});

describe("Attempt's event watchdog (eventTimeout)", () => {
  test("heartbeats do not keep it quiet: no event for eventTimeout ms since the open is EVENT_TIMEOUT", () => {
    vi.useFakeTimers();
    const timeouts: EventSourceErrorInit[] = [];
    const attempt = new Attempt(0, 1000, (init) => timeouts.push(init));
    const { res, sink } = response();
    attempt.response = res;
    attempt.read(recorder().delivery, () => {});
    for (let i = 0; i < 9; i++) {
      vi.advanceTimersByTime(100);
      sink().onData(new TextEncoder().encode(":\n"));
    }
    expect(timeouts).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(timeouts.map((t) => t.code)).toEqual(["EVENT_TIMEOUT"]);
    attempt.end();
  });

  test("each event moves the deadline; a pause by backpressure does not count", () => {
    vi.useFakeTimers();
    const timeouts: EventSourceErrorInit[] = [];
    const attempt = new Attempt(0, 1000, (init) => timeouts.push(init));
    const { res, sink } = response();
    attempt.response = res;
    attempt.read(recorder().delivery, () => {});
    vi.advanceTimersByTime(800);
    sink().onData(new TextEncoder().encode("data: x\n\n"));
    vi.advanceTimersByTime(800);
    expect(timeouts).toEqual([]);
    attempt.pause();
    vi.advanceTimersByTime(5000);
    expect(timeouts).toEqual([]);
    attempt.resume();
    vi.advanceTimersByTime(999);
    expect(timeouts).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(timeouts.map((t) => t.code)).toEqual(["EVENT_TIMEOUT"]);
    attempt.end();
  });

  test("not armed before the body is read (the connect phase is idleTimeout's)", () => {
    vi.useFakeTimers();
    const timeouts: EventSourceErrorInit[] = [];
    const attempt = new Attempt(0, 100, (init) => timeouts.push(init));
    vi.advanceTimersByTime(1000);
    expect(timeouts).toEqual([]);
    attempt.end();
  });
});
