/**
 * `EventSource`: the WHATWG HTML "Server-sent events" interface (section 9.2), plus what
 * server-side users need (headers, method/body, a reconnect policy, an idle timeout, an
 * AbortSignal, async iteration, batches, typed errors, memory bounds), and
 * `EventSource.fromReadableStream` (the proposal whatwg/html#12272).
 *
 * Spec steps are quoted, numbered as in the HTML standard, at the lines that implement
 * them. Browser "tasks" map onto transport callbacks: each callback is one task.
 *
 * Hot path (one body chunk): the transport hands it to Attempt.read, which hands it to
 * Delivery.chunk: one `parser.feed(chunk)`; per event (Delivery.onEvent), a counter, then a
 * `MessageEvent` and one `dispatchEvent` only when a listener or an `events()` iterator can
 * receive it, and a push of the parser's record into the chunk's array when a `batches()`
 * iterator exists. Nothing is allocated per line here.
 */
import type { EngineChoice, EngineName, ParsedEvent } from "../parser/types.js";
import { watchAbort } from "./abort.js";
import { Attempt } from "./attempt.js";
import { EventSourceError, EventSourceErrorEvent, type EventSourceErrorInit, errorMessage } from "./errors.js";
import { Delivery } from "./delivery.js";
import type {
  EventSourceAddListenerOptions,
  EventSourceEventMap,
  EventSourceListener,
  EventSourceListenerOptions,
  EventSourceMessageEvent,
  EventSourceStats,
  MessageEventOf,
  MessageEventType,
} from "./types.js";
import {
  type BatchesOptions,
  consumerSettings,
  type EventSourceOptions,
  type EventsOptions,
  finiteOption,
  type ReadableStreamSourceOptions,
  reconnectSettings,
} from "./options.js";
import { type EventStreamReadable, STREAM_URL, StreamInput } from "./readable.js";
import { ReconnectPolicy } from "./reconnect.js";
import { Lifecycle } from "./lifecycle.js";
import { trackListeners } from "./listeners.js";
import { defineInterface, EventHandlers, parseEventSourceURL } from "./webidl.js";
import { StreamRequest } from "./request.js";

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

type MessageEvents<Events> = { [K in keyof Events]: EventSourceMessageEvent };

type Handler<T extends Event> = ((this: EventSource<any>, event: T) => unknown) | null;

/**
 * HTML 9.2.2 "The EventSource interface".
 *
 * @typeParam Events - named events and their types, e.g. `{ tick: MessageEvent<string> }`,
 * so that `addEventListener("tick", e => e.data)` is typed.
 */
export class EventSource<Events extends MessageEvents<Events> = {}> extends EventTarget {
  // WebIDL constants, on the class and on the prototype: defined below (read-only,
  // enumerable, non-configurable); `declare` only types them (a static field would be
  // writable and configurable).
  declare static readonly CONNECTING: 0;
  declare static readonly OPEN: 1;
  declare static readonly CLOSED: 2;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSED: 2;

  readonly #url: string;
  readonly #withCredentials: boolean;
  #readyState: 0 | 1 | 2 = CONNECTING;

  readonly #request: StreamRequest;
  /** Made by fromReadableStream: its one stream, and no reconnection. */
  readonly #input: StreamInput | null;
  readonly #engineChoice: EngineChoice;
  readonly #idleTimeout: number;
  readonly #eventTimeout: number;
  readonly #reconnect: ReconnectPolicy;
  readonly #hooks: Lifecycle;
  /** Stops watching the `signal` option (see watchAbort). */
  readonly #unwatchAbort: (() => void) | undefined;

