/**
 * One consumer of `events()`: a FIFO of events with a head index (no O(n) shift), the
 * `next()` calls waiting on it, and its end. It talks to its source only through the hooks it
 * is given, so the source's backpressure and close stay the source's business.
 */
import type { EventSourceError } from "./errors.js";

export interface QueueHooks {
  /** The queue fell below its bound: the source may resume reading. */
  onDrain(): void;
  /** The consumer stopped (`return()`, a `break` out of `for await`). */
  onReturn(): void;
}

/** A `next()` waiting for an event. */
interface Waiter<T> {
  resolve(result: IteratorResult<T>): void;
  reject(error: unknown): void;
}

export class EventQueue<T extends { readonly type: string }> {
  #buffer: (T | undefined)[] = [];
  #head = 0;
  #done = false;
  #failure: EventSourceError | null = null;
  /**
   * `next()` calls waiting for an event, oldest first. Usually one (`for await`), but a
   * caller may call next() again before the last promise settled: each call gets its own
   * event, in call order, and none is left pending.
   */
  readonly #waiters: Waiter<T>[] = [];

  constructor(
    readonly types: ReadonlySet<string> | null,
    readonly maxBuffered: number,
    readonly hooks: QueueHooks,
  ) {}

  get size(): number {
    return this.#buffer.length - this.#head;
  }

  /** At its bound: the source should stop reading. */
  get full(): boolean {
    return this.size >= this.maxBuffered;
  }

  accepts(type: string): boolean {
    return this.types === null || this.types.has(type);
  }

  push(event: T): void {
    // Waiters only exist while the buffer is empty: the oldest takes the event.
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve({ value: event, done: false });
    else this.#buffer.push(event);
  }

  /**
   * No more events. Buffered ones are still yielded; then `failure` is thrown once (to the
   * oldest waiting or next call), then it is plain done.
   */
  end(failure: EventSourceError | null): void {
    if (this.#done) return;
    this.#done = true;
    this.#failure = failure;
    // Waiting consumers have an empty buffer: settle them now.
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
    if (this.size > 0) {
      const buffer = this.#buffer;
      const event = buffer[this.#head]!;
      buffer[this.#head] = undefined;
      this.#head++;
      if (this.#head === buffer.length) {
        buffer.length = 0;
        this.#head = 0;
      } else if (this.#head >= 1024 && this.#head * 2 >= buffer.length) {
        buffer.splice(0, this.#head);
        this.#head = 0;
      }
      if (this.size === this.maxBuffered - 1) this.hooks.onDrain();
      return Promise.resolve({ value: event, done: false });
    }
    if (this.#done) {
      const failure = this.#takeFailure();
      return failure !== null ? Promise.reject(failure) : Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #return(): Promise<IteratorResult<T>> {
    this.#buffer = [];
    this.#head = 0;
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
 * The iterators of one source: each event goes to every queue that accepts its type, and
 * `full` says whether any of them is at its bound (the source then pauses its socket).
 */
export class Consumers<T extends { readonly type: string }> {
  readonly #queues = new Set<EventQueue<T>>();

  /** @param onPressure - called when `full` may have changed. */
  constructor(readonly onPressure: () => void) {}

  get size(): number {
    return this.#queues.size;
  }

  get full(): boolean {
    for (const queue of this.#queues) if (queue.full) return true;
    return false;
  }

  /** A new consumer. `onReturn` runs when its iterator's `return()` is called. */
  add(types: Iterable<string> | undefined, maxBuffered: number, onReturn: () => void): AsyncIterableIterator<T> {
    const queue: EventQueue<T> = new EventQueue(types ? new Set(types) : null, maxBuffered, {
      onDrain: this.onPressure,
      onReturn: () => {
        this.#queues.delete(queue);
        onReturn();
      },
    });
    this.#queues.add(queue);
    return queue.iterator();
  }

  push(event: T): void {
    let full = false;
    for (const queue of this.#queues) {
      if (!queue.accepts(event.type)) continue;
      queue.push(event);
      if (queue.full) full = true;
    }
    if (full) this.onPressure();
  }

  /** Every consumer ends (after its buffered events); `failure` is thrown once by each. */
  end(failure: EventSourceError | null): void {
    for (const queue of this.#queues) queue.end(failure);
    this.#queues.clear();
  }
}
