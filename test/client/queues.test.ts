/**
 * The queues behind `events()` and `batches()` (src/client/queues.ts), driven directly: what
 * their iterators yield as chunks come, their end with and without a failure, `return()`, the
 * drain hook, and each overflow policy applied to real chunks.
 */
import { describe, expect, test } from "vitest";
import { EventSourceError } from "../../src/client/errors.js";
import type { ConsumerSettings, Overflow } from "../../src/client/options.js";
import { BatchQueue, EventQueue, type QueueHooks } from "../../src/client/queues.js";

interface Ev {
  readonly type: string;
  readonly data: string;
}

const ev = (data: string, type = "message"): Ev => ({ type, data });
/** Events "0".."n-1" from `from`. */
const evs = (from: number, to: number): Ev[] => Array.from({ length: to - from }, (_, i) => ev(String(from + i)));
const datas = (items: readonly Ev[]): string[] => items.map((e) => e.data);

function settings(overflow: Overflow = "block", bufferSize = 10, more: Partial<ConsumerSettings<Ev>> = {}): ConsumerSettings<Ev> {
  const key = overflow === "latest-by-key" ? (e: Ev) => e.data.split(":")[0] : null;
  return { types: null, bufferSize, overflow, key, ...more };
}

function hooks(): QueueHooks & { drains: number; returns: number } {
  const h = {
    drains: 0,
    returns: 0,
    onDrain: () => void h.drains++,
    onReturn: () => void h.returns++,
  };
  return h;
}

const failure = () => new EventSourceError({ message: "gone", code: "HTTP_STATUS", status: 404 });

async function take<T>(it: AsyncIterator<T>, count: number): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < count; i++) {
    const r = await it.next();
    if (r.done) throw new Error(`ended after ${out.length} of ${count}`);
    out.push(r.value);
  }
  return out;
}

/** Settles `promise` or says it has not: a next() still waiting. */
async function settled<T>(promise: Promise<T>): Promise<{ value: T } | "pending"> {
  const pending = Symbol();
  const result = await Promise.race([promise, new Promise<typeof pending>((r) => setTimeout(() => r(pending), 10))]);
  return result === pending ? "pending" : { value: result as T };
}

