// The option checks (src/client/options.ts): every reconnect setting, the iterators'
// settings, the numeric helpers and the hooks, with the errors and messages they throw.
import { describe, expect, test } from "vitest";
import {
  consumerSettings,
  DEFAULT_MAX_BUFFERED,
  DEFAULT_MAX_DELAY,
  DEFAULT_RECONNECTION_TIME,
  finiteOption,
  hooksOption,
  numberOption,
  reconnectSettings,
} from "../../src/client/options.js";

describe("numberOption and finiteOption", () => {
  test("absent (undefined or null) is the fallback; a number at or above min is itself", () => {
    expect(numberOption(undefined, 7, "n")).toBe(7);
    expect(numberOption(null, 7, "n")).toBe(7);
    expect(numberOption(0, 7, "n")).toBe(0);
    expect(numberOption(2, 7, "n", 2)).toBe(2);
    expect(numberOption(Infinity, 7, "n")).toBe(Infinity);
    expect(finiteOption(1.5, 7, "n", 1)).toBe(1.5);
  });

  test("not a number is a TypeError; NaN or below min a RangeError; finiteOption refuses Infinity", () => {
    expect(() => numberOption("3", 7, "n")).toThrow(new TypeError("n must be a number, got string"));
    expect(() => numberOption(3n, 7, "n")).toThrow(new TypeError("n must be a number, got bigint"));
    expect(() => numberOption(NaN, 7, "n")).toThrow(new RangeError("n must be a number >= 0, got NaN"));
    expect(() => numberOption(-1, 7, "n")).toThrow(new RangeError("n must be a number >= 0, got -1"));
    expect(() => numberOption(1.5, 7, "n", 2)).toThrow(new RangeError("n must be a number >= 2, got 1.5"));
    expect(() => finiteOption(Infinity, 7, "d")).toThrow(new RangeError("d must be finite, got Infinity"));
    expect(() => finiteOption(-Infinity, 7, "d")).toThrow(RangeError);
  });
});

describe("reconnectSettings", () => {
  test("the defaults: 3 s, a 30 s cap, factor 1, no jitter, unbounded attempts, no statuses, no hook, reset on open", () => {
    const settings = reconnectSettings();
    expect(settings).toEqual({
      initialDelay: DEFAULT_RECONNECTION_TIME,
      maxDelay: DEFAULT_MAX_DELAY,
      factor: 1,
      jitter: 0,
      maxAttempts: Infinity,
      retryStatuses: new Set(),
      shouldRetry: null,
      resetAfter: 0,
    });
    expect([DEFAULT_RECONNECTION_TIME, DEFAULT_MAX_DELAY]).toEqual([3000, 30_000]);
    expect(reconnectSettings({ initialDelay: undefined, jitter: undefined })).toEqual(settings);
  });

  test("every option is taken as given", () => {
    const shouldRetry = () => true;
    expect(
      reconnectSettings({
        initialDelay: 10,
        maxDelay: 20,
        factor: 1.5,
        jitter: 1,
        maxAttempts: 0,
        retryStatuses: [429, 503, 503],
        shouldRetry,
        resetAfter: 5,
      }),
    ).toEqual({
      initialDelay: 10,
      maxDelay: 20,
      factor: 1.5,
      jitter: 1,
      maxAttempts: 0,
      retryStatuses: new Set([429, 503]),
      shouldRetry,
      resetAfter: 5,
    });
  });

  test.each([
    [{ initialDelay: -1 }, RangeError, "reconnect.initialDelay must be a number >= 0, got -1"],
    [{ initialDelay: Infinity }, RangeError, "reconnect.initialDelay must be finite, got Infinity"],
    [{ initialDelay: "5" }, TypeError, "reconnect.initialDelay must be a number, got string"],
    [{ maxDelay: NaN }, RangeError, "reconnect.maxDelay must be a number >= 0, got NaN"],
    [{ maxDelay: Infinity }, RangeError, "reconnect.maxDelay must be finite, got Infinity"],
    [{ factor: 0.5 }, RangeError, "reconnect.factor must be a number >= 1, got 0.5"],
    [{ factor: Infinity }, RangeError, "reconnect.factor must be finite, got Infinity"],
    [{ jitter: -0.1 }, RangeError, "reconnect.jitter must be a number >= 0, got -0.1"],
    [{ jitter: 1.01 }, RangeError, "reconnect.jitter must be between 0 and 1"],
    [{ maxAttempts: -1 }, RangeError, "reconnect.maxAttempts must be a number >= 0, got -1"],
    [{ maxAttempts: "3" }, TypeError, "reconnect.maxAttempts must be a number, got string"],
    [{ resetAfter: Infinity }, RangeError, "reconnect.resetAfter must be finite, got Infinity"],
    [{ retryStatuses: [200] }, RangeError, "reconnect.retryStatuses: 200 is not an HTTP status other than 200"],
    [{ retryStatuses: [99] }, RangeError, "reconnect.retryStatuses: 99 is not an HTTP status other than 200"],
    [{ retryStatuses: [600] }, RangeError, "reconnect.retryStatuses: 600 is not an HTTP status other than 200"],
    [{ retryStatuses: [503.5] }, RangeError, "reconnect.retryStatuses: 503.5 is not an HTTP status other than 200"],
    [{ retryStatuses: ["503"] }, RangeError, "reconnect.retryStatuses: 503 is not an HTTP status other than 200"],
    [{ shouldRetry: true }, TypeError, "reconnect.shouldRetry must be a function"],
  ])("%j throws %s", (options, type, message) => {
    expect(() => reconnectSettings(options as never)).toThrow(new (type as typeof Error)(message));
  });

  test("the bounds themselves are allowed: jitter 0 and 1, statuses 100 and 599, factor 1", () => {
    expect(() => reconnectSettings({ jitter: 0, retryStatuses: [100, 599], factor: 1 })).not.toThrow();
    expect(reconnectSettings({ jitter: 1 }).jitter).toBe(1);
  });
});

