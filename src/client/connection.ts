/**
 * The pure parts of one EventSource connection: request headers and the response checks of
 * the WHATWG HTML "processResponse" steps (the Fetch standard's redirect rules are in
 * redirect.ts). Kept free of state so that each rule is testable and quotable on its own.
 */

/** A header collection a user may pass: a plain object, a `Headers`, or name/value pairs. */
export type HeadersLike =
  | Record<string, string>
  | Headers
  | Iterable<readonly [string, string]>;

/** Fetch's "request-body-header name"s: deleted when a redirect drops the body. */
const BODY_HEADERS: ReadonlySet<string> = new Set([
  "content-encoding",
  "content-language",
  "content-location",
  "content-type",
  "content-length",
]);

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

const utf8 = new TextEncoder();

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
  if (cacheHeaders) {
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
      if (dropBodyHeaders && BODY_HEADERS.has(lower)) return;
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

function isHttpWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** HTTP token code points (RFC 9110 `tchar`), which a MIME type's type and subtype are made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * MIME Sniffing "parse a MIME type", as far as the essence: the lower-cased `type/subtype`,
 * or null on failure. Leading and trailing HTTP whitespace is stripped, and the subtype's
 * trailing HTTP whitespace before `;`; anything else that is not a token code point (a space
 * in `text /event-stream`) is a failure. Parameters never make it fail.
 */
function mimeEssence(value: string): string | null {
  let start = 0;
  let end = value.length;
  while (start < end && isHttpWhitespace(value.charCodeAt(start))) start++;
  while (end > start && isHttpWhitespace(value.charCodeAt(end - 1))) end--;
  const slash = value.indexOf("/", start);
  if (slash === -1 || slash >= end) return null;
  const type = value.slice(start, slash);
  let subtypeEnd = value.indexOf(";", slash + 1);
  if (subtypeEnd === -1 || subtypeEnd > end) subtypeEnd = end;
  while (subtypeEnd > slash + 1 && isHttpWhitespace(value.charCodeAt(subtypeEnd - 1))) subtypeEnd--;
  const subtype = value.slice(slash + 1, subtypeEnd);
  if (!TOKEN.test(type) || !TOKEN.test(subtype)) return null;
  return `${type}/${subtype}`.toLowerCase();
}

/**
 * Fetch "get, decode, and split" a header value: split at commas that are not inside a
 * quoted string (`text/event-stream; x="a,b"` is one value), each value stripped of HTTP
 * tab or space.
 */
function splitHeaderValue(input: string): string[] {
  const values: string[] = [];
  let value = "";
  let i = 0;
  for (;;) {
    const stop = input.slice(i).search(/[",]/);
    const next = stop === -1 ? input.length : i + stop;
    value += input.slice(i, next);
    i = next;
    if (i < input.length && input[i] === '"') {
      // "collect an HTTP quoted string" (quotes and backslashes kept: extract-value is false).
      const quoteStart = i;
      i++;
      while (i < input.length && input[i] !== '"') i += input[i] === "\\" ? 2 : 1;
      i = Math.min(i + 1, input.length);
      value += input.slice(quoteStart, i);
      if (i < input.length) continue;
    }
    values.push(value.replace(/^[\t ]+|[\t ]+$/g, ""));
    value = "";
    if (i >= input.length) return values;
    i++; // the comma
  }
}

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
  for (const item of splitHeaderValue(value)) {
    const parsed = mimeEssence(item);
    if (parsed !== null && parsed !== "*/*") essence = parsed;
  }
  return essence === "text/event-stream";
}
