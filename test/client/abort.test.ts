// watchAbort (src/client/abort.ts): many watchers of one AbortSignal share one "abort"
// listener, removed with the last of them.
import { getEventListeners } from "node:events";
import { expect, test } from "vitest";
import { watchAbort } from "../../src/client/abort.js";

test("every watcher is called once on abort, through one listener", () => {
  const controller = new AbortController();
  const calls: number[] = [];
  for (let i = 0; i < 20; i++) watchAbort(controller.signal, () => calls.push(i));
  expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
  controller.abort();
  controller.abort();
  expect(calls).toEqual(Array.from({ length: 20 }, (_, i) => i));
  expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
});

test("unwatching removes the callback; the listener goes with the last one; unwatching twice is safe", () => {
  const controller = new AbortController();
  const calls: string[] = [];
  const stopA = watchAbort(controller.signal, () => calls.push("a"));
  const stopB = watchAbort(controller.signal, () => calls.push("b"));
  stopA();
  stopA();
  expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
  stopB();
  expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  const stopC = watchAbort(controller.signal, () => calls.push("c"));
  expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
  controller.abort();
  stopC();
  expect(calls).toEqual(["c"]);
});

test("a watcher that unwatches another during the abort does not stop it being called (a copy is walked)", () => {
  const controller = new AbortController();
  const calls: string[] = [];
  let stopB = () => {};
  watchAbort(controller.signal, () => {
    calls.push("a");
    stopB();
  });
  stopB = watchAbort(controller.signal, () => calls.push("b"));
  controller.abort();
  expect(calls).toEqual(["a", "b"]);
});

test("a new watch after an abort starts a fresh watch (the old one is forgotten)", () => {
  const first = new AbortController();
  const second = new AbortController();
  const calls: string[] = [];
  watchAbort(first.signal, () => calls.push("first"));
  watchAbort(second.signal, () => calls.push("second"));
  second.abort();
  expect(calls).toEqual(["second"]);
  first.abort();
  expect(calls).toEqual(["second", "first"]);
});
