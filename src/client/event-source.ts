/**
 * `EventSource`: the WHATWG HTML "Server-sent events" interface (section 9.2) on Node.js,
 * plus what server-side users need (headers, method/body, a reconnect policy, an idle
 * timeout, an AbortSignal, async iteration, typed errors, memory bounds).
 *
 * Spec steps are quoted, numbered as in the HTML standard, at the lines that implement
 * them. Browser "tasks" map onto Node callbacks: each transport callback is one task.
 *
 * Hot path (one body chunk): one `parser.feed(chunk)`; per event, one `MessageEvent` and
 * one `dispatchEvent`. Nothing is allocated per line here (the parser owns lines).
 */
import { createParser } from "../parser/index.js";
import type { ParseError } from "../parser/errors.js";
import type { EngineChoice, EngineName, EventStreamParser, ParsedEvent } from "../parser/types.js";
import {
  buildRequestHeaders,
  DEFAULT_MAX_REDIRECTS,
  followRedirect,
  type HeadersLike,
  isEventStreamContentType,
  normalizeMethod,
  REDIRECT_STATUSES,
} from "./connection.js";
import {
  type BodySink,
  type FetchLike,
  fetchTransport,
  isAbortError,
  nodeTransport,
  type Transport,
  type TransportResponse,
} from "./transport.js";

export type { HeadersLike } from "./connection.js";
export type { FetchLike, FetchLikeInit, FetchLikeResponse } from "./transport.js";

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

/** HTML: the reconnection time "must initially be an implementation-defined value,
 * probably in the region of a few seconds" - 3 s, as Chrome and undici. */
const DEFAULT_RECONNECTION_TIME = 3000;
const DEFAULT_MAX_DELAY = 30_000;
const DEFAULT_MAX_BUFFERED = 10_000;
/**
 * Node's setTimeout turns any delay above 2^31 - 1 ms (about 24.8 days) into 1 ms: a longer
 * reconnection time (the spec sets no bound on `retry:`) or idle timeout would make the timer
 * fire at once, again and again. Every timer here waits at most this long instead.
 */
const MAX_TIMER_DELAY = 2 ** 31 - 1;
/**
 * With `factor` > 1, backoff grows from at least this many ms: from a reconnection time of 0
 * (`retry: 0`, `initialDelay: 0`) it would otherwise stay 0 * factor^n = 0.
 */
const MIN_BACKOFF_BASE = 100;

/** Why an `error` event was fired. */
export type EventSourceErrorCode =
  /** The response status was not 200 (a 204, a 3xx without `Location`, a 4xx, a 5xx...). */
  | "HTTP_STATUS"
  /** A 200 whose `Content-Type` is not `text/event-stream`. */
  | "BAD_CONTENT_TYPE"
  /** The request failed or the connection broke (DNS, refused, reset...). */
  | "NETWORK"
  /** The server ended the response body; the source reconnects, as the spec says. */
  | "STREAM_ENDED"
  /** No byte arrived for `idleTimeout` ms: the connection was dropped. */
  | "IDLE_TIMEOUT"
  /** An event over `maxEventSize` was discarded; the stream goes on. */
  | "EVENT_TOO_LARGE"
  /** More than `maxRedirects` redirects. */
  | "TOO_MANY_REDIRECTS"
  /** A redirect to an invalid or non-http(s) URL. */
  | "BAD_REDIRECT"
  /** The `headers` function threw or rejected. */
  | "HEADERS"
  /** `reconnect.maxAttempts` reconnections in a row failed; `cause` is the last failure. */
  | "MAX_ATTEMPTS"
  /** The user's `fetch` reported an abort this source did not ask for. */
  | "ABORTED";

export interface EventSourceErrorInit {
  message: string;
  code: EventSourceErrorCode;
  status?: number | undefined;
  statusText?: string | undefined;
  headers?: Headers | undefined;
  cause?: unknown;
  willReconnect?: boolean;
  /** MAX_ATTEMPTS only: the reconnection attempts in a row that failed (`maxAttempts`). */
  attempts?: number | undefined;
}

/**
 * The `error` event. A plain `Event` of type "error" for DOM code (as the spec fires), with
 * typed details for everyone else.
 */
