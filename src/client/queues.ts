/**
 * The queues behind a source's iterators: `events()` (one MessageEvent at a time) and
 * `batches()` (arrays of plain records). Each holds its waiting items, the `next()` calls
 * waiting on it and its end, and applies the overflow policy (overflow.ts). A queue talks to
 * its source only through the hooks it is given, so backpressure and close stay the source's
 * business.
 */
import type { EventSourceError } from "./errors.js";
import type { ConsumerSettings, Overflow } from "./options.js";
import { admit, conflate, pauses } from "./overflow.js";
import { ChunkRing } from "./ring.js";

export interface QueueHooks {
  /** The queue fell below its bound: the source may resume reading. */
  onDrain(): void;
  /** The consumer stopped (`return()`, a `break` out of `for await`). */
  onReturn(): void;
}

/** A `next()` waiting for an item. */
interface Waiter<T> {
  resolve(result: IteratorResult<T>): void;
  reject(error: unknown): void;
}

/** Waiters, the end, and the iterator protocol; subclasses hold the items. */
abstract class Queue<T> {
  #done = false;
  #failure: EventSourceError | null = null;
  /**
   * `next()` calls waiting, oldest first. Usually one (`for await`), but a caller may call
   * next() again before the last promise settled: each call gets its own item, in call order.
   * Waiters only exist while nothing is buffered.
   */
  readonly #waiters: Waiter<T>[] = [];
  /** Fixed, and asked per event. */
  readonly #pauses: boolean;
  readonly #bufferSize: number;
  readonly #overflow: Overflow;
  readonly #hooks: QueueHooks;

  constructor(bufferSize: number, overflow: Overflow, hooks: QueueHooks) {
    this.#pauses = pauses(overflow);
    this.#bufferSize = bufferSize;
    this.#overflow = overflow;
    this.#hooks = hooks;
  }

  /** Items waiting: events or records, or under "latest-by-key", keys. */
  abstract get size(): number;
  /** The next item, or undefined when none waits. */
  protected abstract take(): T | undefined;
  protected abstract clear(): void;

  /** At its bound under a policy that pauses the source. */
  get full(): boolean {
    return this.#pauses && this.size >= this.#bufferSize;
  }