describe("consumerSettings", () => {
  test("the defaults: every type, 10,000 events, block, no key", () => {
    expect(consumerSettings({})).toEqual({ types: null, bufferSize: DEFAULT_MAX_BUFFERED, overflow: "block", key: null });
    expect(DEFAULT_MAX_BUFFERED).toBe(10_000);
  });

  test("types become a set; bufferSize wins over the deprecated maxBuffered, which still works alone", () => {
    const key = (e: { type: string }) => e.type;
    expect(consumerSettings({ types: ["a", "b", "a"], bufferSize: 5, maxBuffered: 9, overflow: "latest-by-key", key })).toEqual({
      types: new Set(["a", "b"]),
      bufferSize: 5,
      overflow: "latest-by-key",
      key,
    });
    expect(consumerSettings({ maxBuffered: 9 }).bufferSize).toBe(9);
    expect(consumerSettings({ types: [] }).types).toEqual(new Set());
  });

  test.each([
    [{ bufferSize: 0 }, RangeError, "bufferSize must be a number >= 1, got 0"],
    [{ maxBuffered: 0 }, RangeError, "bufferSize must be a number >= 1, got 0"],
    [{ bufferSize: "5" }, TypeError, "bufferSize must be a number, got string"],
    [{ overflow: "drop" }, TypeError, "overflow must be one of block, drop-oldest, drop-newest, latest-by-key, got drop"],
    [{ overflow: "latest-by-key" }, TypeError, 'a key function goes with overflow: "latest-by-key", and only with it'],
    [{ overflow: "drop-oldest", key: () => 1 }, TypeError, 'a key function goes with overflow: "latest-by-key", and only with it'],
    [{ overflow: "latest-by-key", key: "type" }, TypeError, "key must be a function"],
  ])("%j throws %s", (options, type, message) => {
    expect(() => consumerSettings(options as never)).toThrow(new (type as typeof Error)(message));
  });
});

describe("hooksOption", () => {
  test("absent is no hooks; the three hooks are kept and nothing else", () => {
    expect(hooksOption(undefined)).toEqual({});
    expect(hooksOption(null as never)).toEqual({});
    const open = () => {};
    const giveUp = () => {};
    const hooks = hooksOption({ open, giveUp, extra: 1 } as never);
    expect(hooks).toEqual({ open, reconnect: undefined, giveUp });
    expect(Object.keys(hooks)).toEqual(["open", "reconnect", "giveUp"]);
  });

  test.each(["open", "reconnect", "giveUp"])("on.%s that is not a function is a TypeError", (name) => {
    expect(() => hooksOption({ [name]: "yes" } as never)).toThrow(new TypeError(`on.${name} must be a function`));
  });
});
