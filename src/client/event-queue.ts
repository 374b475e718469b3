/**
 * The consumers of a source's iterators: `events()` (one MessageEvent at a time) and
 * `batches()` (arrays of plain records). Each is a queue with the `next()` calls waiting on it,
 * its end, and its overflow policy (see `Overflow` in options.ts). A queue talks to its source
 * only through the hooks it is given, so backpressure and close stay the source's business.
 */
import type { EventSourceError } from "./errors.js";
import type { ConsumerSettings, Overflow } from "./options.js";

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

/** What `Consumers` needs of a queue; `push` returns the events it dropped. */
interface Consumer<Item> {
  readonly full: boolean;
  push(item: Item): number;
  end(failure: EventSourceError | null): void;
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
  /** The policy pauses the source at the bound, so `full` can be true (fixed, and asked per event). */
  readonly #pauses: boolean;

  constructor(
    readonly bufferSize: number,
    readonly overflow: Overflow,
    readonly hooks: QueueHooks,
  ) {
    this.#pauses = overflow === "block" || overflow === "latest-by-key";
  }

  /** Events waiting. */
  abstract get size(): number;
  /** The next item, or undefined when none waits. */
  protected abstract take(): T | undefined;
  protected abstract clear(): void;

  /** At its bound under a policy that pauses the source ("block"; "latest-by-key" on keys). */
  get full(): boolean {
    return this.#pauses && this.size >= this.bufferSize;
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
      if (wasFull && this.size < this.bufferSize) this.hooks.onDrain();
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
    this.hooks.onReturn();
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
 * A FIFO on a ring of power-of-two capacity, of arrays (a chunk's events or records). The
 * ring is kept when it empties, as a consumer that keeps up empties it about once per chunk,
 * unless it grew past `KEEP` slots (64 KiB of references: a backlog of thousands of chunks
 * is not held for ever).
 */
class Fifo<T> {
  static readonly KEEP = 8192;
  #ring: (T | undefined)[] = new Array<T | undefined>(16);
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    if (this.#length === this.#ring.length) this.#grow();
    this.#ring[(this.#head + this.#length) & (this.#ring.length - 1)] = item;
    this.#length++;
  }

  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#ring[this.#head];
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const ring = this.#ring;
    const item = ring[this.#head];
    ring[this.#head] = undefined;
    this.#head = (this.#head + 1) & (ring.length - 1);
    if (--this.#length === 0) {
      this.#head = 0;
      if (ring.length > Fifo.KEEP) this.#ring = new Array<T | undefined>(16);
    }
    return item;
  }

  clear(): void {
    this.#ring = new Array<T | undefined>(16);
    this.#head = 0;
    this.#length = 0;
  }

  #grow(): void {
    const ring = this.#ring;
    const next = new Array<T | undefined>(ring.length * 2);
    for (let i = 0; i < this.#length; i++) next[i] = ring[(this.#head + i) & (ring.length - 1)];
    this.#ring = next;
    this.#head = 0;
  }
}

/**
 * One `events()` consumer: one event per `next()`, taken from the arrays the source hands
 * it (one per network chunk; see Delivery.flush). Kept as they came, so that an event costs
 * one store into a young array: stored one by one into a long-lived ring, each cost a write
 * barrier (a tenth of the instructions per event of `for await`, counted).
 */
export class EventQueue<T extends { readonly type: string }> extends Queue<T> implements Consumer<T[]> {
  readonly #types: ReadonlySet<string> | null;
  readonly #key: ((event: T) => unknown) | null;
  /** The arrays with events waiting, oldest first; the first one's are read from #head. */
  readonly #arrays = new Fifo<(T | undefined)[]>();
  #head = 0;
  #count = 0;
  /** "latest-by-key": the waiting events by key; a Map keeps a key's first place on `set`. */
  readonly #byKey = new Map<unknown, T>();

  constructor(settings: ConsumerSettings<T>, hooks: QueueHooks) {
    super(settings.bufferSize, settings.overflow, hooks);
    this.#types = settings.types;
    this.#key = settings.key;
  }

  get size(): number {
    return this.#key === null ? this.#count : this.#byKey.size;
  }

  /** `events` (one chunk's, never empty) becomes this queue's own. */
  push(events: T[]): number {
    const types = this.#types;
    if (types !== null) events = events.filter((e) => types.has(e.type));
    const n = events.length;
    let i = 0;
    // Waiters exist only while nothing is queued, so what they do not take starts the queue.
    while (i < n && this.handOff(events[i]!)) i++;
    if (i === n) return 0;
    const key = this.#key;
    if (key !== null) {
      const byKey = this.#byKey;
      let dropped = 0;
      for (; i < n; i++) {
        const before = byKey.size;
        byKey.set(key(events[i]!), events[i]!);
        if (byKey.size === before) dropped++;
      }
      return dropped;
    }
    let dropped = 0;
    const over = this.#count + (n - i) - this.bufferSize;
    if (over > 0 && this.overflow === "drop-newest") {
      dropped = Math.min(over, n - i);
      events.length = n - dropped;
      if (events.length === i) return dropped;
    }
    if (this.#count === 0) this.#head = i;
    this.#arrays.push(events);
    this.#count += events.length - i;
    if (over > 0 && this.overflow === "drop-oldest") {
      this.#dropOldest(over);
      dropped = over;
    }
    return dropped;
  }

  #dropOldest(count: number): void {
    this.#count -= count;
    for (let first = this.#arrays.peek(); count > 0 && first !== undefined; first = this.#arrays.peek()) {
      const left = first.length - this.#head;
      if (left <= count) {
        this.#arrays.shift();
        this.#head = 0;
        count -= left;
      } else {
        // The array stays (its newer events wait): the dropped ones are let go now.
        first.fill(undefined, this.#head, this.#head + count);
        this.#head += count;
        count = 0;
      }
    }
  }

  protected take(): T | undefined {
    if (this.#key !== null) {
      for (const [key, event] of this.#byKey) {
        this.#byKey.delete(key);
        return event;
      }
      return undefined;
    }
    const first = this.#arrays.peek();
    if (first === undefined) return undefined;
    const head = this.#head;
    const event = first[head];
    if (head + 1 === first.length) {
      this.#arrays.shift();
      this.#head = 0;
    } else {
      // Not kept alive by the array until its last event is taken.
      first[head] = undefined;
      this.#head = head + 1;
    }
    this.#count--;
    return event;
  }

  protected clear(): void {
    this.#arrays.clear();
    this.#head = 0;
    this.#count = 0;
    this.#byKey.clear();
  }
}

/**
 * One `batches()` consumer: an array per network chunk, or, with "latest-by-key", per flush
 * (every record waiting when `next()` is called, at most one per key). Its bound counts
 * records, not arrays.
 */
export class BatchQueue<R extends { readonly type: string }> extends Queue<R[]> implements Consumer<R[]> {
  readonly #types: ReadonlySet<string> | null;
  readonly #key: ((record: R) => unknown) | null;
  readonly #fifo = new Fifo<R[]>();
  #count = 0;
  readonly #byKey = new Map<unknown, R>();

  constructor(settings: ConsumerSettings<R>, hooks: QueueHooks) {
    super(settings.bufferSize, settings.overflow, hooks);
    this.#types = settings.types;
    this.#key = settings.key;
  }

  get size(): number {
    return this.#key === null ? this.#count : this.#byKey.size;
  }

  /** `records` becomes this queue's own (Consumers gives each queue its own array). */
  push(records: R[]): number {
    const types = this.#types;
    if (types !== null) records = records.filter((r) => types.has(r.type));
    if (records.length === 0) return 0;
    const key = this.#key;
    if (key !== null) {
      // Conflated within the chunk too: a batch never holds two records of one key.
      const byKey = this.#byKey;
      let dropped = 0;
      for (const record of records) {
        const before = byKey.size;
        byKey.set(key(record), record);
        if (byKey.size === before) dropped++;
      }
      if (this.waiting) this.handOff(this.take()!);
      return dropped;
    }
    if (this.handOff(records)) return 0;
    let dropped = 0;
    const over = this.#count + records.length - this.bufferSize;
    if (over > 0 && this.overflow === "drop-newest") {
      dropped = Math.min(over, records.length);
      records.length -= dropped;
      if (records.length === 0) return dropped;
    } else if (over > 0 && this.overflow === "drop-oldest") {
      let excess = over;
      for (let head = this.#fifo.peek(); head !== undefined && excess > 0; head = this.#fifo.peek()) {
        if (head.length <= excess) {
          this.#fifo.shift();
          excess -= head.length;
          this.#count -= head.length;
        } else {
          head.splice(0, excess);
          this.#count -= excess;
          excess = 0;
        }
      }
      // More new records than the bound: the oldest of them go too.
      if (excess > 0) records.splice(0, excess);
      dropped = over;
    }
    this.#fifo.push(records);
    this.#count += records.length;
    return dropped;
  }

  protected take(): R[] | undefined {
    if (this.#key !== null) {
      if (this.#byKey.size === 0) return undefined;
      const batch = Array.from(this.#byKey.values());
      this.#byKey.clear();
      return batch;
    }
    const batch = this.#fifo.shift();
    if (batch !== undefined) this.#count -= batch.length;
    return batch;
  }

  protected clear(): void {
    this.#fifo.clear();
    this.#count = 0;
    this.#byKey.clear();
  }
}

/**
 * The iterators of one kind on one source: each item goes to every queue, and `full` says
 * whether any of them is at its bound (the source then pauses its socket).
 */
export class Consumers<Item> {
  readonly #queues = new Set<Consumer<Item>>();
  /** The queue when there is exactly one (the usual case), so `push` skips the Set's iterator. */
  #only: Consumer<Item> | null = null;

  /** @param onPressure - called when `full` may have changed. */
  constructor(readonly onPressure: () => void) {}

  get size(): number {
    return this.#queues.size;
  }

  get full(): boolean {
    if (this.#only !== null) return this.#only.full;
    for (const queue of this.#queues) if (queue.full) return true;
    return false;
  }

  /** A new consumer, made by `make` with its hooks; `onReturn` runs when it is returned. */
  add<Q extends Consumer<Item>>(make: (hooks: QueueHooks) => Q, onReturn: () => void): Q {
    const queue: Q = make({
      onDrain: this.onPressure,
      onReturn: () => {
        this.#queues.delete(queue);
        this.#setOnly();
        onReturn();
      },
    });
    this.#queues.add(queue);
    this.#setOnly();
    return queue;
  }

  #setOnly(): void {
    this.#only = this.#queues.size === 1 ? this.#queues.values().next().value! : null;
  }

  /**
   * Gives `item` to every queue; returns the events dropped by their policies. `onPressure`
   * runs only when a queue becomes full: one already full had the source paused then, and
   * a "block" queue at its bound takes the rest of a chunk one event at a time.
   */
  push(item: Item): number {
    const only = this.#only;
    if (only !== null) {
      const wasFull = only.full;
      const dropped = only.push(item);
      if (!wasFull && only.full) this.onPressure();
      return dropped;
    }
    let dropped = 0;
    let full = false;
    for (const queue of this.#queues) {
      const wasFull = queue.full;
      dropped += queue.push(item);
      if (!wasFull && queue.full) full = true;
    }
    if (full) this.onPressure();
    return dropped;
  }

  /**
   * As `push`, for arrays that queues may keep and cut (a chunk's events or records): the
   * last queue gets `items` itself, the others a copy each.
   */
  pushArray(items: Item & unknown[]): number {
    if (this.#queues.size === 1) return this.push(items);
    let dropped = 0;
    let full = false;
    let left = this.#queues.size;
    for (const queue of this.#queues) {
      dropped += queue.push((--left === 0 ? items : items.slice()) as Item);
      if (queue.full) full = true;
    }
    if (full) this.onPressure();
    return dropped;
  }

  /** Every consumer ends (after its buffered items); `failure` is thrown once by each. */
  end(failure: EventSourceError | null): void {
    for (const queue of this.#queues) queue.end(failure);
    this.#queues.clear();
    this.#only = null;
  }
}