export class EventSourceErrorEvent extends Event {
  readonly message: string;
  readonly code: EventSourceErrorCode;
  /** The HTTP status, when there was a response. */
  readonly status: number | undefined;
  readonly statusText: string | undefined;
  /** The response headers, when there was a response. */
  readonly headers: Headers | undefined;
  /** The underlying error (a network error, a `ParseError`, the last failure for MAX_ATTEMPTS). */
  readonly cause: unknown;
  /** MAX_ATTEMPTS only: the reconnection attempts in a row that failed (`maxAttempts`). */
  readonly attempts: number | undefined;
  /**
   * True: the source is CONNECTING and will try again after the reconnection delay.
   * False: it is CLOSED for good - except EVENT_TOO_LARGE, where the connection stays OPEN.
   */
  readonly willReconnect: boolean;

  constructor(init: EventSourceErrorInit) {
    super("error");
    this.message = init.message;
    this.code = init.code;
    this.status = init.status;
    this.statusText = init.statusText;
    this.headers = init.headers;
    this.cause = init.cause;
    this.attempts = init.attempts;
    this.willReconnect = init.willReconnect ?? false;
  }
}

/** What an async iterator of a source that failed for good throws. */
export class EventSourceError extends Error {
  override readonly name = "EventSourceError";
  readonly code: EventSourceErrorCode;
  readonly status: number | undefined;
  readonly statusText: string | undefined;
  readonly headers: Headers | undefined;
  /** MAX_ATTEMPTS only: the reconnection attempts in a row that failed (`maxAttempts`). */
  readonly attempts: number | undefined;

  constructor(init: EventSourceErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.status = init.status;
    this.statusText = init.statusText;
    this.headers = init.headers;
    this.attempts = init.attempts;
  }
}

/**
 * Delays are finite numbers of ms (`Infinity` or `NaN` throw a RangeError); a wait over
 * 2^31 - 1 ms (about 24.8 days), including one a server asks for with `retry:`, is clamped
 * to that.
 */
export interface ReconnectOptions {
  /** The initial reconnection time in ms (default 3000). A `retry:` field replaces it. */
  initialDelay?: number;
  /** Cap on the backed-off delay in ms (default 30000). Never shortens the reconnection time. */
  maxDelay?: number;
  /**
   * Backoff multiplier per failed attempt in a row, >= 1 (default 1: the spec's constant
   * delay). Above 1, the n-th reconnection in a row waits the reconnection time for n = 1,
   * then max(reconnection time, 100 ms) * factor^(n-1), capped by `maxDelay`.
   */
  factor?: number;
  /** 0..1: each delay is multiplied by a random number in [1 - jitter, 1] (default 0). */
  jitter?: number;
  /** Reconnection attempts in a row before giving up (default Infinity; 0 = never reconnect). */
  maxAttempts?: number;
}

export interface EventSourceOptions {
  /** As in browsers: stored and reported. Node has no cookie jar; send cookies via `headers`. */
  withCredentials?: boolean;
  /** Extra request headers, or a function (sync or async) called before every (re)connect. */
  headers?: HeadersLike | (() => HeadersLike | Promise<HeadersLike>);
  /** HTTP method (default "GET"). */
  method?: string;
  /** Request body, sent again on every reconnection (so: a string or bytes, not a stream). */
  body?: string | Uint8Array | null;
  /** A WHATWG fetch to use instead of `node:http`/`node:https`. */
  fetch?: FetchLike;
  /** The initial last event ID: sent as `Last-Event-ID` from the first request on. */
  lastEventId?: string;
  reconnect?: ReconnectOptions;
  /**
   * Ms without receiving a byte after which the connection is dropped and re-made, from the
   * start of each attempt (a `headers` function that never settles counts). Finite; 0 or
   * absent: none; over 2^31 - 1 ms (about 24.8 days) is clamped to that.
   */
  idleTimeout?: number;
  /** Aborting it closes the source (as `close()`: no event). */
  signal?: AbortSignal;
  /** The parser engine: "auto" (default), "wasm" or "js". */
  engine?: EngineChoice;
  /** Bound on one event's size in bytes (default 16 MiB); a larger one is an error event. */
  maxEventSize?: number;
  /** Redirects followed per connection (default 20). */
  maxRedirects?: number;
  /**
   * More header names (case-insensitive) never sent after a redirect to another origin,
   * besides `Authorization`, `Cookie` and `Proxy-Authorization` (e.g. `["x-api-key"]`).
   */
  sensitiveHeaders?: readonly string[];
}

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

