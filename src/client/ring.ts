/**
 * The storage of an iterator's waiting items: a ring buffer, and on it the arrays the items
 * came in (one per network chunk), read item by item or array by array.
 */

/**
 * A FIFO on a ring of power-of-two capacity. The ring is kept when it empties, as a consumer
 * that keeps up empties it about once per chunk, unless it grew past `KEEP` slots (64 KiB of
 * references: a backlog of thousands of chunks is not held for ever).
 */
export class Ring<T> {
  static readonly KEEP = 8192;
  #ring: (T | undefined)[] = new Array<T | undefined>(16);
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  /** The slots allocated (16 at first, doubled when full): what the ring holds on to. */
  get capacity(): number {
    return this.#ring.length;
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
      if (ring.length > Ring.KEEP) this.#ring = new Array<T | undefined>(16);
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
 * Items waiting in the arrays they came in, oldest first, the first array read from an offset.
 * Kept as they came, so that an event costs one store into a young array: stored one by one
 * into a long-lived ring, each cost a write barrier (a tenth of the instructions per event of
 * `for await`, counted). An array pushed becomes this ring's own: it may be cut and cleared.
 */
export class ChunkRing<T> {
  readonly #chunks = new Ring<(T | undefined)[]>();
  /** Where the first array's waiting items start. */
  #head = 0;
  #count = 0;

  /** Items waiting. */
  get count(): number {
    return this.#count;
  }

  /** `items[from..]` wait after the others; those before `from` are let go. */
  push(items: T[], from: number): void {
    if (from >= items.length) return;
    if (this.#count === 0) {
      this.#head = from;
      if (from !== 0) (items as (T | undefined)[]).fill(undefined, 0, from);
    } else if (from !== 0) {
      // Only the first array is read from an offset.
      items = items.slice(from);
      from = 0;
    }
    this.#chunks.push(items);
    this.#count += items.length - from;
  }

  /** The oldest item, or undefined when none waits. */
  shift(): T | undefined {
    const first = this.#chunks.peek();
    if (first === undefined) return undefined;
    const head = this.#head;
    const item = first[head];
    if (head + 1 === first.length) {
      this.#chunks.shift();
      this.#head = 0;
    } else {
      // Not kept alive by the array until its last item is taken.
      first[head] = undefined;
      this.#head = head + 1;
    }
    this.#count--;
    return item as T;
  }

  /** The oldest array's waiting items, or undefined when none waits. */
  shiftChunk(): T[] | undefined {
    const first = this.#chunks.shift() as T[] | undefined;
    if (first === undefined) return undefined;
    const head = this.#head;
    this.#head = 0;
    this.#count -= first.length - head;
    return head === 0 ? first : first.slice(head);
  }

  /** Lets the `count` oldest items go (all, when fewer wait). */
  dropOldest(count: number): void {
    for (let first = this.#chunks.peek(); count > 0 && first !== undefined; first = this.#chunks.peek()) {
      const left = first.length - this.#head;
      if (left <= count) {
        this.#chunks.shift();
        this.#head = 0;
        this.#count -= left;
        count -= left;
      } else {
        // The array stays (its newer items wait): the dropped ones are let go now.
        first.fill(undefined, this.#head, this.#head + count);
        this.#head += count;
        this.#count -= count;
        count = 0;
      }
    }
  }

  clear(): void {
    this.#chunks.clear();
    this.#head = 0;
    this.#count = 0;
  }
}
