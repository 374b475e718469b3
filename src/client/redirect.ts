/**
 * Fetch's redirect rules, which this client applies itself wherever fetch does not follow
 * redirects for it: Node, Deno, workerd and Bun (the transport's `"manual"` redirects). The
 * browser build has redirect.browser.ts instead: there the browser follows them.
 */
import { type EventSourceErrorInit, responseInfo } from "./errors.js";
import type { TransportResponse } from "./transport/types.js";

/** Fetch: "A redirect status is a status that is 301, 302, 303, 307, or 308." */
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/**
 * Fetch "HTTP-redirect fetch" for `response`, the answer to `method` (with `body`) at
 * `current` after `redirects` redirects: null when it is not a redirect (a 3xx without
 * `Location` is returned as it is, and is then "not 200"), the failure when it cannot be
 * followed, else the request to make next. A redirect's response is cancelled.
 */
export function redirectOf(
  response: TransportResponse,
  current: URL,
  method: string,
  body: string | Uint8Array | null,
  redirects: number,
  maxRedirects: number,
): RedirectedRequest | EventSourceErrorInit | null {
  const status = response.status;
  const location = REDIRECT_STATUSES.has(status) ? response.header("location") : null;
  if (location === null) return null;
  response.cancel();
  // "If request's redirect count is 20, then return a network error." A network error
  // would be retried; a redirect loop would only loop again: fail instead.
  if (redirects >= maxRedirects) {
    return {
      code: "TOO_MANY_REDIRECTS",
      message: `more than ${maxRedirects} redirects (last: ${status} to ${location})`,
      ...responseInfo(response),
    };
  }
  const next = followRedirect(current, status, location, method, body);
  return typeof next === "string" ? { code: "BAD_REDIRECT", message: next, ...responseInfo(response) } : next;
}

/** Fetch's "request-body-header name"s: deleted when a redirect drops the body. */
const BODY_HEADERS: ReadonlySet<string> = new Set([
  "content-encoding",
  "content-language",
  "content-location",
  "content-type",
  "content-length",
]);

/** `name` (lower case) is deleted with the body (see `dropBodyHeaders`). */
export function isRequestBodyHeader(name: string): boolean {
  return BODY_HEADERS.has(name);
}

/** What a redirect turns the request into. */
export interface RedirectedRequest {
  url: URL;
  method: string;
  body: string | Uint8Array | null;
  /** True when this hop changes origin: credentials must no longer be sent. */
  crossOrigin: boolean;
  /** True when the body was dropped: its `Content-*` headers go with it. */
  dropBodyHeaders: boolean;
}

/**
 * Fetch "HTTP-redirect fetch", the parts that apply here.
 * Returns a string (the reason) when the redirect cannot be followed.
 */
export function followRedirect(
  current: URL,
  status: number,
  location: string,
  method: string,
  body: string | Uint8Array | null,
): RedirectedRequest | string {
  // "Let locationURL be [...] location URL" - parsed relative to the response URL.
  let url: URL;
  try {
    url = new URL(utf8FromByteString(location), current);
  } catch {
    return `the redirect Location ${JSON.stringify(location)} is not a valid URL`;
  }
  // "If locationURL's scheme is not an HTTP(S) scheme, then return a network error."
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `the redirect to ${url.href} is not http(s)`;
  }
  // "If one of the following is true: internalResponse's status is 301 or 302 and request's
  // method is `POST`; internalResponse's status is 303 and request's method is not `GET` or
  // `HEAD`, then: Set request's method to `GET` and request's body to null [and delete the]
  // request-body-header name[s]". A 303 here always becomes a body-less GET (HEAD cannot
  // carry an event stream, and "See Other" never means "send that body again").
  let dropBodyHeaders = false;
  if (status === 303 || ((status === 301 || status === 302) && method === "POST")) {
    method = "GET";
    body = null;
    dropBodyHeaders = true;
  }
  // "If request's current URL's origin is not same origin with locationURL's origin, then
  // for each headerName of CORS non-wildcard request-header name, delete headerName from
  // request's header list."
  const crossOrigin = url.origin !== current.origin;
  return { url, method, body, crossOrigin, dropBodyHeaders };
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

// Header values arrive as byte strings (one char per byte, from node:http and from fetch's
// Headers alike), but a Location's bytes are UTF-8, as browsers and undici read them: `/é`
// sent raw must be requested as /%C3%A9, not as the percent-encoding of two latin1 chars.
// Bytes that are not valid UTF-8 are left as they came.
function utf8FromByteString(value: string): string {
  if (!/[^\x00-\x7f]/.test(value)) return value;
  const bytes = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0xff) return value;
    bytes[i] = c;
  }
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return value;
  }
}
