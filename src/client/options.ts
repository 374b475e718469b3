/**
 * The options of `EventSource` and its iterators, and their validation: every option is
 * checked here, once, when the source (or iterator) is made, so that a bad value throws where
 * the caller wrote it rather than in a later tick.
 *
 * Optional members also accept `undefined` (as if absent), so that code built with
 * `exactOptionalPropertyTypes` can pass `{ idleTimeout: config.idle }`.
 */
import type { EngineChoice, ParsedEvent } from "../parser/types.js";
import type { HeadersLike } from "./connection.js";
import type { EventSourceError, EventSourceErrorCode } from "./errors.js";
import type { EventSourceMessageEvent } from "./types.js";
import type { FetchLike, Http2Option, ProxyOption, TlsOptions } from "./transport/types.js";

/** HTML: the reconnection time "must initially be an implementation-defined value,
 * probably in the region of a few seconds" - 3 s, as Chrome and undici. */
export const DEFAULT_RECONNECTION_TIME = 3000;
export const DEFAULT_MAX_DELAY = 30_000;
export const DEFAULT_MAX_BUFFERED = 10_000;

/**
 * Delays are finite numbers of ms (`Infinity` or `NaN` throw a RangeError); a wait over
 * 2^31 - 1 ms (about 24.8 days), including one a server asks for with `retry:`, is clamped
 * to that.
 */
export interface ReconnectOptions {
  /** The initial reconnection time in ms (default 3000). A `retry:` field replaces it. */
  initialDelay?: number | undefined;
  /** Cap on the backed-off delay in ms (default 30000). Never shortens the reconnection time. */
  maxDelay?: number | undefined;
  /**
   * Backoff multiplier per failed attempt in a row, >= 1 (default 1: the spec's constant
   * delay). Above 1, the n-th reconnection in a row waits the reconnection time for n = 1,
   * then max(reconnection time, 100 ms) * factor^(n-1), capped by `maxDelay`.
   */
  factor?: number | undefined;
  /** 0..1: each delay is multiplied by a random number in [1 - jitter, 1] (default 0). */
  jitter?: number | undefined;
  /** Reconnection attempts in a row before giving up (default Infinity; 0 = never reconnect). */
  maxAttempts?: number | undefined;
  /**
   * HTTP statuses retried like a network error instead of failing the connection (the spec
   * fails on any status but 200), e.g. `[429, 502, 503, 504]`. A `Retry-After` header
   * (seconds or an HTTP date) on such a response sets that attempt's delay, capped by
   * `maxDelay`. Default: none.
   */
  retryStatuses?: readonly number[] | undefined;
  /**
   * Called whenever an attempt fails or its stream ends (not after `close()`), with what the
   * policy would do (`retry`); its answer has the last word, for network errors too, and over
   * `maxAttempts`. `undefined` keeps the policy's answer. A throw is reported as a listener's
   * would be, and the policy's answer stands.
   */
  shouldRetry?: ((context: RetryContext) => boolean | undefined) | undefined;
  /**
   * Ms a connection must stay open for the attempt count (and so the backoff) to start again
   * from 0 when it ends. Default 0: reset as soon as a connection opens. Set it when a server
   * may accept connections and drop them at once, so that such a loop still backs off.
   */
  resetAfter?: number | undefined;
}

/** What `reconnect.shouldRetry` is asked about. */
export interface RetryContext {
  /** The response status, when the attempt got a response. */
  readonly status: number | undefined;
  /** The failure (its `code`: NETWORK, STREAM_ENDED, HTTP_STATUS...; `headers` of a response). */
  readonly error: EventSourceError;
  /** The number of the reconnection attempt this would start (1 = the first in a row). */
  readonly attempt: number;
  /** The policy's answer: the spec's, plus `retryStatuses`, within `maxAttempts`. */
  readonly retry: boolean;
}

/**
 * Lifecycle hooks (the `on` option): plain callbacks, called synchronously, at most a few
 * times per connection, so cheap enough to leave on in production. They are not events on
 * the source because a server's `event: reconnect` would reach such listeners too. A throw is
 * reported as a listener's would be.
 */
