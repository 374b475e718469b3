/**
 * `EventSource`: the WHATWG HTML "Server-sent events" interface (section 9.2), plus what
 * server-side users need (headers, method/body, a reconnect policy, an idle timeout, an
 * AbortSignal, async iteration, typed errors, memory bounds).
 *
 * Spec steps are quoted, numbered as in the HTML standard, at the lines that implement
 * them. Browser "tasks" map onto transport callbacks: each callback is one task.
 *
 * Hot path (one body chunk): one `parser.feed(chunk)`; per event, one `MessageEvent` and
 * one `dispatchEvent`. Nothing is allocated per line here (the parser owns lines).
 */
import { createParser } from "../parser/index.js";
import type { ParseError } from "../parser/errors.js";
import type { EngineChoice, EngineName, EventStreamParser, ParsedEvent } from "../parser/types.js";
import { watchAbort } from "./abort.js";
import { Attempt } from "./attempt.js";
import { EventSourceError, EventSourceErrorEvent, type EventSourceErrorInit, errorMessage, responseInfo } from "./errors.js";
import { Consumers } from "./event-queue.js";
import type {
  EventSourceAddListenerOptions,
  EventSourceEventMap,
  EventSourceListener,
  EventSourceListenerOptions,
  EventSourceMessageEvent,
  MessageEventOf,
  MessageEventType,
} from "./events.js";
import { type EventSourceOptions, type EventsOptions, finiteOption, maxBufferedOption, reconnectSettings } from "./options.js";
import { ReconnectPolicy } from "./reconnect.js";
import { defineInterface, EventHandlers } from "./webidl.js";
import { StreamRequest } from "./request.js";
import type { BodySink, TransportResponse } from "./transport/types.js";

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

export interface EventSourceStats {
  /** Connections that opened (a 200 `text/event-stream` response). */
  connections: number;
  /** Reconnection attempts started. */
  reconnects: number;
  /** Response body bytes received (after any HTTP decoding). */
  bytesReceived: number;
  /** MessageEvents dispatched. */
  eventsDispatched: number;
  /** `Date.now()` when the last chunk that carried events was dispatched, or null. */
  lastEventAt: number | null;
}

type MessageEvents<Events> = { [K in keyof Events]: EventSourceMessageEvent };

/**
 * The document's (or worker's) base URL, against which the spec resolves a relative URL;
 * none on server runtimes, where a relative URL is a SyntaxError.
 */
