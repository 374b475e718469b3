/**
 * The overflow policy as a pure function (src/client/overflow.ts): what a queue keeps, lets go
 * and whether it pauses, for each policy below, at and over its bound, and for a chunk larger
 * than the bound; and latest-by-key's conflation.
 */
import { describe, expect, test } from "vitest";
import { admit, conflate, pauses } from "../../src/client/overflow.js";
import type { Overflow } from "../../src/client/options.js";

const none = { dropWaiting: 0, dropFirst: 0, dropLast: 0 };

/**
 * The admission applied to concrete items: `waiting` then `incoming` numbered in arrival
 * order, what remains waiting afterwards. The model the queues follow (see enqueue in queues.ts).
 */
function kept(waiting: number, incoming: number, bufferSize: number, overflow: Overflow): number[] {
  const a = admit(waiting, incoming, bufferSize, overflow);
  const old = Array.from({ length: waiting }, (_, i) => i);
  const fresh = Array.from({ length: incoming }, (_, i) => waiting + i);
  return [...old.slice(a.dropWaiting), ...fresh.slice(a.dropFirst, incoming - a.dropLast)];
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe("admit", () => {
  // [waiting, incoming, bufferSize]: below, at, one over, a chunk larger than the bound,
  // already full, and a chunk larger than the bound into a non-empty queue.
  const cases: [string, number, number, number][] = [
    ["below the bound", 3, 4, 10],
    ["exactly at the bound", 6, 4, 10],
    ["one over the bound", 7, 4, 10],
    ["empty, a chunk larger than the bound", 0, 25, 10],
    ["full, one more", 10, 1, 10],
    ["half full, a chunk larger than the bound", 5, 25, 10],
  ];

  test.each(cases)("block, %s: keeps everything", (_, waiting, incoming, bufferSize) => {
    expect(admit(waiting, incoming, bufferSize, "block")).toEqual(none);
  });

  test.each(cases)("latest-by-key, %s: drops nothing by count", (_, waiting, incoming, bufferSize) => {
    expect(admit(waiting, incoming, bufferSize, "latest-by-key")).toEqual(none);
  });

  test("drop-newest keeps the waiting items and the first new ones that fit", () => {
    expect(admit(3, 4, 10, "drop-newest")).toEqual(none);
    expect(admit(6, 4, 10, "drop-newest")).toEqual(none);
    expect(admit(7, 4, 10, "drop-newest")).toEqual({ dropWaiting: 0, dropFirst: 0, dropLast: 1 });
    expect(admit(0, 25, 10, "drop-newest")).toEqual({ dropWaiting: 0, dropFirst: 0, dropLast: 15 });
    expect(admit(10, 1, 10, "drop-newest")).toEqual({ dropWaiting: 0, dropFirst: 0, dropLast: 1 });
    expect(admit(5, 25, 10, "drop-newest")).toEqual({ dropWaiting: 0, dropFirst: 0, dropLast: 20 });
    expect(kept(7, 4, 10, "drop-newest")).toEqual(range(0, 10));
    expect(kept(5, 25, 10, "drop-newest")).toEqual(range(0, 10));
  });

  test("drop-newest never lets go more than came, even given more waiting than the bound", () => {
    expect(admit(12, 3, 10, "drop-newest")).toEqual({ dropWaiting: 0, dropFirst: 0, dropLast: 3 });
  });

  test("drop-oldest lets the oldest waiting go first, then the first new ones", () => {
    expect(admit(3, 4, 10, "drop-oldest")).toEqual(none);
    expect(admit(6, 4, 10, "drop-oldest")).toEqual(none);
    expect(admit(7, 4, 10, "drop-oldest")).toEqual({ dropWaiting: 1, dropFirst: 0, dropLast: 0 });
    expect(admit(10, 1, 10, "drop-oldest")).toEqual({ dropWaiting: 1, dropFirst: 0, dropLast: 0 });
    expect(admit(0, 25, 10, "drop-oldest")).toEqual({ dropWaiting: 0, dropFirst: 15, dropLast: 0 });
    expect(admit(5, 25, 10, "drop-oldest")).toEqual({ dropWaiting: 5, dropFirst: 15, dropLast: 0 });
    expect(kept(7, 4, 10, "drop-oldest")).toEqual(range(1, 11));
    expect(kept(5, 25, 10, "drop-oldest")).toEqual(range(20, 30));
    expect(kept(0, 25, 10, "drop-oldest")).toEqual(range(15, 25));
  });

  test.each(["drop-oldest", "drop-newest"] as const)("%s keeps exactly bufferSize once over it, and all below", (overflow) => {
    for (let bufferSize = 1; bufferSize <= 6; bufferSize++) {
      for (let waiting = 0; waiting <= bufferSize; waiting++) {
        for (let incoming = 1; incoming <= 3 * bufferSize; incoming++) {
          const left = kept(waiting, incoming, bufferSize, overflow);
          expect(left).toHaveLength(Math.min(bufferSize, waiting + incoming));
          // In arrival order, with no item twice.
          expect(left).toEqual([...left].sort((a, b) => a - b));
          expect(new Set(left).size).toBe(left.length);
        }
      }
    }
  });
});

describe("pauses", () => {
  test.each([
    ["block", true],
    ["latest-by-key", true],
    ["drop-oldest", false],
    ["drop-newest", false],
  ] as const)("%s: %s", (overflow, expected) => {
    expect(pauses(overflow)).toBe(expected);
  });
});

describe("conflate", () => {
  const tick = (symbol: string, price: number) => ({ symbol, price });
  type Tick = ReturnType<typeof tick>;
  const bySymbol = (t: Tick) => t.symbol;

  test("a key's newest item takes its first place; new keys go last, in order", () => {
    const latest = new Map<unknown, Tick>([["A", tick("A", 1)], ["B", tick("B", 1)]]);
    const replaced = conflate(latest, [tick("C", 1), tick("A", 2), tick("D", 1), tick("A", 3), tick("C", 2)], 0, bySymbol);
    expect(replaced).toBe(3);
    expect([...latest.values()]).toEqual([tick("A", 3), tick("B", 1), tick("C", 2), tick("D", 1)]);
  });

  test("items before `from` are not added", () => {
    const latest = new Map<unknown, Tick>();
    expect(conflate(latest, [tick("A", 1), tick("B", 1), tick("A", 2)], 1, bySymbol)).toBe(0);
    expect([...latest.values()]).toEqual([tick("B", 1), tick("A", 2)]);
  });

  test("distinct keys replace nothing", () => {
    const latest = new Map<unknown, Tick>();
    expect(conflate(latest, [tick("A", 1), tick("B", 1), tick("C", 1)], 0, bySymbol)).toBe(0);
    expect([...latest.keys()]).toEqual(["A", "B", "C"]);
  });
});
