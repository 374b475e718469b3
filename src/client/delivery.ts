/**
 * The one place a source's body chunks go: `chunk()` feeds the parser, which calls this
 * object back per event (it is the parser's callbacks: `onEvent`, `onRetry`, `onError`), and
 * the events go on to listeners (as MessageEvents, dispatched), `events()` iterators (the same
 * MessageEvents) and `batches()` iterators (the parser's plain records, one array per chunk);
 * at the end of the chunk its events are handed to the iterators at once (`flush`). The
 * routes are worked out when listeners or iterators come and go (see listeners.ts), so that
 * per event there are only a few boolean tests: a source with only `batches()` consumers
 * makes no MessageEvent and dispatches nothing.
 */
import { createParser } from "../parser/index.js";
import type { ParseError } from "../parser/errors.js";
import type { EventStreamParser, ParsedEvent, ParserCallbacks, ParserOptions } from "../parser/types.js";
import { Consumers } from "./consumers.js";
import { type EventSourceError, EventSourceErrorEvent } from "./errors.js";
import type { EventSourceMessageEvent } from "./types.js";
import { ListenerBook } from "./listeners.js";
import { makeMessageEvent } from "./message-event.js";
import type { ConsumerSettings } from "./options.js";
import { BatchQueue, EventQueue } from "./queues.js";
import type { ReconnectPolicy } from "./reconnect.js";

export class Delivery implements ParserCallbacks {
  /**
   * The source is OPEN. HTML dispatch step 8: "Queue a task which, if the readyState attribute
   * is set to a value other than CLOSED, dispatches the newly created event". Cleared by
   * close() in a listener, it also skips the rest of that chunk.
   */
  open = false;
  /** Events received on open connections (`stats.events`). */
  events = 0;
  /** Body bytes fed to the parser (`stats.bytes`). */
  bytes = 0;
  /** Events dropped by iterators' overflow policies (`stats.dropped`). */
  dropped = 0;
  /** Events the parser discarded (`stats.parseErrors`). */
  parseErrors = 0;
  /** `Date.now()` when the last chunk that carried events was parsed. */
  lastEventAt: number | null = null;
  readonly parser: EventStreamParser;
  readonly #target: EventTarget;
  readonly #reconnect: ReconnectPolicy;
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

  /**
   * @param reconnect - takes the stream's `retry:` fields.
   * @param onPressure - an iterator's fullness may have changed (see `full`).
   */
  constructor(target: EventTarget, parserOptions: ParserOptions, reconnect: ReconnectPolicy, onPressure: () => void) {
    this.#target = target;
    this.#reconnect = reconnect;
    this.#events = new Consumers(onPressure);
    this.#batches = new Consumers(onPressure);
    this.parser = createParser(this, parserOptions);
  }

  /**
   * HTML constructor step 15.4, "interpret res's body line by line": one chunk of the body.
   * `now` is `Date.now()` if the caller read the clock for this chunk, else 0.
   */
  chunk(bytes: Uint8Array, now: number): void {
    this.bytes += bytes.byteLength;
    const before = this.events;
    this.parser.feed(bytes);
    if (this.events !== before) {
      this.lastEventAt = now !== 0 ? now : Date.now();
      this.flush();
    }
  }

  /** A "block" iterator is at its bound: the source should pause its socket. */
  get full(): boolean {
    return this.#events.full || this.#batches.full;
  }

  /** The parser dispatched an event (HTML "dispatch the event", steps 4-8 for the DOM). */
  onEvent(parsed: ParsedEvent): void {
    if (!this.open) return;
    this.events++;
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

  /**
   * "If the field value consists of only ASCII digits, then interpret the field value as an
   * integer in base ten, and set the event stream's reconnection time to that integer." - at
   * once, when the line is read.
   */
  onRetry(ms: number): void {
    if (this.open) this.#reconnect.reconnectionTime = ms;
  }

  /** The parser discarded an event (over `maxEventSize`); the connection goes on, still OPEN. */
  onError(error: ParseError): void {
    if (!this.open) return;
    this.parseErrors++;
    this.#target.dispatchEvent(
      new EventSourceErrorEvent({ code: error.code, message: error.message, cause: error, willReconnect: false }),
    );
  }

  /** The chunk was parsed (or the source is ending): its events go to the iterators. */
  flush(): void {
    this.#flushEvents();
    const batch = this.#batch;
    const length = this.#batchLength;
    if (batch === null || length === 0) return;
    batch.length = length;
    // Capped: a chunk of tiny events is no reason to keep a huge array ready.
    this.#batch = new Array<ParsedEvent>(Math.min(length, 8192));
    this.#batchLength = 0;
    this.dropped += this.#batches.pushArray(batch);
  }

  #flushEvents(): void {
    const events = this.#chunkEvents;
    const length = this.#chunkEventsLength;
    if (events === null || length === 0) return;
    events.length = length;
    this.#chunkEvents = new Array<EventSourceMessageEvent>(Math.min(length, 8192));
    this.#chunkEventsLength = 0;
    if (this.#events.size !== 0) this.dropped += this.#events.pushArray(events);
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
