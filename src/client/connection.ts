/**
 * The pure parts of one EventSource connection: request headers, the response checks of
 * the WHATWG HTML "processResponse" steps, and the Fetch standard's redirect rules. Kept
 * free of state so that each rule is testable and quotable on its own.
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

/** Fetch: "A redirect status is a status that is 301, 302, 303, 307, or 308." */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Fetch's default limit: "If request's redirect count is 20, then return a network error." */
export const DEFAULT_MAX_REDIRECTS = 20;

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