  #conn: Attempt | null = null;
  /** Connections that opened, and reconnections started (`stats`; Delivery counts the rest). */
  #connections = 0;
  #reconnects = 0;
  /** Where the body's chunks go: the parser, then listeners and iterators. */
  readonly #delivery: Delivery;
  readonly #handlers = new EventHandlers(this, (type, listener, added) =>
    added ? this.#delivery.book.added(type, listener) : this.#delivery.book.removed(type, listener),
  );

  static {
    // The book of listened types (see listeners.ts) is kept by the prototype's
    // addEventListener/removeEventListener.
    trackListeners(EventSource.prototype, (target) => (#delivery in target ? target.#delivery.book : null));
  }

  /**
   * Parses any byte stream (a POST response's body, a file, a test fixture) into the same
   * events, following the WHATWG proposal whatwg/html#12272: `url` is "about:event-stream",
   * events' `origin` is "null", the source is OPEN once it starts reading, and the end of the
   * stream (or its error) fires `error` and leaves it CLOSED: it never reconnects. Throws a
   * TypeError at once if the stream is locked.
   */
  static fromReadableStream(stream: EventStreamReadable, options: ReadableStreamSourceOptions = {}): EventSource {
    const { engine, maxEventSize, lastEventId, signal, on } = options ?? {};
    return new EventSource(new StreamInput(stream), { engine, maxEventSize, lastEventId, signal, on });
  }

  // `init` has a default so that EventSource.length is 1, as WebIDL makes it for an
  // optional argument ("optional EventSourceInit eventSourceInitDict = {}").
  constructor(url: string | URL | { toString(): string }, init: EventSourceOptions | null = null) {
    // 1. "Let ev be a new EventSource object."
    super();
    if (arguments.length === 0) {
      throw new TypeError("Failed to construct 'EventSource': 1 argument required, but only 0 present.");
    }
    const options: EventSourceOptions = init ?? {};
    // fromReadableStream's private path: the same steps, with a transport that hands over
    // the stream, and no reconnection.
    const input = url instanceof StreamInput ? url : null;
    this.#input = input;
    // 3-4. Parse the URL (a SyntaxError if it fails).
    const urlRecord = input !== null ? new URL(STREAM_URL) : parseEventSourceURL(url);
    // 5. "Set ev's url to urlRecord."
    this.#url = urlRecord.href;
    // 7. "If the value of eventSourceInitDict's withCredentials member is true, then [...]
    // set ev's withCredentials attribute to true."
    this.#withCredentials = Boolean(options.withCredentials);

    // 13. "Set ev's request to request."
    this.#request = new StreamRequest(urlRecord, input !== null ? { fetch: input.fetch } : options);
    this.#idleTimeout = finiteOption(options.idleTimeout, 0, "idleTimeout");
    this.#eventTimeout = finiteOption(options.eventTimeout, 0, "eventTimeout");
    this.#reconnect = new ReconnectPolicy(reconnectSettings(options.reconnect));
    this.#hooks = new Lifecycle(options.on);

    // The parser is made now (engine selected at the first parser, never at import), so
    // that bad parser options throw here rather than in a later tick.
    this.#engineChoice = options.engine ?? "auto";
    this.#delivery = new Delivery(
      this,
      { engine: options.engine, maxEventSize: options.maxEventSize, lastEventId: options.lastEventId ?? "" },
      this.#reconnect,
      () => this.#updateBackpressure(),
    );

    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) {
        this.#setReadyState(CLOSED);
        this.#stop();
        this.#delivery.end(null);
        return;
      }
      this.#unwatchAbort = watchAbort(signal, () => this.close());
    }

    // 15. "Fetch request" - after the current script, as browsers do (their fetch is
    // asynchronous), so that listeners added right after the constructor see every event.
    queueMicrotask(() => this.#connect());
  }

  /** The serialization of the URL given to the constructor (not the one after redirects). */
  get url(): string {
    return this.#url;
  }

  get withCredentials(): boolean {
    return this.#withCredentials;
  }

  /** CONNECTING (0), OPEN (1) or CLOSED (2). */
  get readyState(): 0 | 1 | 2 {
    return this.#readyState;
  }

  /**
   * The parser engine in use ("wasm" or "js"). The parser is created by the constructor, so
   * this is known at once; the `engine` option's "auto" resolves then.
   */
  get engine(): EngineName {
    return this.#delivery.parser.engine;
  }

  /** The `engine` option as given ("auto" by default). */
  get engineOption(): EngineChoice {
    return this.#engineChoice;
  }

  /**
   * The spec's last event ID string (what `Last-Event-ID` carries on the next connect): it
   * moves as the stream is parsed, so inside a listener it is that event's. An iterator's
   * consumer is up to `bufferSize` events behind it: to resume from an iterator, persist the
   * `event.lastEventId` of the last event consumed and pass it back as the `lastEventId` option.
   */
  get lastEventId(): string {
    return this.#delivery.parser.lastEventId;
  }

  /**
   * The reconnection time in ms: the `reconnect.initialDelay` option until a `retry:` field
   * sets it (whatwg/html#12272 exposes it, for streams that reconnect by other means).
   */
  get reconnectionTime(): number {
    return this.#reconnect.reconnectionTime;
  }

  /** A snapshot of counters; each read returns a new object. */
  get stats(): EventSourceStats {
    const { events, bytes, dropped, parseErrors, lastEventAt, parser } = this.#delivery;
    const connections = this.#connections;
    return { events, bytes, connections, reconnects: this.#reconnects, dropped, parseErrors, lastEventAt, engine: parser.engine };
  }

  get [Symbol.toStringTag](): string {
    return "EventSource";
  }

  get onopen(): Handler<Event> {
    return this.#handlers.get("open");
  }
  set onopen(fn: Handler<Event>) {
    this.#handlers.set("open", fn);
  }
  get onmessage(): Handler<EventSourceMessageEvent> {
    return this.#handlers.get("message");
  }
  set onmessage(fn: Handler<EventSourceMessageEvent>) {
    this.#handlers.set("message", fn);
  }
  get onerror(): Handler<EventSourceErrorEvent> {
    return this.#handlers.get("error");
  }
  set onerror(fn: Handler<EventSourceErrorEvent>) {
    this.#handlers.set("error", fn);
  }

  /**
   * "The close() method must abort any instances of the fetch algorithm started for this
   * EventSource object, and must set the readyState attribute to CLOSED."
   *
   * Effective at once, from anywhere: inside a listener, the rest of the chunk is neither
   * dispatched nor parsed (so `lastEventId` stays that of the event being dispatched); no
   * event of any kind follows. Async iterators end (buffered events are still yielded first).
   */
  close(): void {
    if (this.#readyState === CLOSED && this.#conn === null && !this.#reconnect.waiting) return;
    this.#setReadyState(CLOSED);
    this.#stop();
    this.#delivery.end(null);
  }

  /**
   * Drops the connection, or stops waiting for the next attempt, and connects again at once
   * with `Last-Event-ID`, so the server resumes after the last event received: after a
   * network change, say. No error event fires (the caller knows why); `open` fires again when
   * the new connection opens. Inside a listener, the rest of the chunk is dropped, as with
   * `close()`. No effect on a closed source or one made by `fromReadableStream`.
   */
  reconnect(): void {
    if (this.#readyState === CLOSED || this.#input !== null) return;
    if (this.#conn !== null) this.#detach(this.#conn);
    this.#reconnect.cancel();
    this.#reconnect.ended();
    this.#delivery.parser.end();
    this.#setReadyState(CONNECTING);
    this.#reconnects++;
    this.#connect();
  }

  // ---------------------------------------------------------------- connection lifecycle

  /** HTML reestablish step 5: "Queue a task to run the following steps". */
  #connect(): void {
    // 5.1 "If the EventSource object's readyState attribute is not set to CONNECTING, then
    // return."
    if (this.#readyState !== CONNECTING) return;
    const conn: Attempt = new Attempt(this.#idleTimeout, this.#eventTimeout, (init) => this.#attemptFailed(conn, init, true));
    this.#conn = conn;
    this.#fetch(conn).catch((error: unknown) => {
      // Nothing in #fetch is expected to throw (listener exceptions are reported by
      // EventTarget itself); if something does, treat it as a network error rather than
      // leave an unhandled rejection and a source that hangs in CONNECTING.
      if (conn !== this.#conn) return;
      this.#attemptFailed(conn, { code: "NETWORK", message: errorMessage(error), cause: error }, true);
    });
  }

  /** Fetch (with redirects), then HTML constructor step 15's processResponse. */
  async #fetch(conn: Attempt): Promise<void> {
    // Armed before the headers function is awaited: the connect phase is bounded too, even
    // when that function never settles (a token service that hangs).
    conn.watchIdle();
    const delivery = this.#delivery;
    const outcome = await this.#request.fetch(delivery.parser.lastEventId, {
      signal: conn.controller.signal,
      current: () => conn === this.#conn,
      responded: () => void (conn.lastChunkAt = Date.now()),
      warn: (init) => this.dispatchEvent(new EventSourceErrorEvent({ ...init, willReconnect: true })),
    });
    if (outcome === null) return;
    const response = outcome.response;
    if (response === null) {
      // "reestablish the connection" when `retry`, else "fail the connection" - unless the
      // reconnect policy says otherwise.
      this.#attemptFailed(conn, outcome.error, outcome.retry);
      return;
    }
    conn.response = response;

    // 15.4 "Otherwise, announce the connection and interpret res's body line by line."
    // Event "origin": "the serialization of the origin of the event stream's final URL
    // (i.e., the URL after redirects)".
    delivery.origin = this.#request.url.origin;
    this.#reconnect.opened();
    this.#connections++;
    // A new body is a new stream: a leading BOM is stripped again, nothing pending carries
    // over (the last event ID string does).
    delivery.parser.end();
    // "announce the connection [...] if the readyState attribute is set to a value other
    // than CLOSED, sets the readyState attribute to OPEN and fires an event named open".
    this.#setReadyState(OPEN);
    this.#hooks.opened(this.#request.url.href, response, this.#connections);
    if (conn !== this.#conn) return; // close() in the hook
    this.dispatchEvent(new Event("open"));
    if (conn !== this.#conn) return; // close() in an open listener
    this.#updateBackpressure();
    conn.read(delivery, (init, spec) => this.#attemptFailed(conn, init, spec));
  }

  /** Delivery dispatches events only while the source is OPEN. */
  #setReadyState(state: 0 | 1 | 2): void {
    this.#readyState = state;
    this.#delivery.open = state === OPEN;
  }

  /** Ends one attempt: timers, body, in-flight request. (Callers end the parser.) */
  #detach(conn: Attempt): void {
    if (this.#conn === conn) this.#conn = null;
    conn.end();
  }

  #stop(): void {
    if (this.#conn !== null) this.#detach(this.#conn);
    this.#reconnect.cancel();
    this.#unwatchAbort?.();
    this.#input?.release();
    // Inside a listener (close(), or an abort it triggers) this runs within parser.feed():
    // end() stops the parser at once, so the rest of the chunk is not even parsed. Otherwise
    // its `id:` lines would still move lastEventId past events that were never dispatched,
    // and a resume from it would skip them. (Both engines allow end() from a callback.)
    this.#delivery.parser.end();
  }

  /**
   * An attempt failed or its stream ended. `spec`: the spec would "reestablish the
   * connection" (else it would "fail the connection"); the reconnect policy decides.
   * HTML "reestablish the connection" (steps 1-5), with the policy as step 3 ("Optionally,
   * wait some more").
   */
  #attemptFailed(conn: Attempt, init: EventSourceErrorInit, spec: boolean): void {
    this.#detach(conn);
    // 1.1 "If the readyState attribute is set to CLOSED, abort the task."
    if (this.#readyState === CLOSED) return;
    // "Once the end of the file is reached, any pending data must be discarded."
    this.#delivery.parser.end();
    const policy = this.#reconnect;
    policy.ended();
    if (this.#input !== null) {
      // A stream cannot be fetched again: its end (when iterators simply finish) or its error
      // fails the connection, as whatwg/html#12272 says.
      const ended = init.code === "STREAM_ENDED";
      this.#fail(ended ? { ...init, message: "the stream ended" } : init, ended ? null : new EventSourceError(init));
      return;
    }
    const next = policy.next(init, spec);
    if (next.final !== null) {
      // A 204 is the server's way to say "stop": the spec fails the connection (the error
      // event fires), but for iterators it is the end of the stream, not a failure.
      const noContent = next.final.code === "HTTP_STATUS" && next.final.status === 204;
      this.#fail(next.final, noContent ? null : new EventSourceError(next.final));
      return;
    }
    // 1.2 "Set the readyState attribute to CONNECTING."
    this.#setReadyState(CONNECTING);
    // 1.3 "Fire an event named error at the EventSource object."
    this.dispatchEvent(new EventSourceErrorEvent({ ...init, willReconnect: true, delay: next.delay }));
    if (this.#readyState !== CONNECTING || policy.waiting) return;
    // 2-3. Wait (see ReconnectPolicy.wait), then 5. "Queue a task to run the following
    // steps" (5.1 is checked by #connect).
    policy.wait(next.delay, () => {
      this.#reconnects++;
      this.#connect();
    });
    this.#hooks.reconnecting(policy.attempts, next.delay, init, next.retryAfter);
  }

  /**
   * HTML "fail the connection": "if the readyState attribute is set to a value other than
   * CLOSED, sets the readyState attribute to CLOSED and fires an event named error at the
   * EventSource object. Once the user agent has failed the connection, it does *not*
   * attempt to reconnect." Iterators then throw `failure` (or simply end, when null).
   */
  #fail(init: EventSourceErrorInit, failure: EventSourceError | null): void {
    if (this.#readyState === CLOSED) return;
    this.#setReadyState(CLOSED);
    this.#stop();
    this.dispatchEvent(new EventSourceErrorEvent({ ...init, willReconnect: false }));
    this.#delivery.end(failure);
    if (this.#input === null) this.#hooks.gaveUp(this.#reconnect.attempts, failure ?? new EventSourceError(init));
  }

  // ---------------------------------------------------------------- async iteration

  /**
   * An async iterator of MessageEvents (every message and named event, or only `types`). It
   * ends at `close()`, a 204 or the end of a `fromReadableStream` stream, throws an
   * `EventSourceError` when the source fails for good, yields buffered events first, and its
   * `return()` closes the source. Past `bufferSize` (10000) waiting events, `overflow` pauses
   * the socket ("block", the default) or drops events (`stats.dropped`).
   */
  events<K extends MessageEventType<Events>>(
    options: EventsOptions<K> & { types: readonly K[] },
  ): AsyncIterableIterator<MessageEventOf<Events, K>>;
  events(
    options?: EventsOptions<MessageEventType<Events>>,
  ): AsyncIterableIterator<EventSourceMessageEvent | Events[keyof Events]>;
  events(options: EventsOptions = {}): AsyncIterableIterator<EventSourceMessageEvent> {
    return this.#delivery.addEvents(consumerSettings(options), () => this.close()).iterator();
  }

  /**
   * The fast path: an async iterator of arrays of plain `{ type, data, lastEventId }` records,
   * one array per network chunk (with "latest-by-key", per `next()`: every record waiting,
   * one per key), each array the consumer's own. No MessageEvent is made for it. Same ending,
   * errors, options (`bufferSize` counts records) and `return()` as `events()`.
   */
  batches(options: BatchesOptions<MessageEventType<Events>> = {}): AsyncIterableIterator<ParsedEvent[]> {
    return this.#delivery.addBatches(consumerSettings(options), () => this.close()).iterator();
  }

  /** `for await (const event of source)`: `source.events()` with the defaults. */
  [Symbol.asyncIterator](): AsyncIterableIterator<EventSourceMessageEvent | Events[keyof Events]> {
    return this.events();
  }

  /** Pause the socket while any "block" iterator is at its bound; resume after. */
  #updateBackpressure(): void {
    const conn = this.#conn;
    if (conn === null) return;
    if (this.#delivery.full) conn.pause();
    else conn.resume();
  }
}

// prettier-ignore
defineInterface(EventSource, { CONNECTING, OPEN, CLOSED },
  ["url", "withCredentials", "readyState", "onopen", "onmessage", "onerror", "close", "lastEventId", "reconnectionTime"]);

/** Typed `addEventListener` / `removeEventListener` for the built-in and named events. */
export interface EventSource<Events extends MessageEvents<Events> = {}> {
  addEventListener<K extends keyof EventSourceEventMap<Events> & string>(
    type: K,
    listener: (this: EventSource<Events>, event: EventSourceEventMap<Events>[K]) => unknown,
    options?: boolean | EventSourceAddListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventSourceListener | null,
    options?: boolean | EventSourceAddListenerOptions,
  ): void;
  removeEventListener<K extends keyof EventSourceEventMap<Events> & string>(
    type: K,
    listener: (this: EventSource<Events>, event: EventSourceEventMap<Events>[K]) => unknown,
    options?: boolean | EventSourceListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventSourceListener | null,
    options?: boolean | EventSourceListenerOptions,
  ): void;
}