export interface EventSourceHooks {
  /** A connection opened (before the `open` event). `url` is the final URL after redirects. */
  open?: ((info: OpenInfo) => void) | undefined;
  /** A reconnection was scheduled (after the `error` event with `willReconnect: true`). */
  reconnect?: ((info: ReconnectInfo) => void) | undefined;
  /** The source stopped for good after a failure (retries ran out or were refused). */
  giveUp?: ((info: GiveUpInfo) => void) | undefined;
}

export interface OpenInfo {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  /** Connections opened so far, this one included. */
  readonly connections: number;
}

export interface ReconnectInfo {
  /** The reconnection attempt in a row (1 = the first). */
  readonly attempt: number;
  /** Ms until it starts. */
  readonly delay: number;
  /** Why: the failure's code (NETWORK, STREAM_ENDED, HTTP_STATUS, IDLE_TIMEOUT...). */
  readonly reason: EventSourceErrorCode;
  readonly error: EventSourceError;
  /** The `Retry-After` a response asked for, in ms (before the `maxDelay` cap), if any. */
  readonly retryAfter: number | undefined;
}

export interface GiveUpInfo {
  /** Reconnection attempts in a row that failed before this. */
  readonly attempts: number;
  /** The final failure (what iterators throw). */
  readonly error: EventSourceError;
}

export interface EventSourceOptions {
  /**
   * As in browsers: in a page or worker, cookies (and HTTP auth) go with a cross-origin
   * request (fetch's `credentials: "include"`; else `"same-origin"`). Elsewhere it is only
   * stored and reported: Node has no cookie jar; send cookies via `headers`.
   */
  withCredentials?: boolean | undefined;
  /** Extra request headers, or a function (sync or async) called before every (re)connect. */
  headers?: HeadersLike | (() => HeadersLike | Promise<HeadersLike>) | undefined;
  /** HTTP method (default "GET"). */
  method?: string | undefined;
  /** Request body, sent again on every reconnection (so: a string or bytes, not a stream). */
  body?: string | Uint8Array | null | undefined;
  /**
   * A WHATWG fetch to use instead of the default transport (`node:http`/`node:https` on Node,
   * the global `fetch` elsewhere): the global `fetch`, undici's, or a function wrapping one.
   */
  fetch?: FetchLike | undefined;
  /** The initial last event ID: sent as `Last-Event-ID` from the first request on. */
  lastEventId?: string | undefined;
  /**
   * Send the last event ID as this query parameter of the URL (e.g. `"lastEventId"` gives
   * `?lastEventId=42`) instead of the `Last-Event-ID` header. For cross-origin sources in
   * browsers: a script's request with that header always needs a CORS preflight (the
   * native EventSource's does not), which the server must answer with
   * `Access-Control-Allow-Headers: last-event-id`. The server must read the parameter.
   */
  lastEventIdQuery?: string | undefined;
  reconnect?: ReconnectOptions | undefined;
  /**
   * Ms without receiving a byte after which the connection is dropped and re-made, from the
   * start of each attempt (a `headers` function that never settles counts). Finite; 0 or
   * absent: none; over 2^31 - 1 ms (about 24.8 days) is clamped to that.
   */
  idleTimeout?: number | undefined;
  /**
   * Reconnect (with `Last-Event-ID`) when no event has arrived for this many ms since the
   * connection opened or the last event, whatever else keeps coming (`:` heartbeats from a
   * proxy in front of a stalled server). Finite; 0 or absent: none; clamped like `idleTimeout`.
   */
  eventTimeout?: number | undefined;
  /** Aborting it closes the source (as `close()`: no event). */
  signal?: AbortSignal | undefined;
  /** The parser engine: "auto" (default), "wasm" or "js". */
  engine?: EngineChoice | undefined;
  /** Bound on one event's size in bytes (default 16 MiB); a larger one is an error event. */
  maxEventSize?: number | undefined;
  /** Redirects followed per connection (default 20). */
  maxRedirects?: number | undefined;
  /**
   * More header names (case-insensitive) never sent after a redirect to another origin,
   * besides `Authorization`, `Cookie` and `Proxy-Authorization` (e.g. `["x-api-key"]`).
   */
  sensitiveHeaders?: readonly string[] | undefined;
  /** Lifecycle hooks: a connection opening, a reconnection scheduled, retries running out. */
  on?: EventSourceHooks | undefined;
  /**
   * TLS settings of the Node transport: `{ ca, cert, key, rejectUnauthorized }`. Node only,
   * and not with `fetch` (pass a fetch configured for it, e.g. an undici Agent's `connect`).
   */
  tls?: TlsOptions | undefined;
  /**
   * An `http://` proxy for the Node transport (a CONNECT tunnel for https, the absolute form
   * for http), or a function of the target URL returning one or null. Node only.
   */
  proxy?: ProxyOption | undefined;
  /**
   * Called before every HTTP request (connections, reconnections, redirects and a 401's
   * authentication retry) with the URL, method and headers about to be sent: for logging.
   */
  onRequest?: ((request: { url: string; method: string; headers: Record<string, string> }) => void) | undefined;
  /**
   * The Node transport asks for compressed responses (`Accept-Encoding: gzip, deflate, br`,
   * and zstd where the runtime has it) unless this is false. A compressed response is
   * decoded either way. Turn it off behind a proxy that compresses but buffers what it
   * compresses (nginx `gzip on` with proxy buffering): events would arrive late. Node only,
   * and not with `fetch` (which negotiates on its own). Default true.
   */
  compression?: boolean | undefined;
  /**
   * HTTP/2 on the Node transport. `"auto"` (default): on https, h2 when the server chooses it
   * by ALPN (offered with http/1.1), every source to one origin (with the same `tls`) on one
   * shared connection; HTTP/1.1 on http. `true`: h2 only, also on http (h2c, prior
   * knowledge). `false`: HTTP/1.1 only. A request through `proxy` is HTTP/1.1. Node only,
   * and not with `fetch`.
   */
  http2?: Http2Option | undefined;
}

