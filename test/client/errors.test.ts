// The errors a source reports (src/client/errors.ts): the error event, the error an iterator
// throws, and errorMessage, which must describe anything thrown without throwing itself.
import { describe, expect, test } from "vitest";
import { errorMessage, EventSourceError, EventSourceErrorEvent, responseInfo } from "../../src/client/errors.js";

describe("EventSourceErrorEvent and EventSourceError", () => {
  const headers = new Headers({ "retry-after": "5" });
  const cause = new Error("ECONNRESET");

  test("the event is an Event of type error with every detail; willReconnect defaults to false", () => {
    const e = new EventSourceErrorEvent({ code: "HTTP_STATUS", message: "m", status: 503, statusText: "Unavailable", headers, cause, delay: 10 });
    expect(e).toBeInstanceOf(Event);
    expect(e.type).toBe("error");
    expect([e.code, e.message, e.status, e.statusText, e.headers, e.cause, e.delay, e.attempts, e.willReconnect]).toEqual([
      "HTTP_STATUS",
      "m",
      503,
      "Unavailable",
      headers,
      cause,
      10,
      undefined,
      false,
    ]);
    expect(new EventSourceErrorEvent({ code: "NETWORK", message: "m", willReconnect: true }).willReconnect).toBe(true);
  });

  test("the error is an Error named EventSourceError, with the cause only when there is one", () => {
    const e = new EventSourceError({ code: "MAX_ATTEMPTS", message: "gave up", attempts: 3, status: 503, headers, cause });
    expect(e).toBeInstanceOf(Error);
    expect([e.name, e.message, e.code, e.attempts, e.status, e.headers, e.cause]).toEqual(["EventSourceError", "gave up", "MAX_ATTEMPTS", 3, 503, headers, cause]);
    expect(String(e)).toBe("EventSourceError: gave up");
    expect("cause" in new EventSourceError({ code: "NETWORK", message: "m" })).toBe(false);
  });
});

describe("errorMessage", () => {
  test("an error's message, its code first when the message lacks it, and its causes", () => {
    expect(errorMessage(new Error("boom"))).toBe("boom");
    const refused = Object.assign(new Error("connect failed"), { code: "ECONNREFUSED" });
    expect(errorMessage(refused)).toBe("ECONNREFUSED connect failed");
    const said = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" });
    expect(errorMessage(said)).toBe("connect ECONNREFUSED 127.0.0.1:9");
    expect(errorMessage(new TypeError("fetch failed", { cause: refused }))).toBe("fetch failed (ECONNREFUSED connect failed)");
  });

  test("a chain of causes stops after four; a cycle does not loop", () => {
    let e = new Error("e0");
    for (let i = 1; i <= 6; i++) e = new Error(`e${i}`, { cause: e });
    expect(errorMessage(e)).toBe("e6 (e5 (e4 (e3 (e2))))");
    const self = new Error("self");
    (self as { cause?: unknown }).cause = self;
    expect(errorMessage(self)).toBe("self (self (self (self (self))))");
  });

  test("anything else is its String(); what cannot be described is said so, never thrown", () => {
    expect(errorMessage("plain")).toBe("plain");
    expect(errorMessage(42)).toBe("42");
    expect(errorMessage(undefined)).toBe("undefined");
    expect(errorMessage(Object.create(null))).toBe("(a thrown object that cannot be described)");
    const getter = new Error("x");
    Object.defineProperty(getter, "message", {
      get() {
        throw new Error("no");
      },
    });
    expect(errorMessage(getter)).toBe("(a thrown object that cannot be described)");
  });
});

test("responseInfo takes the status, its text and the headers of a response", () => {
  const headers = new Headers({ a: "1" });
  const response = { status: 418, statusText: "Teapot", headers: () => headers } as never;
  expect(responseInfo(response)).toEqual({ status: 418, statusText: "Teapot", headers });
});
