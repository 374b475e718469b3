/**
 * Transports: one HTTP request/response exchange, no redirect handling (the connection
 * layer follows redirects itself, so that it can enforce the limit, rewrite the method and
 * strip credentials on an origin change), except fetch in a browser (below).
 *
 * Implementations share this small interface:
 * - `nodeTransport` (node.ts): `node:http` / `node:https`, the default on Node: on this
 *   project's benchmark it moves the same bytes with less CPU than Node's built-in fetch, and
 *   it can pause the socket for backpressure. The only file that imports `node:` modules.
 * - `fetchTransport(fetch)` (fetch.ts): any WHATWG `fetch` (the user's `fetch` option, and
 *   the default off Node). In a page or a worker it lets the browser follow redirects (a
 *   `"manual"` redirect is opaque there) and reports the final URL.
 *
 * Body chunks are handed over as they arrive, one callback per chunk: the parser is fed
 * once per chunk, never per line.
 */

/**
 * A WHATWG `fetch`: the global one, undici's, or a function that wraps either (to pass a
 * dispatcher, say). Typed structurally, so that it needs neither the DOM library nor one
 * particular copy of the fetch types.
 */
export type FetchLike = (input: string, init: FetchLikeInit) => Promise<FetchLikeResponse>;

/**
 * The subset of `RequestInit` this library passes to a user `fetch`. In a page or a worker
 * the browser follows redirects (`"follow"`: `"manual"` would give an opaque response there)
 * and `credentials` and `mode` are those of a native EventSource; elsewhere (Node, Deno,
 * workerd) redirects are `"manual"`, followed by this library, and those two are left out.
 */
export interface FetchLikeInit {
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer> | null;
  redirect: "manual" | "follow";
  /**
   * The cache mode of an EventSource request (HTML: "Set request's cache mode to no-store").
   * Left out once this fetch refused the field (workerd on a compatibility date from before
   * it had the field throws "The 'cache' field on 'RequestInitializerDict' is not implemented").
   */
  cache?: "no-store";
  /** Pages and workers only: `"include"` with `withCredentials`, else `"same-origin"`. */
  credentials?: "include" | "same-origin";
  /** Pages and workers only. */
  mode?: "cors";
  signal: AbortSignal;
}

/** The subset of `Response` this library reads. */
export interface FetchLikeResponse {
  status: number;
  statusText: string;
  headers: { get(name: string): string | null; forEach(cb: (value: string, name: string) => void): void };
  /**
   * A WHATWG `ReadableStream` (or anything with `getReader()`), an async iterable of byte
   * chunks (a Node `Readable`, as node-fetch returns), or null. Anything else is checked at
   * run time and fails the connection (UNREADABLE_BODY) instead of opening it.
   */
  body: unknown;
  /** The final URL; read only when `redirected` is true. */
  url?: string;
  /** True when the fetch followed a redirect (only in pages and workers, where it follows them). */
  redirected?: boolean;
}

/**
 * The part of a `ReadableStreamDefaultReader` this library uses. `value` is `unknown` and
 * `done: true` may carry one: TypeScript's DOM library types a done result as
 * `{ done: true, value: T | undefined }`, and undici's as `{ done: true, value?: undefined }`.
 */
export interface FetchLikeReader {
  read(): Promise<{ done: false; value: unknown } | { done: true; value?: unknown }>;
  cancel(reason?: unknown): Promise<void>;
}

export interface TransportRequest {
  url: URL;
  method: string;
  /** Header names as given; values are latin1 strings (bytes), as HTTP header values are. */
  headers: Record<string, string>;
  body: string | Uint8Array | null;
  signal: AbortSignal;
  /** The source's `withCredentials`: cookies cross-origin, where the platform has them (a browser). */
  withCredentials?: boolean | undefined;
}

/** Receives the body. Exactly one of `onEnd` / `onError` is called, once, unless cancelled. */
export interface BodySink {
  onData(chunk: Uint8Array): void;
  onEnd(): void;
  onError(error: unknown): void;
}

export interface TransportResponse {
  /**
   * Why the body cannot be read, when the transport knows before reading (a user `fetch`
   * whose body is not a stream): the connection must not be announced then.
   */
  readonly bodyError?: string | undefined;
  /**
   * Why the body cannot be decoded, when the transport knows from the head: a
   * `Content-Encoding` it has no decoder for. The connection fails (CONTENT_ENCODING).
   */
  readonly codingError?: string | undefined;
  readonly status: number;
  readonly statusText: string;
  /**
   * The final URL, when the transport followed redirects itself (fetch in a page or worker);
   * undefined when it did not, and the request's URL is the response's.
   */
  readonly url?: string | undefined;
  /** One header value (names are case-insensitive), or null. */
  header(name: string): string | null;
  /** All response headers, as a WHATWG `Headers` (built on demand: only error events need it). */
  headers(): Headers;
  /** Start delivering the body to `sink`. Call once. */
  read(sink: BodySink): void;
  /** Stop reading from the network until `resume()` (backpressure). */
  pause(): void;
  resume(): void;
  /** Drop the body and the connection; no sink callback comes after this. */
  cancel(): void;
}

export type Transport = (request: TransportRequest) => Promise<TransportResponse>;

/** TLS settings of the Node transport (passed to `tls.connect`); ignored by `fetch`. */
export interface TlsOptions {
  /** Trusted CA certificates (PEM), replacing the default list (as `tls.connect`'s `ca`). */
  ca?: string | Uint8Array | readonly (string | Uint8Array)[] | undefined;
  /** Client certificate and key (PEM), for servers that ask for one. */
  cert?: string | Uint8Array | undefined;
  key?: string | Uint8Array | undefined;
  /** false accepts any certificate (like curl -k): for tests and local servers only. */
  rejectUnauthorized?: boolean | undefined;
}

/**
 * A proxy: an `http://[user:pass@]host:port` URL, or a function of the target URL that
 * returns one or null (no proxy), called for every request (redirects included).
 */
export type ProxyOption = string | URL | ((target: URL) => string | URL | null | undefined);

export interface NodeTransportOptions {
  tls?: TlsOptions | undefined;
  proxy?: ProxyOption | undefined;
  /** false: send no `Accept-Encoding` (a response that is compressed anyway is still decoded). */
  compression?: boolean | undefined;
  /**
   * `"auto"` (default): on https, offer h2 and http/1.1 by ALPN, sources to one origin
   * sharing a session when the server chooses h2; HTTP/1.1 on http. `true`: h2 only (ALPN
   * on https, prior knowledge "h2c" on http). `false`: HTTP/1.1 only. Never through a proxy.
   */
  http2?: Http2Option | undefined;
}

export type Http2Option = "auto" | boolean;

/**
 * A compressed body that cannot be decoded (corrupt, or cut inside a block the decoder
 * cannot skip). `cause` is the decoder's error.
 */
export class ContentEncodingError extends Error {
  override readonly name = "ContentEncodingError";
  readonly code = "CONTENT_ENCODING";
}

/** The error a transport rejects with or reports when the request's signal aborted it. */
export function isAbortError(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    ((error as { name?: unknown }).name === "AbortError" ||
      (error as { code?: unknown }).code === "ABORT_ERR")
  );
}

