/**
 * The order an `events()` iterator yields in while its buffer fills and drains across
 * chunks (the buffer is a ring that wraps, grows while wrapped, and empties between chunks),
 * and the pause and resume of the stream under "block".
 */
import { afterEach, expect, test } from "vitest";
import { EventSource, type EventSourceMessageEvent } from "../../src/index.js";
import { until } from "../support/server.js";
import { closeSources, track } from "../support/sources.js";
import { takeData } from "../support/collect.js";

afterEach(closeSources);

const block = (from: number, to: number): Uint8Array =>
  new TextEncoder().encode(Array.from({ length: to - from }, (_, k) => `data: ${from + k}\n\n`).join(""));

const range = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, k) => String(from + k));

test("events come in order while the buffer wraps, grows wrapped, empties and refills", async () => {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const s = track(EventSource.fromReadableStream(stream));
  const it = s.events({ bufferSize: 1000 });

  controller.enqueue(block(0, 10));
  await until(() => s.stats.events === 10);
  expect(await takeData(it, 7)).toEqual(range(0, 7));
  // 3 wait at the ring's middle; 60 more wrap past its end and make it grow twice.
  controller.enqueue(block(10, 70));
  await until(() => s.stats.events === 70);
  expect(await takeData(it, 63)).toEqual(range(7, 70));
  // Empty now: the next chunk starts afresh.
  controller.enqueue(block(70, 75));
  await until(() => s.stats.events === 75);
  controller.close();
  const rest: string[] = [];
  for await (const e of { [Symbol.asyncIterator]: () => it }) rest.push(e.data);
  expect(rest).toEqual(range(70, 75));
});

test("drop-oldest over a small wrapping ring keeps the newest bufferSize events, in order", async () => {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const s = track(EventSource.fromReadableStream(stream));
  const it = s.events({ bufferSize: 5, overflow: "drop-oldest" });
  for (let from = 0; from < 100; from += 7) controller.enqueue(block(from, from + 7));
  await until(() => s.stats.events === 105);
  controller.close();
  const got: string[] = [];
  for await (const e of { [Symbol.asyncIterator]: () => it }) got.push(e.data);
  expect(got).toEqual(range(100, 105));
  expect(s.stats.dropped).toBe(100);
});

test('"block" pauses the stream at the bound and resumes it as the consumer catches up', async () => {
  const CHUNKS = 30;
  const PER = 3;
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>(
    { pull: (c) => void (pulled < CHUNKS ? c.enqueue(block(PER * pulled, PER * ++pulled)) : c.close()) },
    { highWaterMark: 0 },
  );
  const s = track(EventSource.fromReadableStream(stream));
  const it = s.events({ bufferSize: 5 });
  await until(() => s.stats.events >= 5);
  await new Promise((r) => setTimeout(r, 50));
  // Paused once 5 wait: at most the rest of the chunk that reached the bound came on top.
  expect(s.stats.events).toBeLessThanOrEqual(5 - 1 + PER);
  const got: string[] = [];
  let most = 0;
  for await (const e of { [Symbol.asyncIterator]: () => it }) {
    got.push(e.data);
    most = Math.max(most, s.stats.events - got.length);
    await new Promise((r) => setImmediate(r));
  }
  expect(got).toEqual(range(0, CHUNKS * PER));
  expect(most).toBeLessThanOrEqual(5 - 1 + PER);
});

// The queue holds each chunk's events in the array they came in, read from an offset: the
// tests below put that offset where a waiting consumer, a policy or a late iterator moves it.

test("a waiting next() takes a chunk's first event; the rest wait behind it under drop-newest", async () => {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const s = track(EventSource.fromReadableStream(new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) })));
  const it = s.events({ bufferSize: 2, overflow: "drop-newest" });
  const first = it.next();
  controller.enqueue(block(0, 5));
  expect((await first).value?.data).toBe("0");
  controller.enqueue(block(5, 7));
  await until(() => s.stats.events === 7);
  controller.close();
  const rest: string[] = [];
  for await (const e of { [Symbol.asyncIterator]: () => it }) rest.push(e.data);
  expect(rest).toEqual(["1", "2"]);
  expect(s.stats.dropped).toBe(4);
});

test("drop-oldest that cuts into an earlier chunk keeps its newest events and all of the next", async () => {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const s = track(EventSource.fromReadableStream(new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) })));
  const it = s.events({ bufferSize: 5, overflow: "drop-oldest" });
  controller.enqueue(block(0, 4));
  await until(() => s.stats.events === 4);
  expect(await takeData(it, 1)).toEqual(["0"]);
  // 3 wait from the middle of the first chunk; 3 more drop its two oldest, not the third.
  controller.enqueue(block(4, 7));
  await until(() => s.stats.events === 7);
  controller.close();
  const rest: string[] = [];
  for await (const e of { [Symbol.asyncIterator]: () => it }) rest.push(e.data);
  expect(rest).toEqual(["2", "3", "4", "5", "6"]);
  expect(s.stats.dropped).toBe(1);
});

test("an iterator made by a listener in the middle of a chunk yields that event and the ones after it", async () => {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const s = track(EventSource.fromReadableStream(new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) })));
  const early = s.events();
  let late: AsyncIterator<EventSourceMessageEvent> | undefined;
  s.addEventListener("message", (e) => {
    if ((e as MessageEvent).data === "2") late = s.events();
  });
  controller.enqueue(block(0, 6));
  await until(() => s.stats.events === 6);
  expect(await takeData(early, 6)).toEqual(range(0, 6));
  // The event being dispatched goes to the iterators after its listeners have run.
  expect(await takeData(late!, 4)).toEqual(range(2, 6));
});
