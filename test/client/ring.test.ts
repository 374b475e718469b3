/**
 * The storage of an iterator's waiting items (src/client/ring.ts): the ring buffer through
 * wrap-around, growth while wrapped and the shrink after a large backlog; the chunk ring's
 * offsets, cuts and drops.
 */
import { describe, expect, test } from "vitest";
import { ChunkRing, Ring } from "../../src/client/ring.js";

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

function drain<T>(ring: Ring<T>): T[] {
  const out: T[] = [];
  for (let item = ring.shift(); item !== undefined; item = ring.shift()) out.push(item);
  return out;
}

describe("Ring", () => {
  test("first in, first out; empty gives undefined", () => {
    const ring = new Ring<number>();
    expect(ring.shift()).toBeUndefined();
    expect(ring.peek()).toBeUndefined();
    ring.push(1);
    ring.push(2);
    expect(ring.peek()).toBe(1);
    expect(ring.length).toBe(2);
    expect(drain(ring)).toEqual([1, 2]);
    expect(ring.length).toBe(0);
  });

  test("wraps around its end and keeps the order", () => {
    const ring = new Ring<number>();
    let next = 0;
    let expected = 0;
    for (let i = 0; i < 10; i++) ring.push(next++);
    // 6 in, 6 out, with 10 waiting throughout: the head walks round the 16 slots many times
    // (it goes back to 0 only when the ring empties).
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 6; i++) ring.push(next++);
      for (let i = 0; i < 6; i++) expect(ring.shift()).toBe(expected++);
    }
    expect(ring.capacity).toBe(16);
    expect(drain(ring)).toEqual(range(expected, next));
  });

  test("grows while wrapped, keeping the order", () => {
    const ring = new Ring<number>();
    for (let i = 0; i < 12; i++) ring.push(i);
    for (let i = 0; i < 10; i++) ring.shift();
    // 2 wait at slots 10 and 11; 31 more wrap past slot 15 and make it grow twice.
    for (let i = 12; i < 43; i++) ring.push(i);
    expect(ring.capacity).toBe(64);
    expect(ring.length).toBe(33);
    expect(drain(ring)).toEqual(range(10, 43));
  });

  test("keeps its slots when it empties, unless it grew past KEEP", () => {
    const ring = new Ring<number>();
    for (let i = 0; i < 100; i++) ring.push(i);
    drain(ring);
    expect(ring.capacity).toBe(128);
    for (let i = 0; i < Ring.KEEP + 1; i++) ring.push(i);
    expect(ring.capacity).toBe(2 * Ring.KEEP);
    ring.shift();
    // Not empty yet: the backlog is still being read.
    expect(ring.capacity).toBe(2 * Ring.KEEP);
    expect(drain(ring)).toEqual(range(1, Ring.KEEP + 1));
    expect(ring.capacity).toBe(16);
    ring.push(7);
    expect(drain(ring)).toEqual([7]);
  });

  test("clear() empties it and lets its slots go", () => {
    const ring = new Ring<number>();
    for (let i = 0; i < 40; i++) ring.push(i);
    ring.clear();
    expect(ring.length).toBe(0);
    expect(ring.capacity).toBe(16);
    expect(ring.shift()).toBeUndefined();
    ring.push(1);
    expect(drain(ring)).toEqual([1]);
  });
});

describe("ChunkRing", () => {
  function takeAll<T>(ring: ChunkRing<T>): T[] {
    const out: T[] = [];
    while (ring.count > 0) out.push(ring.shift()!);
    expect(ring.shift()).toBeUndefined();
    return out;
  }

  test("items come out one by one in order across arrays; a pushed array's items before `from` are let go", () => {
    const ring = new ChunkRing<number>();
    const first = [0, 1, 2, 3];
    ring.push(first, 2);
    // Released at once: the queue has handed them on.
    expect(first.slice(0, 2)).toEqual([undefined, undefined]);
    ring.push([4, 5], 0);
    ring.push([6], 0);
    expect(ring.count).toBe(5);
    expect(ring.shift()).toBe(2);
    // A taken item is not kept alive by its array.
    expect(first[2]).toBeUndefined();
    expect(takeAll(ring)).toEqual([3, 4, 5, 6]);
    expect(ring.count).toBe(0);
  });

  test("an empty rest is not pushed", () => {
    const ring = new ChunkRing<number>();
    ring.push([1, 2], 2);
    ring.push([], 0);
    expect(ring.count).toBe(0);
    expect(ring.shiftChunk()).toBeUndefined();
    ring.push([3], 0);
    expect(ring.shiftChunk()).toEqual([3]);
  });

  test("an offset into an array pushed behind others is cut off, not read from the first's offset", () => {
    const ring = new ChunkRing<number>();
    ring.push([0, 1, 2], 1);
    ring.push([3, 4, 5], 2);
    expect(ring.count).toBe(3);
    expect(takeAll(ring)).toEqual([1, 2, 5]);
  });

  test("shiftChunk gives each array's waiting items, the array itself when read from its start", () => {
    const ring = new ChunkRing<number>();
    const a = [0, 1, 2];
    const b = [3, 4];
    ring.push(a, 0);
    ring.push(b, 0);
    expect(ring.shiftChunk()).toBe(a);
    expect(ring.count).toBe(2);
    ring.shift();
    expect(ring.shiftChunk()).toEqual([4]);
    expect(ring.count).toBe(0);
    expect(ring.shiftChunk()).toBeUndefined();
  });

  test("dropOldest lets whole arrays go, then cuts into the next", () => {
    const ring = new ChunkRing<number>();
    const b = [3, 4, 5, 6];
    ring.push([0, 1, 2], 1);
    ring.push(b, 0);
    ring.push([7, 8], 0);
    ring.dropOldest(4);
    expect(ring.count).toBe(4);
    // The dropped items of the array that stays are let go.
    expect(b).toEqual([undefined, undefined, 5, 6]);
    expect(ring.shiftChunk()).toEqual([5, 6]);
    expect(ring.shiftChunk()).toEqual([7, 8]);
  });

  test("dropOldest at an array's end, of nothing, and of more than wait", () => {
    const ring = new ChunkRing<number>();
    ring.push([0, 1], 0);
    ring.push([2, 3], 0);
    ring.dropOldest(0);
    expect(ring.count).toBe(4);
    ring.dropOldest(2);
    expect(ring.count).toBe(2);
    expect(ring.shiftChunk()).toEqual([2, 3]);
    ring.push([4, 5], 0);
    ring.dropOldest(10);
    expect(ring.count).toBe(0);
    expect(ring.shift()).toBeUndefined();
    ring.push([6, 7], 1);
    expect(takeAll(ring)).toEqual([7]);
  });

  test("many arrays in and out keep the order and the count", () => {
    const ring = new ChunkRing<number>();
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 50; round++) {
      for (let k = 0; k < 3; k++) {
        const length = 1 + ((round * 7 + k) % 5);
        ring.push(range(next, next + length), 0);
        next += length;
      }
      for (let k = 0; k < 5 && ring.count > 0; k++) expect(ring.shift()).toBe(expected++);
      expect(ring.count).toBe(next - expected);
    }
    expect(takeAll(ring)).toEqual(range(expected, next));
  });

  test("clear() empties it", () => {
    const ring = new ChunkRing<number>();
    ring.push([0, 1, 2], 1);
    ring.push([3], 0);
    ring.clear();
    expect(ring.count).toBe(0);
    expect(ring.shift()).toBeUndefined();
    ring.push([4, 5], 0);
    expect(takeAll(ring)).toEqual([4, 5]);
  });
});
