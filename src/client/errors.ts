/** The errors a source reports: the `error` event, and what a failed iterator throws. */
import { BROWSER_BUILD } from "./transport/platform.js";
import type { TransportResponse } from "./transport/types.js";

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
  /** No event arrived for `eventTimeout` ms (whatever bytes did): the connection was dropped. */
  | "EVENT_TIMEOUT"
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
  | "ABORTED"
  /** A user `fetch` returned a body that is neither a ReadableStream nor an async iterable. */
  | "UNREADABLE_BODY"
  /**
   * The last event ID has a character a header value cannot carry (a control character):
   * the request goes on without `Last-Event-ID` (willReconnect: true, nothing is closed).
   */
  | "LAST_EVENT_ID_NOT_SENT"
  /**
   * The response's `Content-Encoding` names a coding this runtime cannot decode, or the
   * compressed body is corrupt: failed for good (the same server would send the same bytes),
   * unless `reconnect.shouldRetry` says otherwise.
   */
  | "CONTENT_ENCODING"
  /**
   * The server's certificate was refused (untrusted, expired, for another host) or the TLS
   * handshake failed: failed for good, unless `reconnect.shouldRetry` says otherwise. Pass
   * the server's CA as `tls.ca`.
   */
  | "TLS";

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
  /** willReconnect only: ms until the reconnection attempt starts. */
  delay?: number | undefined;
  /** HTTP_STATUS only: the start of the response body, as text (see `ERROR_BODY_LIMIT`). */
  body?: string | undefined;
}

/** What an init gives the error event, in the order of the event's own properties. */
const EVENT_FIELDS = ["message", "code", "status", "statusText", "headers", "cause", "attempts", "delay", "body"] as const;
/** What an init gives the error (after `message` and `cause`, which `Error` sets). */
const ERROR_FIELDS = ["code", "status", "statusText", "headers", "attempts", "body"] as const;

function copy(target: object, init: EventSourceErrorInit, fields: readonly (keyof EventSourceErrorInit)[]): void {
  for (const field of fields) (target as Record<string, unknown>)[field] = init[field];
}

/**
 * The `error` event. A plain `Event` of type "error" for DOM code (as the spec fires), with
 * typed details for everyone else.
 */
export class EventSourceErrorEvent extends Event {
  // `declare`: own properties set by the constructor (a field would be emitted as well).
  declare readonly message: string;
  declare readonly code: EventSourceErrorCode;
  /** The HTTP status, when there was a response. */
  declare readonly status: number | undefined;
  declare readonly statusText: string | undefined;
  /** The response headers, when there was a response. */
  declare readonly headers: Headers | undefined;
  /** The underlying error (a network error, a `ParseError`, the last failure for MAX_ATTEMPTS). */
  declare readonly cause: unknown;
  /** MAX_ATTEMPTS only: the reconnection attempts in a row that failed (`maxAttempts`). */
  declare readonly attempts: number | undefined;
  /** When the source reconnects: ms until the attempt starts (the reconnection time, backed off). */
  declare readonly delay: number | undefined;
  /**
   * HTTP_STATUS only: the first `ERROR_BODY_LIMIT` bytes of the response body, decoded as
   * UTF-8 (a 429's or 503's JSON often says why); undefined when none arrived in time.
   */
  declare readonly body: string | undefined;
  /**
   * True: the source is CONNECTING and will try again after the reconnection delay.
   * False: it is CLOSED for good - except EVENT_TOO_LARGE, where the connection stays OPEN.
   */
  declare readonly willReconnect: boolean;

  constructor(init: EventSourceErrorInit) {
    super("error");
    copy(this, init, EVENT_FIELDS);
    (this as { willReconnect: boolean }).willReconnect = init.willReconnect ?? false;
  }
}

/** What an async iterator of a source that failed for good throws. */
export class EventSourceError extends Error {
  override readonly name = "EventSourceError";
  declare readonly code: EventSourceErrorCode;
  declare readonly status: number | undefined;
  declare readonly statusText: string | undefined;
  declare readonly headers: Headers | undefined;
  /** MAX_ATTEMPTS only: the reconnection attempts in a row that failed (`maxAttempts`). */
  declare readonly attempts: number | undefined;
  /** HTTP_STATUS only: the start of the response body, as text (see EventSourceErrorEvent). */
  declare readonly body: string | undefined;

  constructor(init: EventSourceErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    copy(this, init, ERROR_FIELDS);
  }
}

/**
 * A one-line description of anything thrown. It must not throw itself: it runs on the way to
 * an error event, and a throw would leave the source without its reconnection. A user fetch
 * may fail with anything, such as `Object.create(null)` (String() throws: no toString), a
 * getter that throws, or an error that is its own cause.
 */
export function errorMessage(error: unknown, depth = 0): string {
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

export function responseInfo(response: TransportResponse): Pick<EventSourceErrorInit, "status" | "statusText" | "headers"> {
  return { status: response.status, statusText: response.statusText, headers: response.headers() };
}

/** How much of an error response's body `error.body` keeps, in bytes. */
export const ERROR_BODY_LIMIT = 4096;
/** How long an error response's body is waited for, in ms: a stalled body never holds up the error. */
export const ERROR_BODY_TIME = 1000;

/**
 * The first `ERROR_BODY_LIMIT` bytes of an error response's body as text (UTF-8, a character
 * cut at the limit left out), whatever arrived within `ERROR_BODY_TIME` ms; the response is
 * cancelled after. Never rejects; an abort of `signal` ends it at once.
 */
export function readErrorBody(response: TransportResponse, signal: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    const bytes = new Uint8Array(ERROR_BODY_LIMIT);
    let size = 0;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", finish);
      response.cancel();
      // `stream: true` holds back a character the limit cut, instead of a U+FFFD.
      resolve(new TextDecoder().decode(bytes.subarray(0, size), { stream: true }));
    };
    const timer = setTimeout(finish, ERROR_BODY_TIME);
    if (!BROWSER_BUILD) (timer as { unref?: () => void }).unref?.();
    if (signal.aborted) return finish();
    signal.addEventListener("abort", finish);
    try {
      response.read({
        onData(chunk) {
          if (done) return;
          const n = Math.min(chunk.byteLength, ERROR_BODY_LIMIT - size);
          bytes.set(chunk.subarray(0, n), size);
          size += n;
          if (size === ERROR_BODY_LIMIT) finish();
        },
        onEnd: finish,
        onError: finish,
      });
    } catch {
      finish();
    }
  });
}
