/**
 * The iterators of one kind on one source (`events()` or `batches()`, see queues.ts): each
 * chunk's items go to every queue, and `full` says whether any of them is at its bound (the
 * source then pauses its socket).
 */
import type { EventSourceError } from "./errors.js";
import type { QueueHooks } from "./queues.js";

/** What `Consumers` needs of a queue; `push` returns the items it dropped. */
export interface Consumer<Item> {
  readonly full: boolean;
  push(item: Item): number;
  end(failure: EventSourceError | null): void;
}

export class Consumers<Item> {
  readonly #queues = new Set<Consumer<Item>>();
  /** The queue when there is exactly one (the usual case), so `pushArray` skips the Set's iterator. */
  #only: Consumer<Item> | null = null;

  readonly #onPressure: () => void;

  /** @param onPressure - called when `full` may have changed. */
  constructor(onPressure: () => void) {
    this.#onPressure = onPressure;
  }

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
      onDrain: this.#onPressure,
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
   * Gives a chunk's items (events or records) to every queue, which may keep and cut the
   * array: the last queue gets `items` itself, the others a copy each. Returns the items their
   * policies dropped. `onPressure` runs only when a queue becomes full: one already full had
   * the source paused then, and a "block" queue at its bound takes the rest of a chunk.
   */
  pushArray(items: Item & unknown[]): number {
    const only = this.#only;
    if (only !== null) {
      const wasFull = only.full;
      const dropped = only.push(items);
      if (!wasFull && only.full) this.#onPressure();
      return dropped;
    }
    let dropped = 0;
    let filled = false;
    let left = this.#queues.size;
    for (const queue of this.#queues) {
      const wasFull = queue.full;
      dropped += queue.push((--left === 0 ? items : items.slice()) as Item);
      if (!wasFull && queue.full) filled = true;
    }
    if (filled) this.#onPressure();
    return dropped;
  }

  /** Every consumer ends (after its buffered items); `failure` is thrown once by each. */
  end(failure: EventSourceError | null): void {
    for (const queue of this.#queues) queue.end(failure);
    this.#queues.clear();
    this.#only = null;
  }
}
