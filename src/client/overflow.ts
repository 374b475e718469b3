/**
 * The overflow policy of `events()` and `batches()` (see `Overflow` in options.ts), written
 * once for both: what an iterator keeps of the items it is given, what it lets go, and whether
 * the source must pause. Items are events for `events()` and records for `batches()`.
 */
import type { Overflow } from "./options.js";

/**
 * What to let go when new items come: the waiting ones first, oldest first, then the new ones
 * from their start or their end. The new items kept are the rest, in their order.
 */
export interface Admission {
  /** Waiting items to let go, the oldest first. */
  readonly dropWaiting: number;
  /** New items to let go from the start: "drop-oldest" given more than the bound at once. */
  readonly dropFirst: number;
  /** New items to let go from the end ("drop-newest"). */
  readonly dropLast: number;
}

/** Nothing let go: one object, as it is the answer for nearly every chunk. */
const KEEP_ALL: Admission = Object.freeze({ dropWaiting: 0, dropFirst: 0, dropLast: 0 });

/**
 * What a queue with `waiting` items does with `incoming` more under `overflow`, at most
 * `bufferSize` waiting. "block" and "latest-by-key" keep everything (their queue is `full`
 * instead, see `pauses`): the source pauses, and the rest of a chunk already read still goes in.
 */
export function admit(waiting: number, incoming: number, bufferSize: number, overflow: Overflow): Admission {
  const over = waiting + incoming - bufferSize;
  if (over <= 0) return KEEP_ALL;
  if (overflow === "drop-oldest") {
    const dropWaiting = Math.min(over, waiting);
    return { dropWaiting, dropFirst: over - dropWaiting, dropLast: 0 };
  }
  if (overflow === "drop-newest") return { dropWaiting: 0, dropFirst: 0, dropLast: Math.min(over, incoming) };
  return KEEP_ALL;
}

/**
 * The policy pauses the source when `bufferSize` items wait, where the others drop: "block",
 * and "latest-by-key" once `bufferSize` distinct keys wait.
 */
export function pauses(overflow: Overflow): boolean {
  return overflow === "block" || overflow === "latest-by-key";
}

/**
 * "latest-by-key": `items[from..]` join `latest`, the waiting items by key in the order their
 * keys first came. An item whose key waits takes the older item's place (a Map keeps a key's
 * place on `set`), so a consumer sees each key where it first waited, with its newest item.
 * Returns the number of older items so let go. `latest` is the queue's own and is updated in
 * place: a copy per chunk would cost as much as the keys waiting.
 */
export function conflate<T>(latest: Map<unknown, T>, items: readonly T[], from: number, key: (item: T) => unknown): number {
  let replaced = 0;
  for (let i = from; i < items.length; i++) {
    const before = latest.size;
    latest.set(key(items[i]!), items[i]!);
    if (latest.size === before) replaced++;
  }
  return replaced;
}
