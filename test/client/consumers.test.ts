/**
 * The iterators of one kind on one source (src/client/consumers.ts) over real queues: a chunk
 * to each of them, the pressure callback when one becomes full or drains, return() and end().
 */
import { describe, expect, test } from "vitest";
import { Consumers } from "../../src/client/consumers.js";
import { EventSourceError } from "../../src/client/errors.js";
import type { ConsumerSettings, Overflow } from "../../src/client/options.js";
import { BatchQueue, EventQueue } from "../../src/client/queues.js";
import { takeData } from "../support/collect.js";

interface Ev {
  readonly type: string;
  readonly data: string;
}

const evs = (from: number, to: number): Ev[] => Array.from({ length: to - from }, (_, i) => ({ type: "message", data: String(from + i) }));

const settings = (overflow: Overflow, bufferSize: number): ConsumerSettings<Ev> => ({ types: null, bufferSize, overflow, key: null });

/** A source's side: how often the pressure changed, and whether it would pause now. */
function source() {
  const s = {
    calls: 0,
    consumers: null as unknown as Consumers<Ev[]>,
    /** `full` as the source read it at each call. */
    seen: [] as boolean[],
  };
  s.consumers = new Consumers<Ev[]>(() => {
    s.calls++;
    s.seen.push(s.consumers.full);
  });
  return s;
}

describe("Consumers", () => {
  test("one queue: a chunk goes to it as it is; pressure when it becomes full, and when it drains", async () => {
    const s = source();
    const q = s.consumers.add((hooks) => new EventQueue(settings("block", 3), hooks), () => {});
    expect(s.consumers.size).toBe(1);
    s.consumers.pushArray(evs(0, 2));
    expect(s.calls).toBe(0);
    s.consumers.pushArray(evs(2, 4));
    expect(s.seen).toEqual([true]);
    // Already full: no second call.
    s.consumers.pushArray(evs(4, 5));
    expect(s.calls).toBe(1);
    const it = q.iterator();
    expect(await takeData(it, 2)).toEqual(["0", "1"]);
    expect(s.calls).toBe(1);
    expect(await takeData(it, 1)).toEqual(["2"]);
    expect(s.seen).toEqual([true, false]);
  });

  test("several queues: each gets every item in its own array; the dropped of all are summed", async () => {
    const s = source();
    const a = s.consumers.add((hooks) => new BatchQueue(settings("drop-newest", 2), hooks), () => {});
    const b = s.consumers.add((hooks) => new BatchQueue(settings("drop-oldest", 3), hooks), () => {});
    const c = s.consumers.add((hooks) => new EventQueue(settings("block", 10), hooks), () => {});
    const chunk = evs(0, 4);
    expect(s.consumers.pushArray(chunk)).toBe(2 + 1);
    const ra = (await a.iterator().next()).value as Ev[];
    const rb = (await b.iterator().next()).value as Ev[];
    expect(ra.map((e) => e.data)).toEqual(["0", "1"]);
    expect(rb.map((e) => e.data)).toEqual(["1", "2", "3"]);
    // The cuts of the others did not reach the last queue's array.
    expect(await takeData(c.iterator(), 4)).toEqual(["0", "1", "2", "3"]);
  });

  test("several queues: pressure once when any becomes full; full while any is", async () => {
    const s = source();
    const small = s.consumers.add((hooks) => new EventQueue(settings("block", 2), hooks), () => {});
    s.consumers.add((hooks) => new EventQueue(settings("block", 5), hooks), () => {});
    s.consumers.add((hooks) => new EventQueue(settings("drop-oldest", 1), hooks), () => {});
    s.consumers.pushArray(evs(0, 1));
    expect(s.calls).toBe(0);
    expect(s.consumers.full).toBe(false);
    s.consumers.pushArray(evs(1, 2));
    expect(s.seen).toEqual([true]);
    // The small one stays full; the larger one becomes full: one call more.
    s.consumers.pushArray(evs(2, 4));
    expect(s.seen).toEqual([true]);
    s.consumers.pushArray(evs(4, 5));
    expect(s.seen).toEqual([true, true]);
    // Drained below its bound, the small one tells; the larger one keeps the source paused.
    await takeData(small.iterator(), 4);
    expect(s.seen).toEqual([true, true, true]);
  });

  test("return() removes the queue and calls its onReturn; the only queue left is used alone", async () => {
    const s = source();
    const returned: string[] = [];
    const a = s.consumers.add((hooks) => new EventQueue(settings("block", 2), hooks), () => returned.push("a"));
    const b = s.consumers.add((hooks) => new EventQueue(settings("block", 10), hooks), () => returned.push("b"));
    s.consumers.pushArray(evs(0, 2));
    expect(s.consumers.full).toBe(true);
    await a.iterator().return!();
    expect(returned).toEqual(["a"]);
    expect(s.consumers.size).toBe(1);
    // The full queue left: the source may resume.
    expect(s.consumers.full).toBe(false);
    const chunk = evs(2, 4);
    s.consumers.pushArray(chunk);
    expect(await takeData(b.iterator(), 4)).toEqual(["0", "1", "2", "3"]);
    await b.iterator().return!();
    expect(returned).toEqual(["a", "b"]);
    expect(s.consumers.size).toBe(0);
    // No queue is given a chunk now, however large.
    const calls = s.calls;
    expect(s.consumers.pushArray(evs(4, 20))).toBe(0);
    expect(s.consumers.full).toBe(false);
    expect(s.calls).toBe(calls);
  });

  test("the only queue returned gets no more chunks", async () => {
    const s = source();
    const q = s.consumers.add((hooks) => new EventQueue(settings("block", 2), hooks), () => {});
    const it = q.iterator();
    await it.return!();
    expect(s.consumers.size).toBe(0);
    expect(s.consumers.pushArray(evs(0, 5))).toBe(0);
    expect(s.consumers.full).toBe(false);
    expect(s.calls).toBe(0);
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  test("end(failure): every queue yields what waits, then throws the failure once; end(null) ends plainly", async () => {
    const s = source();
    const a = s.consumers.add((hooks) => new EventQueue(settings("block", 10), hooks), () => {});
    const b = s.consumers.add((hooks) => new BatchQueue(settings("block", 10), hooks), () => {});
    s.consumers.pushArray(evs(0, 2));
    const error = new EventSourceError({ message: "gone", code: "MAX_ATTEMPTS", attempts: 3 });
    s.consumers.end(error);
    expect(s.consumers.size).toBe(0);
    expect(s.consumers.full).toBe(false);
    const ia = a.iterator();
    const ib = b.iterator();
    expect(await takeData(ia, 2)).toEqual(["0", "1"]);
    expect(((await ib.next()).value as Ev[]).length).toBe(2);
    await expect(ia.next()).rejects.toBe(error);
    await expect(ib.next()).rejects.toBe(error);
    expect(await ia.next()).toEqual({ value: undefined, done: true });

    const later = source();
    const c = later.consumers.add((hooks) => new EventQueue(settings("block", 10), hooks), () => {});
    later.consumers.end(null);
    expect(await c.iterator().next()).toEqual({ value: undefined, done: true });
  });
});