function baseURL(): string | undefined {
  const g = globalThis as { document?: { baseURI?: string }; location?: { href?: string } };
  return g.document?.baseURI ?? g.location?.href;
}

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
  readonly #parser: EventStreamParser;
  readonly #engineChoice: EngineChoice;
  readonly #idleTimeout: number;
  readonly #reconnect: ReconnectPolicy;
  /** Stops watching the `signal` option (see watchAbort). */
  readonly #unwatchAbort: (() => void) | undefined;

  #reconnectTimer: ReturnType<typeof setTimeout> | null = null;

  #conn: Attempt | null = null;
  #origin = "";
  readonly #stats: EventSourceStats = {
    connections: 0,
    reconnects: 0,
    bytesReceived: 0,
    eventsDispatched: 0,
    lastEventAt: null,
  };
  readonly #consumers = new Consumers<EventSourceMessageEvent>(() => this.#updateBackpressure());
  #failure: EventSourceError | null = null;
  readonly #handlers = new EventHandlers(this);

  // `init` has a default so that EventSource.length is 1, as WebIDL makes it for an
  // optional argument ("optional EventSourceInit eventSourceInitDict = {}").
  constructor(url: string | URL | { toString(): string }, init: EventSourceOptions | null = null) {
    // 1. "Let ev be a new EventSource object."
    super();
    if (arguments.length === 0) {
      throw new TypeError("Failed to construct 'EventSource': 1 argument required, but only 0 present.");
    }
    // WebIDL `USVString`: ToString (a URL object, anything with toString), lone surrogates
    // replaced by U+FFFD. ToString throws a TypeError for a Symbol, where String() would not.
    if (typeof url === "symbol") {
      throw new TypeError("Failed to construct 'EventSource': Cannot convert a Symbol value to a string");
    }
    const input = String(url);
    const usv = (input as { toWellFormed?: () => string }).toWellFormed?.() ?? input;
    const options: EventSourceOptions = init ?? {};

    // 3. "Let urlRecord be the result of encoding-parsing a URL given url, relative to
    // settings." In a page or worker, relative to its base URL; a server runtime has none,
    // so there a relative URL cannot be resolved.
    let urlRecord: URL;
    try {
      urlRecord = new URL(usv, baseURL());
    } catch {
      // 4. "If urlRecord is failure, then throw a "SyntaxError" DOMException."
      throw new DOMException(`Failed to construct 'EventSource': invalid URL ${JSON.stringify(usv)}`, "SyntaxError");
    }
    // Browsers fail the connection later for other schemes (the fetch is a network error
    // that is futile to retry). There is nothing else to fetch here: say so at once.
    if (urlRecord.protocol !== "http:" && urlRecord.protocol !== "https:") {
      throw new DOMException(
        `Failed to construct 'EventSource': the URL's scheme must be http or https, got ${JSON.stringify(urlRecord.protocol)}`,
        "SyntaxError",
      );
    }
    // 5. "Set ev's url to urlRecord."
    this.#url = urlRecord.href;
    // 7. "If the value of eventSourceInitDict's withCredentials member is true, then [...]
    // set ev's withCredentials attribute to true."
    this.#withCredentials = Boolean(options.withCredentials);

    // 13. "Set ev's request to request."
    this.#request = new StreamRequest(urlRecord, options);
    this.#idleTimeout = finiteOption(options.idleTimeout, 0, "idleTimeout");

    this.#reconnect = new ReconnectPolicy(reconnectSettings(options.reconnect));

    // The parser is made now (engine selected at the first parser, never at import), so
    // that bad parser options throw here rather than in a later tick.
    this.#engineChoice = options.engine ?? "auto";
    this.#parser = createParser(
      {
        onEvent: (event) => this.#dispatchMessage(event),
        onRetry: (ms) => {
          // "If the field value consists of only ASCII digits, then interpret the field value
          // as an integer in base ten, and set the event stream's reconnection time to that
          // integer." - at once, when the line is read.
          if (this.#readyState !== CLOSED) this.#reconnect.reconnectionTime = ms;
        },
        onError: (error) => this.#parseError(error),
      },
      {
        engine: options.engine,
        maxEventSize: options.maxEventSize,
        lastEventId: options.lastEventId ?? "",
      },
    );

    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) {
        this.#readyState = CLOSED;
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
    return this.#parser.engine;
  }

  /** The `engine` option as given ("auto" by default). */
  get engineOption(): EngineChoice {
    return this.#engineChoice;
  }

  /**
   * The last event ID string (what `Last-Event-ID` carries on the next connect), as the spec
   * defines it: it moves as the stream is parsed. Listeners run as each event is parsed, so
   * inside one it is the id of the event being dispatched.
   *
   * An `events()` consumer is behind the parser: up to `maxBuffered` events (plus one chunk)
   * may be parsed and buffered but not yet taken, and this value is already past them. To
   * persist a resume point from an iterator, save `event.lastEventId` of the last event the
   * consumer has finished with, and pass it as the `lastEventId` option when starting again:
   * the server resumes after that event, and nothing is lost.
   */
  get lastEventId(): string {
    return this.#parser.lastEventId;
  }

  /** A snapshot of counters; each read returns a new object. */
  get stats(): EventSourceStats {
    return { ...this.#stats };
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
    if (this.#readyState === CLOSED && this.#conn === null && this.#reconnectTimer === null) return;
    this.#readyState = CLOSED;
    this.#stop();
    this.#consumers.end(null);
  }

  // ---------------------------------------------------------------- connection lifecycle

  /** HTML reestablish step 5: "Queue a task to run the following steps". */
  #connect(): void {
    // 5.1 "If the EventSource object's readyState attribute is not set to CONNECTING, then
    // return."
    if (this.#readyState !== CONNECTING) return;
    const conn: Attempt = new Attempt(this.#idleTimeout, () =>
      this.#reestablish(conn, { code: "IDLE_TIMEOUT", message: `no data received for ${this.#idleTimeout} ms` }),
    );
    this.#conn = conn;
    this.#fetch(conn).catch((error: unknown) => {
      // Nothing in #fetch is expected to throw (listener exceptions are reported by
      // EventTarget itself); if something does, treat it as a network error rather than
      // leave an unhandled rejection and a source that hangs in CONNECTING.
      if (conn !== this.#conn) return;
      this.#reestablish(conn, { code: "NETWORK", message: errorMessage(error), cause: error });
    });
  }

  /** Fetch (with redirects), then HTML constructor step 15's processResponse. */
  async #fetch(conn: Attempt): Promise<void> {
    // Armed before the headers function is awaited: the connect phase is bounded too, even
    // when that function never settles (a token service that hangs).
    conn.watchIdle();
    const outcome = await this.#request.fetch(this.#parser.lastEventId, {
      signal: conn.controller.signal,
      current: () => conn === this.#conn,
      responded: () => void (conn.lastChunkAt = Date.now()),
      warn: (init) => this.dispatchEvent(new EventSourceErrorEvent({ ...init, willReconnect: true })),
    });
    if (outcome === null) return;
    const response = outcome.response;
    if (response === null) {
      if (outcome.retry) this.#reestablish(conn, outcome.error);
      else this.#fail(conn, outcome.error);
      return;
    }
    conn.response = response;

    // 15.4 "Otherwise, announce the connection and interpret res's body line by line."
    // Event "origin": "the serialization of the origin of the event stream's final URL
    // (i.e., the URL after redirects)".
    this.#origin = this.#request.url.origin;
    this.#reconnect.attempts = 0;
    this.#stats.connections++;
    // A new body is a new stream: a leading BOM is stripped again, nothing pending carries
    // over (the last event ID string does).
    this.#parser.end();
    // "announce the connection [...] if the readyState attribute is set to a value other
    // than CLOSED, sets the readyState attribute to OPEN and fires an event named open".
    this.#readyState = OPEN;
    this.dispatchEvent(new Event("open"));
    if (conn !== this.#conn) return; // close() in an open listener
    this.#updateBackpressure();
    response.read(this.#bodySink(conn, response));
  }

  #bodySink(conn: Attempt, response: TransportResponse): BodySink {
    const parser = this.#parser;
    const stats = this.#stats;
    const watched = this.#idleTimeout > 0;
    return {
      onData: (chunk) => {
        if (conn !== this.#conn) return;
        // The clock is read per chunk only for the idle watchdog; without one, only for a
        // chunk that carried events (stats.lastEventAt).
        let now = 0;
        if (watched) conn.lastChunkAt = now = Date.now();
        stats.bytesReceived += chunk.byteLength;
        const before = stats.eventsDispatched;
        // One call per chunk; the parser calls back per event (see #dispatchMessage).
        parser.feed(chunk);
        if (stats.eventsDispatched !== before) stats.lastEventAt = watched ? now : Date.now();
      },
      onEnd: () => {
        if (conn !== this.#conn) return;
        // 14. processEventSourceEndOfBody: "if res is not a network error, then reestablish
        // the connection." ("Once the end of the file is reached, any pending data must be
        // discarded": #reestablish ends the parser.)
        this.#reestablish(conn, {
          code: "STREAM_ENDED",
          message: "the server ended the stream",
          ...responseInfo(response),
        });
      },
      onError: (error) => {
        if (conn !== this.#conn) return;
        this.#reestablish(conn, {
          code: "NETWORK",
          message: `the connection failed: ${errorMessage(error)}`,
          cause: error,
          ...responseInfo(response),
        });
      },
    };
  }

  /** HTML 9.2.6 "dispatch the event", steps 4-8 (1-3 and 7 are the parser's). */
  #dispatchMessage(parsed: ParsedEvent): void {
    // 8. "Queue a task which, if the readyState attribute is set to a value other than
    // CLOSED, dispatches the newly created event". Also skips the rest of a chunk after
    // close() in a listener.
    if (this.#readyState !== OPEN) return;
    // 4-6. A MessageEvent, type "message" or the event type buffer, with data, origin and
    // lastEventId.
    const event = new MessageEvent(parsed.type, {
      data: parsed.data,
      origin: this.#origin,
      lastEventId: parsed.lastEventId,
    });
    this.#stats.eventsDispatched++;
    this.dispatchEvent(event);
    if (this.#consumers.size !== 0) this.#consumers.push(event);
  }

  #parseError(error: ParseError): void {
    if (this.#readyState !== OPEN) return;
    // The event was discarded; the connection goes on (willReconnect: false, still OPEN).
    this.dispatchEvent(
      new EventSourceErrorEvent({ code: error.code, message: error.message, cause: error, willReconnect: false }),
    );
  }

  /** Ends one attempt: timers, body, in-flight request. (Callers end the parser.) */
  #detach(conn: Attempt): void {
    if (this.#conn === conn) this.#conn = null;
    conn.end();
  }

  #stop(): void {
    if (this.#conn !== null) this.#detach(this.#conn);
    if (this.#reconnectTimer !== null) {
      clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = null;
    }
    this.#unwatchAbort?.();
    // Inside a listener (close(), or an abort it triggers) this runs within parser.feed():
    // end() stops the parser at once, so the rest of the chunk is not even parsed. Otherwise
    // its `id:` lines would still move lastEventId past events that were never dispatched,
    // and a resume from it would skip them. (Both engines allow end() from a callback.)
    this.#parser.end();
  }

  /**
   * HTML "reestablish the connection" (steps 1-5), with this library's reconnect policy
   * as step 3 ("Optionally, wait some more").
   */
  #reestablish(conn: Attempt, init: EventSourceErrorInit): void {
    this.#detach(conn);
    // 1.1 "If the readyState attribute is set to CLOSED, abort the task."
    if (this.#readyState === CLOSED) return;
    // "Once the end of the file is reached, any pending data must be discarded."
    this.#parser.end();
    const policy = this.#reconnect;
    if (policy.exhausted) {
      this.#fail(null, {
        code: "MAX_ATTEMPTS",
        message: `gave up after ${policy.attempts} reconnection attempt(s) in a row: ${init.message}`,
        attempts: policy.attempts,
        status: init.status,
        statusText: init.statusText,
        headers: init.headers,
        cause: new EventSourceError(init),
      });
      return;
    }
    policy.attempts++;
    const delay = policy.nextDelay();
    // 1.2 "Set the readyState attribute to CONNECTING."
    this.#readyState = CONNECTING;
    // 1.3 "Fire an event named error at the EventSource object."
    this.dispatchEvent(new EventSourceErrorEvent({ ...init, willReconnect: true, delay }));
    if (this.#readyState !== CONNECTING || this.#reconnectTimer !== null) return;
    // 2. "Wait a delay equal to the reconnection time of the event source."
    // 3. "Optionally, wait some more. In particular, if the previous attempt failed, then
    // user agents might introduce an exponential backoff delay".
    // Always a timer, even for a delay of 0 (`retry: 0` with factor 1 is the spec's immediate
    // reconnection): attempts that keep failing at once still let the event loop run between
    // them. The timer is ref'd on purpose: a source that is going to reconnect is alive, and a
    // script must not exit in the middle of a reconnection. close() clears it.
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      this.#stats.reconnects++;
      // 5. "Queue a task to run the following steps" (5.1 is checked by #connect).
      this.#connect();
    }, delay);
  }

  /**
   * HTML "fail the connection": "if the readyState attribute is set to a value other than
   * CLOSED, sets the readyState attribute to CLOSED and fires an event named error at the
   * EventSource object. Once the user agent has failed the connection, it does *not*
   * attempt to reconnect."
   */
  #fail(conn: Attempt | null, init: EventSourceErrorInit): void {
    if (conn !== null) this.#detach(conn);
    if (this.#readyState === CLOSED) return;
    this.#readyState = CLOSED;
    this.#stop();
    const failure = new EventSourceError(init);
    this.#failure = failure;
    this.dispatchEvent(new EventSourceErrorEvent({ ...init, willReconnect: false }));
    this.#consumers.end(failure);
  }

  // ---------------------------------------------------------------- async iteration

  /**
   * An async iterator of MessageEvents: every message and named event, or only `types`.
   *
   * - Ends (`done`) when the source is closed by `close()` or the `signal`.
   * - Throws an `EventSourceError` when the source fails for good (bad status or type, too
   *   many redirects, `maxAttempts` reached). Transient errors (reconnections) do not end it.
   * - Buffered events are always yielded before the end or the error.
   * - `return()` (a `break` out of `for await`) closes the source.
   * - Backpressure: when `maxBuffered` events (default 10000) wait in this iterator, the
   *   socket is paused until it drains below that. The events of the chunk being parsed
   *   are still buffered, so the bound can be passed by one chunk's worth of events.
   *   Listeners, too, get no events while paused.
   * - Resume point: `source.lastEventId` runs ahead of the consumer (it includes buffered
   *   events). Persist `event.lastEventId` of the last event processed instead.
   */
  events<K extends MessageEventType<Events>>(
    options: EventsOptions<K> & { types: readonly K[] },
  ): AsyncIterableIterator<MessageEventOf<Events, K>>;
  events(
    options?: EventsOptions<MessageEventType<Events>>,
  ): AsyncIterableIterator<EventSourceMessageEvent | Events[keyof Events]>;
  events(options: EventsOptions = {}): AsyncIterableIterator<EventSourceMessageEvent> {
    const iterator = this.#consumers.add(options.types, maxBufferedOption(options.maxBuffered), () => this.close());
    // Closed for good already: the iterator ends at once (throwing the failure, if any).
    if (this.#readyState === CLOSED && this.#conn === null && this.#reconnectTimer === null) {
      this.#consumers.end(this.#failure);
    }
    return iterator;
  }

  /** `for await (const event of source)`: `source.events()` with the defaults. */
  [Symbol.asyncIterator](): AsyncIterableIterator<EventSourceMessageEvent | Events[keyof Events]> {
    return this.events();
  }

  /** Pause the socket while any iterator holds `maxBuffered` events; resume after. */
  #updateBackpressure(): void {
    const conn = this.#conn;
    if (conn === null) return;
    if (this.#consumers.full) conn.pause();
    else conn.resume();
  }
}

defineInterface(EventSource, { CONNECTING, OPEN, CLOSED }, [
  "url",
  "withCredentials",
  "readyState",
  "onopen",
  "onmessage",
  "onerror",
  "close",
]);

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
