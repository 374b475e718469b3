/**
 * The source's request (HTML constructor step 13: "Set ev's request to request") and one
 * fetch of it: the `headers` option, the transport, Fetch's redirect steps, and the checks of
 * processResponse step 15. A redirect updates the request, so reconnections go to the final
 * URL with the redirected method and body.
 */
import { buildRequestHeaders, type HeadersLike, isEventStreamContentType, normalizeMethod, utf8 } from "./connection.js";
import { errorMessage, type EventSourceErrorInit, readErrorBody, responseInfo } from "./errors.js";
import { tlsFailure } from "./failures.js";
import { type EventSourceOptions, lastEventIdQueryOption, numberOption } from "./options.js";
import { redirectOf } from "./redirect.js";
import { reportException } from "./report.js";
import { chooseTransport } from "./transport/choose.js";
import { BROWSER_BUILD } from "./transport/platform.js";
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
  /** Something the request could not do as asked; the attempt goes on (an error event). */
  warn(error: EventSourceErrorInit): void;
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
  /**
   * The transport, and whether it is a page's or worker's fetch (see chooseTransport). One
   * field, not two: a `browser` field of its own would be set by every source in the browser
   * build, where it is always true and never read (a minifier cannot fold a field away).
   */
  readonly #transport: { readonly transport: Transport; readonly browser: boolean };
  readonly #maxRedirects: number;
  readonly #onRequest: EventSourceOptions["onRequest"];
  readonly #withCredentials: boolean;
  /** The query parameter that carries the last event ID instead of the header, or null. */
  readonly #idParam: string | null;
  /** The origin whose 401 challenge the URL's credentials answered: sent there from then on. */
  #authOrigin: string | null = null;

  constructor(url: URL, options: EventSourceOptions) {
    this.url = url;
    this.#method = normalizeMethod(options.method ?? "GET");
    this.#body = options.body ?? null;
    this.#headers = options.headers;
    this.#sensitive = options.sensitiveHeaders
      ? new Set(options.sensitiveHeaders.map((name) => name.toLowerCase()))
      : undefined;
    this.#transport = chooseTransport(options);
    this.#withCredentials = Boolean(options.withCredentials);
    this.#idParam = lastEventIdQueryOption(options.lastEventIdQuery);
    this.#onRequest = options.onRequest;
    // Fetch's limit: "If request's redirect count is 20, then return a network error."
    this.#maxRedirects = numberOption(options.maxRedirects, 20, "maxRedirects");
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
    let warned = false;
    for (let redirects = 0; ; ) {
      const url = this.url;
      // 5.2-5.3: "If the EventSource object's last event ID string is not the empty
      // string, then [...] Set (`Last-Event-ID`, lastEventIDValue) in request's header
      // list." (The initial `lastEventId` option makes the first request a resumption.)
      // Or, as asked, in the query instead.
      const idParam = this.#idParam;
      const headers = buildRequestHeaders(
        userHeaders,
        idParam === null ? lastEventId : "",
        this.#dropSensitive,
        this.#dropBodyHeaders,
        this.#sensitive,
        // Not from a page's fetch (always one in the browser build, where this folds away).
        !BROWSER_BUILD && !this.#transport.browser,
      );
      if (idParam === null && lastEventId !== "" && !("last-event-id" in headers) && !warned) {
        warned = true;
        attempt.warn({
          code: "LAST_EVENT_ID_NOT_SENT",
          message: `the last event ID ${JSON.stringify(lastEventId)} has a character a header cannot carry: reconnecting without Last-Event-ID`,
        });
        if (!attempt.current()) return null;
      }
      // URL credentials are not sent up front: as Fetch does, only in answer to a 401 (below).
      const hasCredentials = url.username !== "" || url.password !== "";
      let target = hasCredentials ? withoutCredentials(url) : url;
      if (idParam !== null && lastEventId !== "") target = withQueryParam(target, idParam, lastEventId);
      if (hasCredentials && this.#authOrigin === url.origin && !("authorization" in headers)) {
        headers.authorization = basicAuthorization(url);
      }
      try {
        this.#report(target, headers);
        response = await this.#transport.transport({
          url: target,
          method: this.#method,
          headers,
          body: this.#body,
          signal: attempt.signal,
          withCredentials: this.#withCredentials,
        });
      } catch (error) {
        // Closed, or superseded (an idle timeout): that path already reported.
        if (!attempt.current()) return null;
        // 15.1 "If res is an aborted network error, then fail the connection." We did not
        // abort it (the attempt would no longer be current): the user's fetch did.
        if (isAbortError(error)) return fail({ code: "ABORTED", message: "the request was aborted", cause: error });
        // A refused certificate would be refused again: failed, unless shouldRetry asks. (A
        // browser does not tell: see failures.browser.ts.)
        if (!BROWSER_BUILD) {
          const tls = tlsFailure(error, url);
          if (tls !== null) return fail(tls);
        }
        // 15.2 "Otherwise, if res is a network error, then reestablish the connection".
        return retry({ code: "NETWORK", message: `request to ${url.href} failed: ${errorMessage(error)}`, cause: error });
      }
      if (!attempt.current()) {
        response.cancel();
        return null;
      }
      attempt.responded();
      // A browser followed redirects itself: reconnections go where it ended, as a native
      // EventSource's request does, and events carry that origin.
      if (response.url !== undefined && response.url !== target.href) {
        const final = new URL(response.url);
        if (final.origin !== url.origin) this.#dropSensitive = true;
        this.url = final;
      }

      const status = response.status;
      // Fetch, HTTP-network-or-cache fetch: "If response's status is 401 [...] If request's
      // use-URL-credentials flag is unset or isAuthenticationFetch is true [...] Set response
      // to the result of running HTTP-network-or-cache fetch given fetchParams and true", the
      // authentication fetch that sends the URL's credentials.
      if (status === 401 && hasCredentials && !("authorization" in headers)) {
        response.cancel();
        this.#authOrigin = url.origin;
        continue;
      }
      // Fetch "HTTP-redirect fetch" (where the transport does not follow redirects itself: in
      // the browser build it never does, and this block is left out, redirectOf with it).
      if (!BROWSER_BUILD) {
        const next = redirectOf(response, url, this.#method, this.#body, redirects++, this.#maxRedirects);
        if (next !== null) {
          if ("code" in next) return fail(next);
          this.url = next.url;
          this.#method = next.method;
          this.#body = next.body;
          if (next.crossOrigin) this.#dropSensitive = true;
          if (next.dropBodyHeaders) this.#dropBodyHeaders = true;
          continue;
        }
      }
      break;
    }

    // 15.3 "Otherwise, if res's status is not 200, or if res's `Content-Type` is not
    // `text/event-stream`, then fail the connection."
    if (response.status !== 200) {
      // The body often says why (a 429's or 503's JSON): its start goes in `error.body`.
      let body: string | undefined;
      if (BROWSER_BUILD || response.codingError === undefined) body = await readErrorBody(response, attempt.signal);
      else response.cancel();
      if (!attempt.current()) return null;
      return fail({
        code: "HTTP_STATUS",
        message: `unexpected response status ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`,
        ...responseInfo(response),
        body,
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
    if (!BROWSER_BUILD && response.codingError !== undefined) {
      response.cancel();
      return fail({ code: "CONTENT_ENCODING", message: response.codingError, ...responseInfo(response) });
    }
    // A user fetch's body that is not a stream: open would be followed by a read that
    // cannot start. Failed for good: the same fetch would give the same kind of body.
    if (response.bodyError !== undefined) {
      response.cancel();
      return fail({ code: "UNREADABLE_BODY", message: response.bodyError, ...responseInfo(response) });
    }
    return { response };
  }

  /** The `onRequest` hook; a throw in it is reported as a listener's would be, not fatal here. */
  #report(url: URL, headers: Record<string, string>): void {
    const hook = this.#onRequest;
    if (hook === undefined) return;
    try {
      hook({ url: url.href, method: this.#method, headers: { ...headers } });
    } catch (error) {
      reportException(error);
    }
  }
}

/**
 * The URL with `name=value` in its query, replacing any such parameter. The rest of the query
 * keeps its bytes (URLSearchParams would re-encode it all: `%20` becomes `+`).
 */
function withQueryParam(url: URL, name: string, value: string): URL {
  const out = new URL(url.href);
  const kept = out.search
    .slice(1)
    .split("&")
    .filter((pair) => pair !== "" && queryName(pair) !== name);
  // Form-encoded, as servers read a query (an id with a lone surrogate gets U+FFFD).
  kept.push(new URLSearchParams([[name, value]]).toString());
  out.search = `?${kept.join("&")}`;
  return out;
}

function queryName(pair: string): string {
  const eq = pair.indexOf("=");
  return percentDecode((eq === -1 ? pair : pair.slice(0, eq)).replace(/\+/g, " "));
}

function withoutCredentials(url: URL): URL {
  const bare = new URL(url.href);
  bare.username = "";
  bare.password = "";
  return bare;
}

/** Fetch: the URL's credentials "converted to an `Authorization` value" (Basic, RFC 7617, UTF-8). */
function basicAuthorization(url: URL): string {
  const raw = utf8.encode(`${percentDecode(url.username)}:${percentDecode(url.password)}`);
  let binary = "";
  for (const b of raw) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

function percentDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // a lone "%" the URL parser kept as it is
  }
}
