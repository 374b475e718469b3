/**
 * The options of `EventSource` and its iterators, and their validation: every option is
 * checked here, once, when the source (or iterator) is made, so that a bad value throws where
 * the caller wrote it rather than in a later tick.
 *
 * Optional members also accept `undefined` (as if absent), so that code built with
 * `exactOptionalPropertyTypes` can pass `{ idleTimeout: config.idle }`.
 */
import type { EngineChoice } from "../parser/types.js";
import type { HeadersLike } from "./connection.js";
import type { FetchLike, ProxyOption, TlsOptions } from "./transport/types.js";

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
}

export interface EventSourceOptions {
  /** As in browsers: stored and reported. Node has no cookie jar; send cookies via `headers`. */
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
  reconnect?: ReconnectOptions | undefined;
  /**
   * Ms without receiving a byte after which the connection is dropped and re-made, from the
   * start of each attempt (a `headers` function that never settles counts). Finite; 0 or
   * absent: none; over 2^31 - 1 ms (about 24.8 days) is clamped to that.
   */
  idleTimeout?: number | undefined;
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
}

export interface EventsOptions<K extends string = string> {
  /** Event types to yield (default: every message and named event). */
  types?: readonly K[] | undefined;
  /** Events buffered before the socket is paused (default 10000). */
  maxBuffered?: number | undefined;
}

/** The reconnect policy's numbers, checked. */
export interface ReconnectSettings {
  readonly initialDelay: number;
  readonly maxDelay: number;
  readonly factor: number;
  readonly jitter: number;
  readonly maxAttempts: number;
}

export function reconnectSettings(reconnect: ReconnectOptions = {}): ReconnectSettings {
  const settings = {
    initialDelay: finiteOption(reconnect.initialDelay, DEFAULT_RECONNECTION_TIME, "reconnect.initialDelay"),
    maxDelay: finiteOption(reconnect.maxDelay, DEFAULT_MAX_DELAY, "reconnect.maxDelay"),
    factor: finiteOption(reconnect.factor, 1, "reconnect.factor", 1),
    jitter: numberOption(reconnect.jitter, 0, "reconnect.jitter"),
    maxAttempts: numberOption(reconnect.maxAttempts, Infinity, "reconnect.maxAttempts"),
  };
  if (settings.jitter > 1) throw new RangeError("reconnect.jitter must be between 0 and 1");
  return settings;
}

export function maxBufferedOption(value: unknown): number {
  return numberOption(value, DEFAULT_MAX_BUFFERED, "maxBuffered", 1);
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