  /**
   * `items[from..]` join `waiting` under the overflow policy; returns how many items it let go.
   * `items` becomes the queue's own.
   */
  protected enqueue<I>(waiting: ChunkRing<I>, items: I[], from: number): number {
    const { dropWaiting, dropFirst, dropLast } = admit(waiting.count, items.length - from, this.#bufferSize, this.#overflow);
    if (dropLast !== 0) items.length -= dropLast;
    waiting.dropOldest(dropWaiting);
    waiting.push(items, from + dropFirst);
    return dropWaiting + dropFirst + dropLast;
  }

  /** Hands `item` to the oldest waiting `next()`; false when none waits. */
  protected handOff(item: T): boolean {
    if (this.#waiters.length === 0) return false;
    const waiter = this.#waiters.shift()!;
    waiter.resolve({ value: item, done: false });
    return true;
  }

  protected get waiting(): boolean {
    return this.#waiters.length !== 0;
  }

  /**
   * No more items. Buffered ones are still yielded; then `failure` is thrown once (to the
   * oldest waiting or next call), then it is plain done.
   */
  end(failure: EventSourceError | null): void {
    if (this.#done) return;
    this.#done = true;
    this.#failure = failure;
    for (const waiter of this.#waiters.splice(0)) {
      const error = this.#takeFailure();
      if (error !== null) waiter.reject(error);
      else waiter.resolve({ value: undefined, done: true });
    }
  }

  #takeFailure(): EventSourceError | null {
    const failure = this.#failure;
    this.#failure = null;
    return failure;
  }

  #next(): Promise<IteratorResult<T>> {
    const wasFull = this.full;
    const item = this.take();
    if (item !== undefined) {
      if (wasFull && this.size < this.#bufferSize) this.#hooks.onDrain();
      return Promise.resolve({ value: item, done: false });
    }
    if (this.#done) {
      const failure = this.#takeFailure();
      return failure !== null ? Promise.reject(failure) : Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #return(): Promise<IteratorResult<T>> {
    this.clear();
    this.#failure = null;
    this.#hooks.onReturn();
    this.end(null);
    return Promise.resolve({ value: undefined, done: true });
  }

  iterator(): AsyncIterableIterator<T> {
    const iterator: AsyncIterableIterator<T> = {
      next: () => this.#next(),
      return: () => this.#return(),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }
}

/**
 * One `events()` consumer: one event per `next()`, taken from the arrays the source hands
 * it (one per network chunk; see Delivery.flush).
 */
export class EventQueue<T extends { readonly type: string }> extends Queue<T> {
  readonly #types: ReadonlySet<string> | null;
  readonly #key: ((event: T) => unknown) | null;
  readonly #waiting = new ChunkRing<T>();
  /** "latest-by-key": the waiting events by key (see `conflate`). */
  readonly #latest = new Map<unknown, T>();

  constructor(settings: ConsumerSettings<T>, hooks: QueueHooks) {
    super(settings.bufferSize, settings.overflow, hooks);
    this.#types = settings.types;
    this.#key = settings.key;
  }

  get size(): number {
    return this.#key === null ? this.#waiting.count : this.#latest.size;
  }

  /** `events` (one chunk's, never empty) becomes this queue's own; returns the events dropped. */
  push(events: T[]): number {
    const types = this.#types;
    if (types !== null) events = events.filter((e) => types.has(e.type));
    const n = events.length;
    let i = 0;
    // Waiters exist only while nothing is queued, so what they do not take starts the queue.
    while (i < n && this.handOff(events[i]!)) i++;
    if (i === n) return 0;
    if (this.#key !== null) return conflate(this.#latest, events, i, this.#key);
    return this.enqueue(this.#waiting, events, i);
  }

  protected take(): T | undefined {
    if (this.#key !== null) {
      for (const [key, event] of this.#latest) {
        this.#latest.delete(key);
        return event;
      }
      return undefined;
    }
    return this.#waiting.shift();
  }

  protected clear(): void {
    this.#waiting.clear();
    this.#latest.clear();
  }
}

/**
 * One `batches()` consumer: an array per network chunk, or, with "latest-by-key", per flush
 * (every record waiting when `next()` is called, at most one per key). Its bound counts
 * records, not arrays.
 */
export class BatchQueue<R extends { readonly type: string }> extends Queue<R[]> {
  readonly #types: ReadonlySet<string> | null;
  readonly #key: ((record: R) => unknown) | null;
  readonly #waiting = new ChunkRing<R>();
  readonly #latest = new Map<unknown, R>();

  constructor(settings: ConsumerSettings<R>, hooks: QueueHooks) {
    super(settings.bufferSize, settings.overflow, hooks);
    this.#types = settings.types;
    this.#key = settings.key;
  }

  get size(): number {
    return this.#key === null ? this.#waiting.count : this.#latest.size;
  }

  /** `records` becomes this queue's own (Consumers gives each queue its own array). */
  push(records: R[]): number {
    const types = this.#types;
    if (types !== null) records = records.filter((r) => types.has(r.type));
    if (records.length === 0) return 0;
    if (this.#key !== null) {
      // Conflated within the chunk too: a batch never holds two records of one key.
      const dropped = conflate(this.#latest, records, 0, this.#key);
      if (this.waiting) this.handOff(this.take()!);
      return dropped;
    }
    if (this.handOff(records)) return 0;
    return this.enqueue(this.#waiting, records, 0);
  }

  protected take(): R[] | undefined {
    if (this.#key !== null) {
      if (this.#latest.size === 0) return undefined;
      const batch = Array.from(this.#latest.values());
      this.#latest.clear();
      return batch;
    }
    return this.#waiting.shiftChunk();
  }

  protected clear(): void {
    this.#waiting.clear();
    this.#latest.clear();
  }
}