export interface EventsOptions<K extends string = string> {
  /** Event types to yield (default: every message and named event). */
  types?: readonly K[];
  /** Events buffered before the socket is paused (default 10000). */
  maxBuffered?: number;
}

/** The events every source has, for typed listeners. */
export interface EventSourceBaseEventMap {
  open: Event;
  message: MessageEvent<string>;
  error: EventSourceErrorEvent;
}

/** The event map of a source: the built-in events, plus the caller's named events. */
export type EventSourceEventMap<Events extends { [K in keyof Events]: MessageEvent }> = Omit<
  EventSourceBaseEventMap,
  keyof Events
> &
  Events;

type Handler<T extends Event> = ((this: EventSource<any>, event: T) => unknown) | null;

interface Connection {
  readonly controller: AbortController;
  response: TransportResponse | null;
  idleTimer: ReturnType<typeof setTimeout> | null;
  lastChunkAt: number;
  paused: boolean;
}

/** A `next()` waiting for an event. */
interface Waiter {
  resolve(result: IteratorResult<MessageEvent>): void;
  reject(error: unknown): void;
}

/** One consumer of `events()`: a FIFO of events, with a head index (no O(n) shift). */
class EventQueue {
  readonly buffer: MessageEvent[] = [];
  head = 0;
  done = false;
  failure: EventSourceError | null = null;
  /**
   * `next()` calls waiting for an event, oldest first. Usually one (`for await`), but a
   * caller may call next() again before the last promise settled: each call gets its own
   * event, in call order, and none is left pending.
   */
  readonly waiters: Waiter[] = [];

  constructor(
    readonly types: ReadonlySet<string> | null,
    readonly maxBuffered: number,
  ) {}

  get size(): number {
    return this.buffer.length - this.head;
  }
}

/**
 * HTML 9.2.2 "The EventSource interface".
 *
 * @typeParam Events - named events and their types, e.g. `{ tick: MessageEvent<string> }`,
 * so that `addEventListener("tick", e => e.data)` is typed.
 */
export class EventSource<
  Events extends { [K in keyof Events]: MessageEvent } = {},
