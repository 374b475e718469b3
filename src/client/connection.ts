/**
 * The pure parts of one EventSource connection: request headers and the response checks of
 * the WHATWG HTML "processResponse" steps (the Fetch standard's redirect rules are in
 * redirect.ts). Kept free of state so that each rule is testable and quotable on its own.
 */
import { isRequestBodyHeader } from "./redirect.js";
import { BROWSER_BUILD } from "./transport/platform.js";

/** A header collection a user may pass: a plain object, a `Headers`, or name/value pairs. */
export type HeadersLike =
  | Record<string, string>
  | Headers
  | Iterable<readonly [string, string]>;

/**
 * Never sent across an origin change: the Fetch standard deletes `Authorization` on a
 * cross-origin redirect ("CORS non-wildcard request-header name"); `Cookie` and
 * `Proxy-Authorization` carry credentials just the same.
 */
const SENSITIVE_HEADERS: ReadonlySet<string> = new Set([
  "authorization",
  "cookie",
  "proxy-authorization",
]);

export const utf8 = new TextEncoder();

/**
 * HTML 9.2.6 processing model: "If the EventSource object's last event ID string is not
 * the empty string, then: Let lastEventIDValue be [...] the last event ID string, encoded
 * as UTF-8."
 *
 * `node:http` (and fetch's `Headers`) take header values as latin1 strings, one char per
 * byte, and reject code points above U+00FF. So the UTF-8 bytes are handed over as a
 * latin1 string: the bytes on the wire are then exactly the UTF-8 encoding.
 */
export function utf8AsLatin1(value: string): string {
  // Fast path: ASCII is the same in both encodings (the usual id: a number or a uuid).
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) > 0x7f) return bytesAsLatin1(utf8.encode(value));
  }
  return value;
}

/** One char per byte. (TextDecoder's "latin1" is windows-1252: 0x80-0x9F differ.) */
function bytesAsLatin1(bytes: Uint8Array): string {
  let out = "";
  // In slices: an id may be megabytes, past the engine's bound on call arguments.
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return out;
}

function forEachHeader(headers: HeadersLike, fn: (name: string, value: string) => void): void {
  if (typeof Headers !== "undefined" && headers instanceof Headers) {
    headers.forEach((value, name) => fn(name, value));
  } else if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === "function") {
    for (const pair of headers as Iterable<readonly [string, string]>) fn(pair[0], pair[1]);
  } else {
    for (const name of Object.keys(headers)) {
      const value = (headers as Record<string, string>)[name];
      if (value !== undefined && value !== null) fn(name, String(value));
    }
  }
}

/**
 * The request headers of one attempt. Names are lower-cased (HTTP names are
 * case-insensitive) so that a user header replaces ours instead of doubling it.
 *
 * - HTML constructor step 10: "User agents may set (`Accept`, `text/event-stream`)".
 * - Step 11: "Set request's cache mode to "no-store"": there is no cache here, but
 *   intermediaries get `Cache-Control: no-cache` (what browsers send for no-store), unless
 *   `cacheHeaders` is false: a browser's fetch adds them itself past its CORS checks, and
 *   from a script they would cost every cross-origin request a preflight.
 * - `Last-Event-ID` is always ours: a user value would fight the spec's.
 */
export function buildRequestHeaders(
  user: HeadersLike | undefined,
  lastEventId: string,
  dropSensitive: boolean,
  dropBodyHeaders: boolean,
  extraSensitive?: ReadonlySet<string>,
  cacheHeaders = true,
): Record<string, string> {
  const out: Record<string, string> = { accept: "text/event-stream" };
  if (!BROWSER_BUILD && cacheHeaders) {
    // Fetch, HTTP-network-or-cache fetch, for the "no-store" cache mode an EventSource
    // request has: "If httpRequest's header list does not contain `Pragma`, then append
    // (`Pragma`, `no-cache`)", and the same for `Cache-Control` (for HTTP/1.0 caches).
    out["cache-control"] = "no-cache";
    out.pragma = "no-cache";
  }
  if (user !== undefined && user !== null) {
    forEachHeader(user, (name, value) => {
      const lower = name.toLowerCase();
      if (lower === "last-event-id") return;
      if (dropSensitive && (SENSITIVE_HEADERS.has(lower) || extraSensitive?.has(lower))) return;
      // Only after a redirect this client followed: never in the browser build.
      if (!BROWSER_BUILD && dropBodyHeaders && isRequestBodyHeader(lower)) return;
      out[lower] = value;
    });
  }
  if (lastEventId !== "") {
    const value = utf8AsLatin1(lastEventId);
    // An id may hold any character but NUL, CR and LF. node:http refuses other control
    // characters in a header value (and fetch would trim leading/trailing whitespace), so
    // such an id cannot be sent as it is: omit the header rather than fail every reconnect
    // (the source reports it: LAST_EVENT_ID_NOT_SENT).
    if (!INVALID_HEADER_VALUE.test(value)) out["last-event-id"] = value;
  }
  return out;
}

/** What node:http rejects in a header value (its `checkInvalidHeaderChar`). */
const INVALID_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Fetch "normalize a method": DELETE, GET, HEAD, OPTIONS, POST and PUT are upper-cased,
 * so that `method: "post"` is the POST that a 301/302 rewrites.
 */
export function normalizeMethod(method: string): string {
  const upper = method.toUpperCase();
  return NORMALIZED_METHODS.has(upper) ? upper : method;
}
const NORMALIZED_METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]);

/**
 * MIME Sniffing "parse a MIME type", as far as the essence: `type/subtype` (both HTTP token
 * code points, RFC 9110 `tchar`) after leading HTTP whitespace, then HTTP whitespace before
 * `;` or the end. Anything else that is not a token code point (a space in
 * `text /event-stream`) is a failure. Parameters never make it fail.
 */
const MIME_ESSENCE = /^[\t\n\r ]*([!#$%&'*+\-.^_`|~0-9A-Za-z]+\/[!#$%&'*+\-.^_`|~0-9A-Za-z]+)[\t\n\r ]*(?:;|$)/;

/**
 * An HTTP quoted string ("collect an HTTP quoted string": a backslash takes the next code
 * point, an unterminated one runs to the end). Its commas do not split a header value.
 */
const QUOTED = /"(?:[^"\\]|\\[\s\S]?)*"?/g;

/**
 * HTML step 15.3: "if res's `Content-Type` is not `text/event-stream`, then fail the
 * connection" - the header's MIME type as Fetch "extract a MIME type" finds it, compared by
 * its essence (ASCII case-insensitive; parameters allowed: `Text/Event-Stream;
 * charset=utf-8` matches, `text/event-streams` does not).
 *
 * A combined value (several header lines, or one with commas) holds several MIME types:
 * the last one that parses, and is not `*\/*`, wins. So `text/event-stream,
 * text/event-stream` and `text/html, text/event-stream` are event streams;
 * `text/event-stream, text/html` is not.
 */
export function isEventStreamContentType(value: string | null | undefined): boolean {
  if (value === null || value === undefined) return false;
  let essence: string | null = null;
  // Fetch "get, decode, and split": at commas outside quoted strings. A quoted string is
  // never part of an essence (a quote is not a token code point), so it is replaced by one
  // quote: the items fail or parse as they did.
  for (const item of value.replace(QUOTED, '"').split(",")) {
    const parsed = MIME_ESSENCE.exec(item)?.[1].toLowerCase();
    if (parsed !== undefined && parsed !== "*/*") essence = parsed;
  }
  return essence === "text/event-stream";
}
