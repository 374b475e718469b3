/**
 * The source's request (HTML constructor step 13: "Set ev's request to request") and one
 * fetch of it: the `headers` option, the transport, Fetch's redirect steps, and the checks of
 * processResponse step 15. A redirect updates the request, so reconnections go to the final
 * URL with the redirected method and body.
 */
import {
  buildRequestHeaders,
  DEFAULT_MAX_REDIRECTS,
  followRedirect,
  type HeadersLike,
  isEventStreamContentType,
  normalizeMethod,
  REDIRECT_STATUSES,
} from "./connection.js";
import { errorMessage, type EventSourceErrorInit, responseInfo } from "./errors.js";
import { type EventSourceOptions, numberOption } from "./options.js";
import { defaultTransport } from "./transport/default.js";
import { fetchTransport } from "./transport/fetch.js";
import { isAbortError, type Transport, type TransportResponse } from "./transport/types.js";

/** How one fetch ended: an event stream to read, or an error and whether to retry. */
export type FetchOutcome =
  | { readonly response: TransportResponse }
  | { readonly response: null; readonly retry: boolean; readonly error: EventSourceErrorInit };

/** Hooks into the attempt that runs the fetch. */
export interface FetchAttempt {
  readonly signal: AbortSignal;
  /** False once the attempt was closed or superseded: its outcome is dropped unseen. */
  current(): boolean;
  /** A response arrived (the idle watchdog counts it as activity). */
  responded(): void;
}

const retry = (error: EventSourceErrorInit): FetchOutcome => ({ response: null, retry: true, error });
const fail = (error: EventSourceErrorInit): FetchOutcome => ({ response: null, retry: false, error });

export class StreamRequest {
  url: URL;
  #method: string;
  #body: string | Uint8Array | null;
  #dropSensitive = false;
  #dropBodyHeaders = false;
  readonly #headers: EventSourceOptions["headers"];
  readonly #sensitive: ReadonlySet<string> | undefined;
  readonly #transport: Transport;
  readonly #maxRedirects: number;

  constructor(url: URL, options: EventSourceOptions) {
    this.url = url;
    this.#method = normalizeMethod(options.method ?? "GET");
    this.#body = options.body ?? null;
    this.#headers = options.headers;
    this.#sensitive = options.sensitiveHeaders
      ? new Set(options.sensitiveHeaders.map((name) => name.toLowerCase()))
      : undefined;
    this.#transport = options.fetch ? fetchTransport(options.fetch) : defaultTransport;
    this.#maxRedirects = numberOption(options.maxRedirects, DEFAULT_MAX_REDIRECTS, "maxRedirects");
  }

  /**
   * Fetch with redirects, then processResponse's checks. Resolves to null when the attempt
   * stopped being current on the way (any response is cancelled).
   */
  async fetch(lastEventId: string, attempt: FetchAttempt): Promise<FetchOutcome | null> {
    let userHeaders: HeadersLike | undefined;
    try {
      const h = this.#headers;
      userHeaders = typeof h === "function" ? await h() : h;
    } catch (error) {
      if (!attempt.current()) return null;
      return retry({ code: "HEADERS", message: `the headers function failed: ${errorMessage(error)}`, cause: error });
    }
    if (!attempt.current()) return null;

    let response: TransportResponse;
    for (let redirects = 0; ; ) {
      const url = this.url;
      try {
        response = await this.#transport({
          url,
          method: this.#method,
          // 5.2-5.3: "If the EventSource object's last event ID string is not the empty
          // string, then [...] Set (`Last-Event-ID`, lastEventIDValue) in request's header
          // list." (The initial `lastEventId` option makes the first request a resumption.)
          headers: buildRequestHeaders(
            userHeaders,
            lastEventId,
            this.#dropSensitive,
            this.#dropBodyHeaders,
            this.#sensitive,
          ),
          body: this.#body,
          signal: attempt.signal,
        });
      } catch (error) {
        // Closed, or superseded (an idle timeout): that path already reported.
        if (!attempt.current()) return null;
        // 15.1 "If res is an aborted network error, then fail the connection." We did not
        // abort it (the attempt would no longer be current): the user's fetch did.
        if (isAbortError(error)) return fail({ code: "ABORTED", message: "the request was aborted", cause: error });
        // 15.2 "Otherwise, if res is a network error, then reestablish the connection".
        return retry({ code: "NETWORK", message: `request to ${url.href} failed: ${errorMessage(error)}`, cause: error });
      }
      if (!attempt.current()) {
        response.cancel();
        return null;
      }
      attempt.responded();

      const status = response.status;
      const location = REDIRECT_STATUSES.has(status) ? response.header("location") : null;
      if (location === null) break;
      // Fetch "HTTP-redirect fetch". (A 3xx without `Location` is returned as it is, and is
      // then "not 200" below.)
      response.cancel();
      // "If request's redirect count is 20, then return a network error." A network error
      // would be retried; a redirect loop would only loop again: fail instead.
      if (redirects >= this.#maxRedirects) {
        return fail({
          code: "TOO_MANY_REDIRECTS",
          message: `more than ${this.#maxRedirects} redirects (last: ${status} to ${location})`,
          ...responseInfo(response),
        });
      }
      redirects++;
      const next = followRedirect(url, status, location, this.#method, this.#body);
      if (typeof next === "string") return fail({ code: "BAD_REDIRECT", message: next, ...responseInfo(response) });
      this.url = next.url;
      this.#method = next.method;
      this.#body = next.body;
      if (next.crossOrigin) this.#dropSensitive = true;
      if (next.dropBodyHeaders) this.#dropBodyHeaders = true;
    }

    // 15.3 "Otherwise, if res's status is not 200, or if res's `Content-Type` is not
    // `text/event-stream`, then fail the connection."
    if (response.status !== 200) {
      response.cancel();
      return fail({
        code: "HTTP_STATUS",
        message: `unexpected response status ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`,
        ...responseInfo(response),
      });
    }
    const contentType = response.header("content-type");
    if (!isEventStreamContentType(contentType)) {
      response.cancel();
      return fail({
        code: "BAD_CONTENT_TYPE",
        message: `unexpected Content-Type ${contentType === null ? "(none)" : JSON.stringify(contentType)}, expected text/event-stream`,
        ...responseInfo(response),
      });
    }
    return { response };
  }
}