> extends EventTarget {
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

  // The request (HTML constructor step 13: "Set ev's request to request"). A redirect
  // updates it, so reconnections go to the final URL with the redirected method and body.
  #requestUrl: URL;
  #method: string;
  #body: string | Uint8Array | null;
  #dropSensitive = false;
  #dropBodyHeaders = false;
  readonly #headers: EventSourceOptions["headers"];
  readonly #sensitive: ReadonlySet<string> | undefined;

  readonly #transport: Transport;
  readonly #parser: EventStreamParser;
  readonly #engineChoice: EngineChoice;
  readonly #maxRedirects: number;
  readonly #idleTimeout: number;
  /** Stops watching the `signal` option (see watchAbort). */
  readonly #unwatchAbort: (() => void) | undefined;

  // "Each EventSource object has [...] a reconnection time, in milliseconds."
  #reconnectionTime: number;
  readonly #maxDelay: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #maxAttempts: number;
  /** Failed attempts in a row since the last open. */
  #attempts = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null;

  #conn: Connection | null = null;
  #origin = "";
  readonly #stats: EventSourceStats = {
    connections: 0,
    reconnects: 0,
    bytesReceived: 0,
    eventsDispatched: 0,
    lastEventAt: null,
  };
  readonly #queues = new Set<EventQueue>();
  #failure: EventSourceError | null = null;
  readonly #handlers: { open: Handler<Event>; message: Handler<MessageEvent>; error: Handler<Event> } = {
    open: null,
    message: null,
    error: null,
  };
  readonly #handlerListeners: Record<string, (event: Event) => unknown> = {};

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
    // settings." Node has no document base URL, so a relative URL cannot be resolved.
    let urlRecord: URL;
    try {
      urlRecord = new URL(usv);
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

    this.#requestUrl = urlRecord;
    this.#method = normalizeMethod(options.method ?? "GET");
    this.#body = options.body ?? null;
    this.#headers = options.headers;
    this.#sensitive = options.sensitiveHeaders
      ? new Set(options.sensitiveHeaders.map((name) => name.toLowerCase()))
      : undefined;
    this.#transport = options.fetch ? fetchTransport(options.fetch) : nodeTransport;
    this.#maxRedirects = numberOption(options.maxRedirects, DEFAULT_MAX_REDIRECTS, "maxRedirects");
    this.#idleTimeout = finiteOption(options.idleTimeout, 0, "idleTimeout");

    const reconnect = options.reconnect ?? {};
    this.#reconnectionTime = finiteOption(reconnect.initialDelay, DEFAULT_RECONNECTION_TIME, "reconnect.initialDelay");
    this.#maxDelay = finiteOption(reconnect.maxDelay, DEFAULT_MAX_DELAY, "reconnect.maxDelay");
    this.#factor = finiteOption(reconnect.factor, 1, "reconnect.factor", 1);
    this.#jitter = numberOption(reconnect.jitter, 0, "reconnect.jitter");
    if (this.#jitter > 1) throw new RangeError("reconnect.jitter must be between 0 and 1");
    this.#maxAttempts = numberOption(reconnect.maxAttempts, Infinity, "reconnect.maxAttempts");

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
          if (this.#readyState !== CLOSED) this.#reconnectionTime = ms;
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

    // 15. "Fetch request" - on the next tick, as browsers do (their fetch is asynchronous),
    // so that listeners added right after the constructor see every event.
    process.nextTick(() => this.#connect());
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
    return this.#handlers.open;
  }
  set onopen(fn: Handler<Event>) {
    this.#setHandler("open", fn);
  }
  get onmessage(): Handler<MessageEvent<string>> {
    return this.#handlers.message as Handler<MessageEvent<string>>;
  }
  set onmessage(fn: Handler<MessageEvent<string>>) {
    this.#setHandler("message", fn as Handler<Event>);
  }
  get onerror(): Handler<EventSourceErrorEvent> {
    return this.#handlers.error as Handler<EventSourceErrorEvent>;
  }
  set onerror(fn: Handler<EventSourceErrorEvent>) {
    this.#setHandler("error", fn as Handler<Event>);
  }

  /**
   * HTML event handler IDL attributes: the first non-null value adds one listener; later
   * values replace the callback in that same position; null removes the listener (a later
   * value then goes to the end of the list).
   */
  #setHandler(type: "open" | "message" | "error", fn: Handler<Event>): void {
    // `[LegacyTreatNonObjectAsNull]`: anything not callable counts as null.
    const value = typeof fn === "function" ? fn : null;
    const had = this.#handlers[type] !== null;
    (this.#handlers as Record<string, Handler<Event>>)[type] = value;
    if (value !== null && !had) {
      let listener = this.#handlerListeners[type];
      if (listener === undefined) {
        listener = (event: Event) => {
          const handler = (this.#handlers as Record<string, Handler<Event>>)[type];
          return handler === null || handler === undefined ? undefined : handler.call(this, event);
        };
        this.#handlerListeners[type] = listener;
      }
      super.addEventListener(type, listener);
    } else if (value === null && had) {
      super.removeEventListener(type, this.#handlerListeners[type]!);
    }
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
    for (const queue of this.#queues) this.#endQueue(queue, null);
  }

  // ---------------------------------------------------------------- connection lifecycle

  /** HTML reestablish step 5: "Queue a task to run the following steps". */
  #connect(): void {
    // 5.1 "If the EventSource object's readyState attribute is not set to CONNECTING, then
    // return."
    if (this.#readyState !== CONNECTING) return;
    const conn: Connection = {
      controller: new AbortController(),
      response: null,
      idleTimer: null,
      lastChunkAt: 0,
      paused: false,
    };
    this.#conn = conn;
    this.#fetch(conn).catch((error: unknown) => {
      // Nothing in #fetch is expected to throw (listener exceptions are reported by
      // EventTarget itself); if something does, treat it as a network error rather than
      // leave an unhandled rejection and a source that hangs in CONNECTING.
      if (conn !== this.#conn) return;
      this.#reestablish(conn, { code: "NETWORK", message: errorMessage(error), cause: error });
    });
  }

  /** Fetch with redirects, then HTML constructor step 15's processResponse. */
  async #fetch(conn: Connection): Promise<void> {
    // Armed before the headers function is awaited: the connect phase is bounded too, even
    // when that function never settles (a token service that hangs).
    this.#armIdleTimer(conn);
    let userHeaders: HeadersLike | undefined;
    try {
      const h = this.#headers;
      userHeaders = typeof h === "function" ? await h() : h;
    } catch (error) {
      if (conn !== this.#conn) return;
      this.#reestablish(conn, {
        code: "HEADERS",
        message: `the headers function failed: ${errorMessage(error)}`,
        cause: error,
      });
      return;
    }
    if (conn !== this.#conn) return;

    let response: TransportResponse;
    for (let redirects = 0; ; ) {
      const url = this.#requestUrl;
      try {
        response = await this.#transport({
          url,
          method: this.#method,
          // 5.2-5.3: "If the EventSource object's last event ID string is not the empty
          // string, then [...] Set (`Last-Event-ID`, lastEventIDValue) in request's header
          // list." (The initial `lastEventId` option makes the first request a resumption.)
          headers: buildRequestHeaders(
            userHeaders,
            this.#parser.lastEventId,
            this.#dropSensitive,
            this.#dropBodyHeaders,
            this.#sensitive,
          ),
          body: this.#body,
          signal: conn.controller.signal,
        });
      } catch (error) {
        // Closed, or superseded (an idle timeout): that path already reported.
        if (conn !== this.#conn) return;
        if (isAbortError(error)) {
          // 15.1 "If res is an aborted network error, then fail the connection." We did not
          // abort it (we would have detached `conn` first): the user's fetch did.
          this.#fail(conn, { code: "ABORTED", message: "the request was aborted", cause: error });
        } else {
          // 15.2 "Otherwise, if res is a network error, then reestablish the connection".
          this.#reestablish(conn, {
            code: "NETWORK",
            message: `request to ${url.href} failed: ${errorMessage(error)}`,
            cause: error,
          });
        }
        return;
      }
      if (conn !== this.#conn) {
        response.cancel();
        return;
      }
      conn.response = response;
      conn.lastChunkAt = Date.now();

      const status = response.status;
      const location = REDIRECT_STATUSES.has(status) ? response.header("location") : null;
      if (location === null) break;
      // Fetch "HTTP-redirect fetch". (A 3xx without `Location` is returned as it is, and is
      // then "not 200" below.)
      response.cancel();
      conn.response = null;
      // "If request's redirect count is 20, then return a network error." A network error
      // would be retried; a redirect loop would only loop again: fail instead.
      if (redirects >= this.#maxRedirects) {
        this.#fail(conn, {
          code: "TOO_MANY_REDIRECTS",
          message: `more than ${this.#maxRedirects} redirects (last: ${status} to ${location})`,
          ...responseInfo(response),
        });
        return;
      }
      redirects++;
      const next = followRedirect(url, status, location, this.#method, this.#body);
      if (typeof next === "string") {
        this.#fail(conn, { code: "BAD_REDIRECT", message: next, ...responseInfo(response) });
        return;
      }
      this.#requestUrl = next.url;
      this.#method = next.method;
      this.#body = next.body;
      if (next.crossOrigin) this.#dropSensitive = true;
      if (next.dropBodyHeaders) this.#dropBodyHeaders = true;
    }

    // 15.3 "Otherwise, if res's status is not 200, or if res's `Content-Type` is not
    // `text/event-stream`, then fail the connection."
    if (response.status !== 200) {
      this.#fail(conn, {
        code: "HTTP_STATUS",
        message: `unexpected response status ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`,
        ...responseInfo(response),
      });
      return;
    }
    const contentType = response.header("content-type");
    if (!isEventStreamContentType(contentType)) {
      this.#fail(conn, {
        code: "BAD_CONTENT_TYPE",
        message: `unexpected Content-Type ${contentType === null ? "(none)" : JSON.stringify(contentType)}, expected text/event-stream`,
        ...responseInfo(response),
      });
      return;
    }

    // 15.4 "Otherwise, announce the connection and interpret res's body line by line."
    // Event "origin": "the serialization of the origin of the event stream's final URL
    // (i.e., the URL after redirects)".
    this.#origin = this.#requestUrl.origin;
    this.#attempts = 0;
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

  #bodySink(conn: Connection, response: TransportResponse): BodySink {
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
    if (this.#queues.size !== 0) this.#enqueue(event);
  }

  #parseError(error: ParseError): void {
    if (this.#readyState !== OPEN) return;
    // The event was discarded; the connection goes on (willReconnect: false, still OPEN).
    this.dispatchEvent(
      new EventSourceErrorEvent({ code: error.code, message: error.message, cause: error, willReconnect: false }),
    );
  }

  /** Ends one attempt: timers, body, in-flight request. (Callers end the parser.) */
  #detach(conn: Connection): void {
    if (this.#conn === conn) this.#conn = null;
    if (conn.idleTimer !== null) {
      clearTimeout(conn.idleTimer);
      conn.idleTimer = null;
    }
    if (conn.response !== null) {
      conn.response.cancel();
      conn.response = null;
    }
    conn.controller.abort();
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
  #reestablish(conn: Connection, init: EventSourceErrorInit): void {
    this.#detach(conn);
    // 1.1 "If the readyState attribute is set to CLOSED, abort the task."
    if (this.#readyState === CLOSED) return;
    // "Once the end of the file is reached, any pending data must be discarded."
    this.#parser.end();
    if (this.#attempts >= this.#maxAttempts) {
      this.#fail(null, {
        code: "MAX_ATTEMPTS",
        message: `gave up after ${this.#attempts} reconnection attempt(s) in a row: ${init.message}`,
        attempts: this.#attempts,
        status: init.status,
        statusText: init.statusText,
        headers: init.headers,
        cause: new EventSourceError(init),
      });
      return;
    }
    this.#attempts++;
    // 1.2 "Set the readyState attribute to CONNECTING."
    this.#readyState = CONNECTING;
    // 1.3 "Fire an event named error at the EventSource object."
    this.dispatchEvent(new EventSourceErrorEvent({ ...init, willReconnect: true }));
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
    }, this.#nextDelay());
  }

  /** The delay before reconnection attempt number `#attempts` (1 = the first). */
  #nextDelay(): number {
    const base = this.#reconnectionTime;
    let delay = base;
    if (this.#factor > 1 && this.#attempts > 1) {
      const grown = Math.max(base, MIN_BACKOFF_BASE) * this.#factor ** (this.#attempts - 1);
      // maxDelay caps the backoff, never the reconnection time itself (a server's `retry`).
      delay = Math.min(grown, Math.max(this.#maxDelay, base));
    }
    // Clamped before the jitter: a `retry:` of hundreds of digits is Infinity, and
    // Infinity - Infinity * jitter would be NaN (which setTimeout also takes as 1 ms).
    delay = Math.min(delay, MAX_TIMER_DELAY);
    if (this.#jitter > 0) delay -= delay * this.#jitter * Math.random();
    return delay;
  }

  /**
   * HTML "fail the connection": "if the readyState attribute is set to a value other than
   * CLOSED, sets the readyState attribute to CLOSED and fires an event named error at the
   * EventSource object. Once the user agent has failed the connection, it does *not*
   * attempt to reconnect."
   */
  #fail(conn: Connection | null, init: EventSourceErrorInit): void {
    if (conn !== null) this.#detach(conn);
    if (this.#readyState === CLOSED) return;
    this.#readyState = CLOSED;
    this.#stop();
    const failure = new EventSourceError(init);
    this.#failure = failure;
    this.dispatchEvent(new EventSourceErrorEvent({ ...init, willReconnect: false }));
    for (const queue of this.#queues) this.#endQueue(queue, failure);
  }

  /** `idleTimeout`: a half-open TCP connection never errors; no byte for N ms does. */
  #armIdleTimer(conn: Connection): void {
    const timeout = this.#idleTimeout;
    if (timeout === 0) return;
    conn.lastChunkAt = Date.now();
    const check = (): void => {
      conn.idleTimer = null;
      if (conn !== this.#conn || conn.paused) return; // paused by us: not idle, re-armed on resume
      const idle = Date.now() - conn.lastChunkAt;
      if (idle >= timeout) {
        this.#reestablish(conn, {
          code: "IDLE_TIMEOUT",
          message: `no data received for ${timeout} ms`,
        });
      } else {
        conn.idleTimer = setTimeout(check, Math.min(timeout - idle, MAX_TIMER_DELAY));
        conn.idleTimer.unref();
      }
    };
    // Reset per chunk is a timestamp store (no clearTimeout/setTimeout per chunk): the
    // timer re-arms itself for the remaining time when it fires early.
    conn.idleTimer = setTimeout(check, Math.min(timeout, MAX_TIMER_DELAY));
    // Unref'd: the socket is what keeps the process alive, not this watchdog.
    conn.idleTimer.unref();
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
  events<K extends keyof EventSourceEventMap<Events> & string>(
    options: EventsOptions<K> & { types: readonly K[] },
  ): AsyncIterableIterator<EventSourceEventMap<Events>[K]>;
  events(options?: EventsOptions): AsyncIterableIterator<MessageEvent<string> | Events[keyof Events]>;
  events(options: EventsOptions = {}): AsyncIterableIterator<MessageEvent> {
    const maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED;
    if (!(maxBuffered >= 1)) throw new RangeError("maxBuffered must be at least 1");
    const queue = new EventQueue(options.types ? new Set(options.types) : null, maxBuffered);
    if (this.#readyState === CLOSED && this.#conn === null && this.#reconnectTimer === null) {
      queue.done = true;
      queue.failure = this.#failure;
    } else {
      this.#queues.add(queue);
    }
    const source = this;
    const iterator: AsyncIterableIterator<MessageEvent> = {
      next(): Promise<IteratorResult<MessageEvent>> {
        if (queue.size > 0) {
          const event = queue.buffer[queue.head]!;
          (queue.buffer as unknown[])[queue.head] = undefined;
          queue.head++;
          if (queue.head === queue.buffer.length) {
            queue.buffer.length = 0;
            queue.head = 0;
          } else if (queue.head >= 1024 && queue.head * 2 >= queue.buffer.length) {
            queue.buffer.splice(0, queue.head);
            queue.head = 0;
          }
          if (queue.size === queue.maxBuffered - 1) source.#updateBackpressure();
          return Promise.resolve({ value: event, done: false });
        }
        if (queue.done) {
          const failure = queue.failure;
          if (failure !== null) {
            queue.failure = null; // thrown once; then plain done
            return Promise.reject(failure);
          }
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve, reject) => queue.waiters.push({ resolve, reject }));
      },
      return(): Promise<IteratorResult<MessageEvent>> {
        queue.buffer.length = 0;
        queue.head = 0;
        queue.failure = null;
        source.#queues.delete(queue);
        source.close();
        source.#endQueue(queue, null);
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /** `for await (const event of source)`: `source.events()` with the defaults. */
  [Symbol.asyncIterator](): AsyncIterableIterator<MessageEvent<string> | Events[keyof Events]> {
    return this.events();
  }

  #enqueue(event: MessageEvent): void {
    let full = false;
    for (const queue of this.#queues) {
      if (queue.types !== null && !queue.types.has(event.type)) continue;
      // Waiters only exist while the buffer is empty: the oldest takes the event.
      const waiter = queue.waiters.shift();
      if (waiter !== undefined) {
        waiter.resolve({ value: event, done: false });
        continue;
      }
      queue.buffer.push(event);
      if (queue.size >= queue.maxBuffered) full = true;
    }
    if (full) this.#updateBackpressure();
  }

  #endQueue(queue: EventQueue, failure: EventSourceError | null): void {
    this.#queues.delete(queue);
    if (queue.done) return;
    queue.done = true;
    queue.failure = failure;
    // Waiting consumers have an empty buffer: settle them now. As with next() after the
    // end, the failure is thrown once (to the oldest), then it is plain done.
    const waiters = queue.waiters.splice(0);
    for (const waiter of waiters) {
      if (queue.failure !== null) {
        queue.failure = null;
        waiter.reject(failure);
      } else {
        waiter.resolve({ value: undefined, done: true });
      }
    }
  }

  /** Pause the socket while any iterator holds `maxBuffered` events; resume after. */
  #updateBackpressure(): void {
    const conn = this.#conn;
    if (conn === null || conn.response === null) return;
    let full = false;
    for (const queue of this.#queues) {
      if (queue.size >= queue.maxBuffered) {
        full = true;
        break;
      }
    }
    if (full && !conn.paused) {
      conn.paused = true;
      conn.response.pause();
    } else if (!full && conn.paused) {
      conn.paused = false;
      conn.response.resume();
      if (conn.idleTimer === null && this.#idleTimeout > 0) this.#armIdleTimer(conn);
    }
  }
}

// WebIDL constants: on the interface object and on the prototype, read-only, enumerable.
const constant = (value: number): PropertyDescriptor => ({
  value,
  writable: false,
  enumerable: true,
  configurable: false,
});
for (const target of [EventSource, EventSource.prototype]) {
  Object.defineProperties(target, {
    CONNECTING: constant(CONNECTING),
    OPEN: constant(OPEN),
    CLOSED: constant(CLOSED),
  });
}
// WebIDL attributes and operations are enumerable (class members are not by default).
for (const name of ["url", "withCredentials", "readyState", "onopen", "onmessage", "onerror", "close"]) {
  const descriptor = Object.getOwnPropertyDescriptor(EventSource.prototype, name)!;
  Object.defineProperty(EventSource.prototype, name, { ...descriptor, enumerable: true });
}

/** Typed `addEventListener` / `removeEventListener` for the built-in and named events. */
export interface EventSource<Events extends { [K in keyof Events]: MessageEvent } = {}> {
  addEventListener<K extends keyof EventSourceEventMap<Events> & string>(
    type: K,
    listener: (this: EventSource<Events>, event: EventSourceEventMap<Events>[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof EventSourceEventMap<Events> & string>(
    type: K,
    listener: (this: EventSource<Events>, event: EventSourceEventMap<Events>[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}

/** The sources watching one AbortSignal, and the one listener that tells them all. */
interface AbortWatch {
  readonly callbacks: Set<() => void>;
  readonly listener: () => void;
}
const abortWatches = new WeakMap<AbortSignal, AbortWatch>();

/**
 * Calls `onAbort` when `signal` aborts; returns the function that stops watching (safe to call
 * more than once). All the sources that share a signal share one "abort" listener on it: one
 * listener each would make Node print a MaxListenersExceededWarning once more than 10 sources
 * are open on the same signal. The listener is removed when the last source stops watching.
 */
function watchAbort(signal: AbortSignal, onAbort: () => void): () => void {
  let watch = abortWatches.get(signal);
  if (watch === undefined) {
    const callbacks = new Set<() => void>();
    const listener = (): void => {
      abortWatches.delete(signal);
      // A copy: each callback (close()) unwatches itself.
      for (const callback of [...callbacks]) callback();
    };
    watch = { callbacks, listener };
    abortWatches.set(signal, watch);
    signal.addEventListener("abort", listener, { once: true });
  }
  const current = watch;
  current.callbacks.add(onAbort);
  return () => {
    if (!current.callbacks.delete(onAbort) || current.callbacks.size !== 0) return;
    signal.removeEventListener("abort", current.listener);
    abortWatches.delete(signal);
  };
}

/** A numeric option: `fallback` when absent; a TypeError if not a number; a RangeError if NaN or below `min`. */
function numberOption(value: unknown, fallback: number, name: string, min = 0): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!(value >= min)) throw new RangeError(`${name} must be a number >= ${min}, got ${value}`);
  return value;
}

/**
 * A delay (or factor) option, which must also be finite: `Infinity` is not "never" to a timer
 * (it would be clamped to about 24.8 days, see MAX_TIMER_DELAY), so it is refused rather than
 * given a meaning it does not have. (A server's `retry:` is the spec's to allow; it is clamped.)
 */
function finiteOption(value: unknown, fallback: number, name: string, min = 0): number {
  const n = numberOption(value, fallback, name, min);
  if (!Number.isFinite(n)) throw new RangeError(`${name} must be finite, got ${n}`);
  return n;
}

/**
 * A one-line description of anything thrown. It must not throw itself: it runs on the way to
 * an error event, and a throw would leave the source without its reconnection. A user fetch
 * may fail with anything, such as `Object.create(null)` (String() throws: no toString), a
 * getter that throws, or an error that is its own cause.
 */
function errorMessage(error: unknown, depth = 0): string {
  try {
    if (error instanceof Error) {
      const code = (error as { code?: unknown }).code;
      const cause = (error as { cause?: unknown }).cause;
      let message = String(error.message);
      if (typeof code === "string" && !message.includes(code)) message = `${code} ${message}`;
      if (cause instanceof Error && depth < 4) message += ` (${errorMessage(cause, depth + 1)})`;
      return message;
    }
    return String(error);
  } catch {
    return `(a thrown ${typeof error} that cannot be described)`;
  }
}

function responseInfo(response: TransportResponse): Pick<EventSourceErrorInit, "status" | "statusText" | "headers"> {
  return { status: response.status, statusText: response.statusText, headers: response.headers() };
}