/** The options `EventSource.fromReadableStream` takes (the rest are about the network). */
export type ReadableStreamSourceOptions = Pick<
  EventSourceOptions,
  "engine" | "maxEventSize" | "lastEventId" | "signal" | "on"
>;

/**
 * What an iterator does when `bufferSize` events wait in it:
 * - `"block"`: pause the socket until the consumer catches up (TCP pushes back on the
 *   server); nothing is lost.
 * - `"drop-oldest"`: drop the oldest waiting event for each new one.
 * - `"drop-newest"`: drop new events until there is room.
 * - `"latest-by-key"`: conflation: of the events waiting with the same `key(event)`, only the
 *   newest is kept, in the place of the first; past `bufferSize` distinct keys, as "block".
 */
export type Overflow = "block" | "drop-oldest" | "drop-newest" | "latest-by-key";

const OVERFLOWS: ReadonlySet<string> = new Set(["block", "drop-oldest", "drop-newest", "latest-by-key"]);

interface ConsumerOptions<K extends string, Item> {
  /** Event types to yield (default: every message and named event). */
  types?: readonly K[] | undefined;
  /** Events that may wait in this iterator (default 10000). */
  bufferSize?: number | undefined;
  /** @deprecated The old name of `bufferSize`. */
  maxBuffered?: number | undefined;
  /** What happens when `bufferSize` events wait (default "block"). */
  overflow?: Overflow | undefined;
  /** `"latest-by-key"` only (required there): the key of an event, e.g. a tick's symbol. */
  key?: ((event: Item) => unknown) | undefined;
}

export type EventsOptions<K extends string = string> = ConsumerOptions<K, EventSourceMessageEvent>;
export type BatchesOptions<K extends string = string> = ConsumerOptions<K, ParsedEvent>;

/** An iterator's options, checked. */
export interface ConsumerSettings<Item> {
  readonly types: ReadonlySet<string> | null;
  readonly bufferSize: number;
  readonly overflow: Overflow;
  readonly key: ((event: Item) => unknown) | null;
}

