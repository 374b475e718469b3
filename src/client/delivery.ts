/**
 * Where a source's parsed events go: listeners (as MessageEvents, dispatched), `events()`
 * iterators (the same MessageEvents) and `batches()` iterators (the parser's plain records,
 * one array per chunk). The routes are worked out when listeners or iterators come and go
 * (see listeners.ts), so that per event there are only a few boolean tests: a source with
 * only `batches()` consumers makes no MessageEvent and dispatches nothing.
 */
import type { ParsedEvent } from "../parser/types.js";
import { Consumers } from "./consumers.js";
import type { EventSourceError } from "./errors.js";
import type { EventSourceMessageEvent, EventSourceStats } from "./events.js";
import { ListenerBook } from "./listeners.js";
import { makeMessageEvent } from "./message-event.js";
import type { ConsumerSettings } from "./options.js";
import { BatchQueue, EventQueue } from "./queues.js";

export class Delivery {
  readonly #target: EventTarget;
  readonly #stats: Pick<EventSourceStats, "events" | "dropped">;
  readonly #events: Consumers<EventSourceMessageEvent[]>;
  readonly #batches: Consumers<ParsedEvent[]>;
  readonly book = new ListenerBook(() => this.#routes());
  /** Event `origin`: that of the stream's final URL. */
  origin = "";
  /** The records of the chunk being parsed, while a `batches()` iterator exists. */
  #batch: ParsedEvent[] | null = null;
  /**
   * The records in #batch so far. Each chunk's array is made with room for as many as the last
   * chunk had and filled by index: growing it record by record reallocated it about ten times
   * per 64 KiB chunk. Counted per event (bench/callgrind-e2e.mjs), `batches()` 2,218 -> 2,049
   * and `events()` (#chunkEvents likewise) 4,039 -> 3,967. Written out twice on purpose: a
   * helper class for both measured 2,143 and 4,096.
   */
  #batchLength = 0;
  /** The MessageEvents of the chunk being parsed, while an `events()` iterator exists (else null). */
  #chunkEvents: EventSourceMessageEvent[] | null = null;
  #chunkEventsLength = 0;
  #dispatch = false;
  #builtInListeners = false;
  #makeEvents = false;
  /** Set by `end()`: the source is closed for good, and a later iterator ends at once. */
  #ended: { readonly failure: EventSourceError | null } | null = null;

  /** @param onPressure - an iterator's fullness may have changed (see `full`). */
  constructor(target: EventTarget, stats: Pick<EventSourceStats, "events" | "dropped">, onPressure: () => void) {
    this.#target = target;
    this.#stats = stats;
    this.#events = new Consumers(onPressure);
    this.#batches = new Consumers(onPressure);
  }

  /** A "block" iterator is at its bound: the source should pause its socket. */
  get full(): boolean {
    return this.#events.full || this.#batches.full;
  }

  /** One event of an open connection (HTML "dispatch the event", steps 4-8 for the DOM). */
  deliver(parsed: ParsedEvent): void {
    this.#stats.events++;
    const batch = this.#batch;
    if (batch !== null) {
      // Two sites, so that the store into the room made never has to grow the array: one
      // site that did both went megamorphic (100 instructions a record, counted).
      const i = this.#batchLength++;
      if (i < batch.length) batch[i] = parsed;
      else batch.push(parsed);
    }
    if (!this.#makeEvents) return;
    const type = parsed.type;
    // A server's `event: error` or `event: open` reaches the listeners of those types.
    const listened = this.#dispatch || (this.#builtInListeners && (type === "error" || type === "open"));
    if (!listened && this.#chunkEvents === null) return;
    // 4-6. A MessageEvent, type "message" or the event type buffer, with data, origin and
    // lastEventId.
    const event = makeMessageEvent(type, parsed.data, this.origin, parsed.lastEventId);
    if (listened) this.#target.dispatchEvent(event);
    // Read after the listeners ran: one of them may have made the first iterator, or flushed
    // the chunk's array by making another.
    const events = this.#chunkEvents;
    if (events !== null) {
      const i = this.#chunkEventsLength++;
      if (i < events.length) events[i] = event;
      else events.push(event);
    }
  }

  /** The chunk was parsed: its events go to the iterators. */
  flush(): void {
    this.#flushEvents();
    const batch = this.#batch;
    const length = this.#batchLength;
    if (batch === null || length === 0) return;
    batch.length = length;
    // Capped: a chunk of tiny events is no reason to keep a huge array ready.
    this.#batch = new Array<ParsedEvent>(Math.min(length, 8192));
    this.#batchLength = 0;
    this.#stats.dropped += this.#batches.pushArray(batch);
  }

  #flushEvents(): void {
    const events = this.#chunkEvents;
    const length = this.#chunkEventsLength;
    if (events === null || length === 0) return;
    events.length = length;
    this.#chunkEvents = new Array<EventSourceMessageEvent>(Math.min(length, 8192));
    this.#chunkEventsLength = 0;
    if (this.#events.size !== 0) this.#stats.dropped += this.#events.pushArray(events);
  }

  addEvents(settings: ConsumerSettings<EventSourceMessageEvent>, onReturn: () => void): EventQueue<EventSourceMessageEvent> {
    // Added by a listener in the middle of a chunk: the events before it are not its own.
    this.#flushEvents();
    const queue = this.#events.add((hooks) => new EventQueue(settings, hooks), onReturn);
    this.#added();
    return queue;
  }

  addBatches(settings: ConsumerSettings<ParsedEvent>, onReturn: () => void): BatchQueue<ParsedEvent> {
    const queue = this.#batches.add((hooks) => new BatchQueue(settings, hooks), onReturn);
    this.#added();
    return queue;
  }

  /**
   * The source is closed for good: every iterator ends, after its buffered events; `failure`
   * (if any) is thrown once by each, and by any iterator made later.
   */
  end(failure: EventSourceError | null): void {
    this.#ended = { failure };
    // Records of a chunk cut short by close() in a listener were received: they go first.
    this.flush();
    this.#events.end(failure);
    this.#batches.end(failure);
    this.#routes();
  }

  #added(): void {
    if (this.#ended !== null) this.end(this.#ended.failure);
    else this.#routes();
  }

  #routes(): void {
    this.#dispatch = this.book.messageTypes !== 0;
    this.#builtInListeners = this.book.builtInTypes !== 0;
    this.#makeEvents = this.#dispatch || this.#builtInListeners || this.#events.size !== 0;
    if (this.#events.size === 0) {
      this.#chunkEvents = null;
      this.#chunkEventsLength = 0;
    } else this.#chunkEvents ??= [];
    if (this.#batches.size === 0) {
      this.#batch = null;
      this.#batchLength = 0;
    } else this.#batch ??= [];
  }
}