describe("EventQueue", () => {
  test("a waiting next() takes a chunk's first event; the rest wait, in order", async () => {
    const q = new EventQueue(settings(), hooks());
    const it = q.iterator();
    const first = it.next();
    expect(q.push(evs(0, 4))).toBe(0);
    expect(await first).toEqual({ value: ev("0"), done: false });
    expect(q.size).toBe(3);
    expect(datas(await take(it, 3))).toEqual(["1", "2", "3"]);
    expect(q.size).toBe(0);
  });

  test("next() called again before the last settled: each call gets its own event, in call order", async () => {
    const q = new EventQueue(settings(), hooks());
    const it = q.iterator();
    const calls = [it.next(), it.next(), it.next()];
    q.push(evs(0, 2));
    expect(await calls[0]).toEqual({ value: ev("0"), done: false });
    expect(await calls[1]).toEqual({ value: ev("1"), done: false });
    expect(await settled(calls[2]!)).toBe("pending");
    q.push(evs(2, 3));
    expect(await calls[2]).toEqual({ value: ev("2"), done: false });
  });

  test("types: only the events of those types are queued", async () => {
    const q = new EventQueue(settings("block", 10, { types: new Set(["tick"]) }), hooks());
    q.push([ev("a", "tick"), ev("b"), ev("c", "tick"), ev("d", "other")]);
    expect(q.size).toBe(2);
    expect(datas(await take(q.iterator(), 2))).toEqual(["a", "c"]);
  });

  test("end() without a failure: the waiting events, then done for good", async () => {
    const q = new EventQueue(settings(), hooks());
    const it = q.iterator();
    q.push(evs(0, 2));
    q.end(null);
    expect(datas(await take(it, 2))).toEqual(["0", "1"]);
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  test("end(failure): the waiting events, then the failure thrown once, then done", async () => {
    const q = new EventQueue(settings(), hooks());
    const it = q.iterator();
    q.push(evs(0, 2));
    const error = failure();
    q.end(error);
    // A second end() changes nothing.
    q.end(null);
    expect(datas(await take(it, 2))).toEqual(["0", "1"]);
    await expect(it.next()).rejects.toBe(error);
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  test("end(failure) with next() calls waiting: the oldest is rejected, the others done", async () => {
    const q = new EventQueue(settings(), hooks());
    const it = q.iterator();
    const calls = [it.next(), it.next()];
    const error = failure();
    q.end(error);
    await expect(calls[0]).rejects.toBe(error);
    expect(await calls[1]).toEqual({ value: undefined, done: true });
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  test("an iterator made after end() yields what waits, then the failure", async () => {
    const q = new EventQueue(settings(), hooks());
    q.push(evs(0, 1));
    const error = failure();
    q.end(error);
    const it = q.iterator();
    expect(datas(await take(it, 1))).toEqual(["0"]);
    await expect(it.next()).rejects.toBe(error);
  });

  test("return() lets the waiting events go, calls onReturn once, and ends without the failure", async () => {
    const h = hooks();
    const q = new EventQueue(settings(), h);
    const it = q.iterator();
    const waiting = it.next();
    q.push(evs(0, 3));
    await waiting;
    expect(await it.return!()).toEqual({ value: undefined, done: true });
    expect(h.returns).toBe(1);
    expect(q.size).toBe(0);
    q.end(failure());
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  test("return() after end(failure) ends it without the failure", async () => {
    const h = hooks();
    const q = new EventQueue(settings(), h);
    q.push(evs(0, 2));
    q.end(failure());
    const it = q.iterator();
    await it.return!();
    expect(h.returns).toBe(1);
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  test("return() settles a next() still waiting as done", async () => {
    const q = new EventQueue(settings(), hooks());
    const it = q.iterator();
    const waiting = it.next();
    await it.return!();
    expect(await waiting).toEqual({ value: undefined, done: true });
  });

  test("for await over the iterator, with a break, returns it", async () => {
    const h = hooks();
    const q = new EventQueue(settings(), h);
    q.push(evs(0, 5));
    const seen: string[] = [];
    for await (const e of q.iterator()) {
      seen.push(e.data);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual(["0", "1"]);
    expect(h.returns).toBe(1);
  });

  test('"block": full at its bound, over it with the rest of a chunk; onDrain once it falls below', async () => {
    const h = hooks();
    const q = new EventQueue(settings("block", 4), h);
    q.push(evs(0, 3));
    expect(q.full).toBe(false);
    expect(q.push(evs(3, 6))).toBe(0);
    expect(q.full).toBe(true);
    expect(q.size).toBe(6);
    const it = q.iterator();
    await take(it, 2);
    // At the bound still: no drain yet.
    expect(h.drains).toBe(0);
    expect(q.full).toBe(true);
    await take(it, 1);
    expect(h.drains).toBe(1);
    expect(q.full).toBe(false);
    expect(datas(await take(it, 3))).toEqual(["3", "4", "5"]);
    expect(h.drains).toBe(1);
  });

  test("drop-newest keeps the first bufferSize events and counts the rest as dropped", async () => {
    const h = hooks();
    const q = new EventQueue(settings("drop-newest", 5), h);
    expect(q.push(evs(0, 3))).toBe(0);
    expect(q.push(evs(3, 6))).toBe(1);
    expect(q.push(evs(6, 8))).toBe(2);
    expect(q.full).toBe(false);
    expect(datas(await take(q.iterator(), 5))).toEqual(["0", "1", "2", "3", "4"]);
    expect(h.drains).toBe(0);
  });

  test("drop-oldest keeps the newest bufferSize events, cutting into an earlier chunk", async () => {
    const q = new EventQueue(settings("drop-oldest", 5), hooks());
    expect(q.push(evs(0, 3))).toBe(0);
    expect(q.push(evs(3, 6))).toBe(1);
    expect(q.push(evs(6, 8))).toBe(2);
    expect(q.size).toBe(5);
    expect(datas(await take(q.iterator(), 5))).toEqual(["3", "4", "5", "6", "7"]);
  });

  test("drop-oldest given a chunk larger than the bound keeps its newest events", async () => {
    const q = new EventQueue(settings("drop-oldest", 4), hooks());
    q.push(evs(0, 2));
    expect(q.push(evs(2, 12))).toBe(8);
    expect(datas(await take(q.iterator(), 4))).toEqual(["8", "9", "10", "11"]);
    expect(q.size).toBe(0);
  });

  test("a policy applies to what a waiting next() left of the chunk", async () => {
    const q = new EventQueue(settings("drop-oldest", 3), hooks());
    const it = q.iterator();
    const first = it.next();
    expect(q.push(evs(0, 6))).toBe(2);
    expect((await first).value).toEqual(ev("0"));
    expect(datas(await take(it, 3))).toEqual(["3", "4", "5"]);
  });

  test("latest-by-key keeps each key's newest event in the key's first place; full by distinct keys", async () => {
    const h = hooks();
    const q = new EventQueue(settings("latest-by-key", 2), h);
    expect(q.push([ev("A:1"), ev("B:1"), ev("A:2")])).toBe(1);
    expect(q.size).toBe(2);
    expect(q.full).toBe(true);
    // Over the bound in keys, as "block": nothing is dropped, the source is paused.
    expect(q.push([ev("C:1"), ev("B:2")])).toBe(1);
    const it = q.iterator();
    expect(datas(await take(it, 1))).toEqual(["A:2"]);
    expect(h.drains).toBe(0);
    expect(datas(await take(it, 1))).toEqual(["B:2"]);
    expect(h.drains).toBe(1);
    expect(datas(await take(it, 1))).toEqual(["C:1"]);
    expect(await settled(it.next())).toBe("pending");
  });

  test("latest-by-key: a waiting next() takes the chunk's first event before conflation", async () => {
    const q = new EventQueue(settings("latest-by-key", 10), hooks());
    const it = q.iterator();
    const first = it.next();
    expect(q.push([ev("A:1"), ev("A:2"), ev("A:3")])).toBe(1);
    expect((await first).value).toEqual(ev("A:1"));
    expect(datas(await take(it, 1))).toEqual(["A:3"]);
  });
});

describe("BatchQueue", () => {
  test("one array per chunk, the array itself to a waiting next()", async () => {
    const q = new BatchQueue(settings(), hooks());
    const it = q.iterator();
    const first = it.next();
    const chunk = evs(0, 3);
    expect(q.push(chunk)).toBe(0);
    expect((await first).value).toBe(chunk);
    q.push(evs(3, 5));
    q.push(evs(5, 6));
    expect(q.size).toBe(3);
    expect((await take(it, 2)).map(datas)).toEqual([["3", "4"], ["5"]]);
  });

  test("types: a chunk with none of them is not a batch", async () => {
    const q = new BatchQueue(settings("block", 10, { types: new Set(["tick"]) }), hooks());
    const it = q.iterator();
    const first = it.next();
    q.push([ev("a"), ev("b")]);
    expect(await settled(first)).toBe("pending");
    q.push([ev("c", "tick"), ev("d")]);
    expect(datas((await first).value as Ev[])).toEqual(["c"]);
  });

  test('"block" counts records: full at the bound, onDrain when a batch taken brings it below', async () => {
    const h = hooks();
    const q = new BatchQueue(settings("block", 4), h);
    q.push(evs(0, 3));
    expect(q.full).toBe(false);
    q.push(evs(3, 5));
    expect(q.full).toBe(true);
    const it = q.iterator();
    await take(it, 1);
    expect(h.drains).toBe(1);
    expect(q.full).toBe(false);
  });

  test("drop-newest cuts the new batch; a batch cut to nothing is not queued", async () => {
    const q = new BatchQueue(settings("drop-newest", 4), hooks());
    q.push(evs(0, 3));
    expect(q.push(evs(3, 6))).toBe(2);
    expect(q.push(evs(6, 8))).toBe(2);
    expect(q.size).toBe(4);
    const it = q.iterator();
    expect((await take(it, 2)).map(datas)).toEqual([["0", "1", "2"], ["3"]]);
    expect(await settled(it.next())).toBe("pending");
  });

  test("drop-oldest lets earlier batches go and cuts into the oldest left", async () => {
    const q = new BatchQueue(settings("drop-oldest", 4), hooks());
    expect(q.push(evs(0, 2))).toBe(0);
    expect(q.push(evs(2, 5))).toBe(1);
    expect(q.size).toBe(4);
    // ["1"] goes whole, ["2", "3", "4"] loses its first two.
    expect(q.push(evs(5, 8))).toBe(3);
    expect((await take(q.iterator(), 2)).map(datas)).toEqual([["4"], ["5", "6", "7"]]);
  });

  test("drop-oldest given a chunk larger than the bound keeps its newest records", async () => {
    const q = new BatchQueue(settings("drop-oldest", 3), hooks());
    q.push(evs(0, 2));
    expect(q.push(evs(2, 10))).toBe(7);
    const it = q.iterator();
    expect((await take(it, 1)).map(datas)).toEqual([["7", "8", "9"]]);
    expect(q.size).toBe(0);
  });

  test("latest-by-key: one batch of every key waiting, each with its newest record, in first-come order", async () => {
    const q = new BatchQueue(settings("latest-by-key", 10), hooks());
    expect(q.push([ev("A:1"), ev("B:1"), ev("A:2")])).toBe(1);
    expect(q.push([ev("C:1"), ev("B:2")])).toBe(1);
    const it = q.iterator();
    expect(datas((await take(it, 1))[0]!)).toEqual(["A:2", "B:2", "C:1"]);
    // A waiting next() gets the chunk conflated within itself.
    const next = it.next();
    expect(q.push([ev("A:3"), ev("A:4"), ev("D:1")])).toBe(1);
    expect(datas((await next).value as Ev[])).toEqual(["A:4", "D:1"]);
  });

  test("end(failure): the waiting batches, then the failure once; return() calls onReturn", async () => {
    const h = hooks();
    const q = new BatchQueue(settings(), h);
    q.push(evs(0, 2));
    const error = failure();
    q.end(error);
    const it = q.iterator();
    expect((await take(it, 1)).map(datas)).toEqual([["0", "1"]]);
    await expect(it.next()).rejects.toBe(error);
    expect(await it.next()).toEqual({ value: undefined, done: true });
    await it.return!();
    expect(h.returns).toBe(1);
  });
});