export function consumerSettings<Item>(options: ConsumerOptions<string, Item>): ConsumerSettings<Item> {
  const bufferSize = numberOption(options.bufferSize ?? options.maxBuffered, DEFAULT_MAX_BUFFERED, "bufferSize", 1);
  const overflow = options.overflow ?? "block";
  if (!OVERFLOWS.has(overflow)) throw new TypeError(`overflow must be one of ${[...OVERFLOWS].join(", ")}, got ${String(overflow)}`);
  const key = options.key ?? null;
  if (key !== null && typeof key !== "function") throw new TypeError("key must be a function");
  if ((overflow === "latest-by-key") !== (key !== null)) {
    throw new TypeError('a key function goes with overflow: "latest-by-key", and only with it');
  }
  return { types: options.types ? new Set(options.types) : null, bufferSize, overflow, key };
}

/** The reconnect policy's numbers, checked. */
export interface ReconnectSettings {
  readonly initialDelay: number;
  readonly maxDelay: number;
  readonly factor: number;
  readonly jitter: number;
  readonly maxAttempts: number;
  readonly retryStatuses: ReadonlySet<number>;
  readonly shouldRetry: ((context: RetryContext) => boolean | undefined) | null;
  readonly resetAfter: number;
}

export function reconnectSettings(reconnect: ReconnectOptions = {}): ReconnectSettings {
  const settings = {
    initialDelay: finiteOption(reconnect.initialDelay, DEFAULT_RECONNECTION_TIME, "reconnect.initialDelay"),
    maxDelay: finiteOption(reconnect.maxDelay, DEFAULT_MAX_DELAY, "reconnect.maxDelay"),
    factor: finiteOption(reconnect.factor, 1, "reconnect.factor", 1),
    jitter: numberOption(reconnect.jitter, 0, "reconnect.jitter"),
    maxAttempts: numberOption(reconnect.maxAttempts, Infinity, "reconnect.maxAttempts"),
    retryStatuses: new Set(reconnect.retryStatuses ?? []),
    shouldRetry: reconnect.shouldRetry ?? null,
    resetAfter: finiteOption(reconnect.resetAfter, 0, "reconnect.resetAfter"),
  };
  if (settings.jitter > 1) throw new RangeError("reconnect.jitter must be between 0 and 1");
  for (const status of settings.retryStatuses) {
    if (!Number.isInteger(status) || status < 100 || status > 599 || status === 200) {
      throw new RangeError(`reconnect.retryStatuses: ${String(status)} is not an HTTP status other than 200`);
    }
  }
  if (settings.shouldRetry !== null && typeof settings.shouldRetry !== "function") {
    throw new TypeError("reconnect.shouldRetry must be a function");
  }
  return settings;
}

/** A numeric option: `fallback` when absent; a TypeError if not a number; a RangeError if NaN or below `min`. */
export function numberOption(value: unknown, fallback: number, name: string, min = 0): number {
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
export function finiteOption(value: unknown, fallback: number, name: string, min = 0): number {
  const n = numberOption(value, fallback, name, min);
  if (!Number.isFinite(n)) throw new RangeError(`${name} must be finite, got ${n}`);
  return n;
}

/** `lastEventIdQuery`: a non-empty parameter name, or null for the header. */
export function lastEventIdQueryOption(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`lastEventIdQuery must be a non-empty string (a query parameter name), got ${value === "" ? '""' : typeof value}`);
  }
  return value;
}

export function compressionOption(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value !== "boolean") throw new TypeError(`compression must be a boolean, got ${typeof value}`);
  return value;
}

export function http2Option(value: unknown): Http2Option {
  if (value === undefined || value === null) return "auto";
  if (value !== "auto" && typeof value !== "boolean") throw new TypeError(`http2 must be "auto", true or false, got ${typeof value === "string" ? JSON.stringify(value) : typeof value}`);
  return value;
}

export function hooksOption(on: EventSourceHooks | undefined): EventSourceHooks {
  if (on === undefined || on === null) return {};
  for (const name of ["open", "reconnect", "giveUp"] as const) {
    const hook = on[name];
    if (hook !== undefined && typeof hook !== "function") throw new TypeError(`on.${name} must be a function`);
  }
  return { open: on.open, reconnect: on.reconnect, giveUp: on.giveUp };
}
