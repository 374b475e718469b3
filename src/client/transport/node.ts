/** The Node transport: `node:http` / `node:https` (see types.ts for the interface). */
import * as http from "node:http";
import * as https from "node:https";
import { isIP } from "node:net";
import * as tls from "node:tls";
import type { Duplex, Readable, Transform } from "node:stream";
import * as zlib from "node:zlib";
import {
  type BodySink,
  ContentEncodingError,
  type NodeTransportOptions,
  type TlsOptions,
  type Transport,
  type TransportRequest,
  type TransportResponse,
} from "./types.js";
import { h2Request, type SessionPool, sessionPool } from "./http2.js";

function headersFromRaw(raw: string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i]!, raw[i + 1]!);
    } catch {
      // A value Headers rejects (it validates more strictly than node:http): leave it out
      // rather than lose the whole error report.
    }
  }
  return headers;
}

/**
 * The decoders' output chunk size. Each output chunk is one `onData`, so one parser call and
 * one trip to zlib's thread: with zlib's default, 16 KiB, issue 20 measured gunzip alone about
 * 3x slower than with 64-256 KiB on a feed of small events. Counted at cbb6ded
 * (callgrind-e2e --feed gzip --short, batches()): 2,437 / 2,334 / 2,317 instructions per
 * event at 16 / 64 / 256 KiB. Each compressed source holds such buffers: not larger.
 */
const DECODED_CHUNK = 64 * 1024;

// zstd arrived in Node 22.15 / 23.8.
const createZstdDecompress = (zlib as { createZstdDecompress?: (o: zlib.ZlibOptions) => Transform }).createZstdDecompress;

/** What the Node transport asks for: every coding this runtime's zlib decodes. */
export const ACCEPT_ENCODING = createZstdDecompress ? "gzip, deflate, br, zstd" : "gzip, deflate, br";

/** `node:http` / `node:https` (and `node:http2` where ALPN offers it), with the process-wide default agents. */
export const nodeTransport: Transport = createNodeTransport({});

/**
 * A Node transport with TLS settings and/or a proxy. The proxy is chosen per request (a
 * redirect may change the scheme or host), from a URL or a function of the target URL.
 */
export function createNodeTransport(options: NodeTransportOptions): Transport {
  const tlsOptions = nodeTls(options.tls ?? {});
  const proxyOption = options.proxy;
  const acceptEncoding = options.compression === false ? null : ACCEPT_ENCODING;
  const mode = options.http2 ?? "auto";
  // "auto" speaks h2 only on https, where the server chooses by ALPN; true also speaks h2c
  // (prior knowledge) on http. Never through a proxy (below): HTTP/1.1 there.
  const pool = mode === false ? null : sessionPool(tlsOptions, mode === "auto");
  return (asked) => {
    // A user's own Accept-Encoding (names are lower-cased by then) is sent as it is.
    const request =
      acceptEncoding === null || "accept-encoding" in asked.headers
        ? asked
        : { ...asked, headers: { ...asked.headers, "accept-encoding": acceptEncoding } };
    const target = request.url;
    const p = typeof proxyOption === "function" ? proxyOption(new URL(target.href)) : proxyOption;
    if (p === undefined || p === null || p === "") {
      if (pool !== null && (mode === true || target.protocol === "https:")) return sendH2(pool, request, tlsOptions);
      return send(request, (url, init) => (url.protocol === "https:" ? https : http).request(url, { ...tlsOptions, ...init }));
    }
    let proxy: URL;
    try {
      proxy = new URL(String(p));
    } catch {
      return Promise.reject(new TypeError(`invalid proxy URL ${JSON.stringify(String(p))}`));
    }
    if (proxy.protocol !== "http:") {
      return Promise.reject(new TypeError(`unsupported proxy ${proxy.protocol}// (only http:// proxies)`));
    }
    const proxyAuth = proxyAuthorization(proxy);
    const proxyPort = Number(proxy.port || 80);
    if (target.protocol === "http:") {
      // RFC 9112 3.2.2: to a proxy, the absolute-form request target ("GET http://host/path").
      return send(request, (url, init) =>
        http.request({
          ...init,
          host: unbracket(proxy.hostname),
          port: proxyPort,
          path: url.href,
          headers: { ...init.headers, host: url.host, ...(proxyAuth ? { "proxy-authorization": proxyAuth } : {}) },
        }),
      );
    }
    // https: a CONNECT tunnel (RFC 9110 9.3.6), then TLS with the origin inside it; the proxy
    // sees only the host and port.
    return tunnel(proxy, proxyPort, proxyAuth, target, request.signal).then((socket) =>
      send(request, (url, init) =>
        https.request(url, {
          ...init,
          createConnection: () => {
            const host = unbracket(url.hostname);
            return tls.connect({
              ...tlsOptions,
              socket,
              host,
              // SNI takes a host name only (RFC 6066 3); an IP address is checked as `host`.
              ...(isIP(host) ? {} : { servername: host }),
            });
          },
        }),
      ),
    );
  };
}

function nodeTls(o: TlsOptions): tls.ConnectionOptions {
  const pem = (v: string | Uint8Array) => (typeof v === "string" ? v : Buffer.from(v));
  const out: tls.ConnectionOptions = {};
  if (o.ca !== undefined) out.ca = Array.isArray(o.ca) ? o.ca.map(pem) : pem(o.ca as string | Uint8Array);
  if (o.cert !== undefined) out.cert = pem(o.cert);
  if (o.key !== undefined) out.key = pem(o.key);
  if (o.rejectUnauthorized !== undefined) out.rejectUnauthorized = o.rejectUnauthorized;
  return out;
}

function unbracket(hostname: string): string {
  return hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
}

function proxyAuthorization(proxy: URL): string | undefined {
  if (proxy.username === "" && proxy.password === "") return undefined;
  const raw = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return `Basic ${Buffer.from(raw, "utf8").toString("base64")}`;
}

/** Opens a CONNECT tunnel to `target` through `proxy`; resolves to the raw socket. */
function tunnel(proxy: URL, port: number, auth: string | undefined, target: URL, signal: AbortSignal): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const authority = `${target.hostname}:${target.port || 443}`;
    let req: http.ClientRequest;
    try {
      req = http.request({
        host: unbracket(proxy.hostname),
        port,
        method: "CONNECT",
        path: authority,
        headers: { host: authority, ...(auth ? { "proxy-authorization": auth } : {}) },
        signal,
        agent: false,
      });
    } catch (error) {
      reject(error);
      return;
    }
    req.once("error", reject);
    req.once("connect", (res: http.IncomingMessage, socket: Duplex) => {
      req.removeListener("error", reject);
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new Error(`the proxy ${proxy.host} answered ${res.statusCode} ${res.statusMessage ?? ""} to CONNECT ${authority}`.trimEnd()));
        return;
      }
      if (signal.aborted) {
        socket.destroy();
        reject(signal.reason);
        return;
      }
      resolve(socket);
    });
    req.end();
  });
}

type Init = { method: string; headers: Record<string, string>; signal: AbortSignal };

/** One request over HTTP/2, or over HTTP/1.1 where the pool says the server chose it by ALPN. */
async function sendH2(pool: SessionPool, request: TransportRequest, tlsOptions: tls.ConnectionOptions): Promise<TransportResponse> {
  const s = await pool.session(request.url);
  if (request.signal.aborted) {
    if (s instanceof tls.TLSSocket) s.destroy();
    else s?.release();
    throw request.signal.reason;
  }
  if (s instanceof tls.TLSSocket) return send(request, (url, init) => https.request(url, { ...init, createConnection: () => s }));
  if (s === null) return send(request, (url, init) => https.request(url, { ...tlsOptions, ...init }));
  const h2 = await h2Request(s, request);
  // HTTP/2 has no reason phrase.
  const head = { status: h2.status, statusText: "", header: h2.header, headers: () => headersFromRaw(h2.rawHeaders()) };
  return bodyResponse(head, h2.stream, h2.watch, h2.cancel);
}

/** One request and its response, on a request made by `open` (direct, or to a proxy). */
function send(request: TransportRequest, open: (url: URL, init: Init) => http.ClientRequest): Promise<TransportResponse> {
  return new Promise<TransportResponse>((resolve, reject) => {
    let req: http.ClientRequest;
    try {
      req = open(request.url, { method: request.method, headers: request.headers, signal: request.signal });
    } catch (error) {
      // e.g. an invalid header value: it cannot be sent, so it is a network error.
      reject(error);
      return;
    }
    req.once("error", reject);
    req.once("response", (res: http.IncomingMessage) => {
      req.removeListener("error", reject);
      const header = (name: string): string | null => {
        // Every line of the header, combined as fetch's Headers.get() does: `headers`
        // keeps only the first of several Content-Type (or Location) lines.
        const values = res.headersDistinct[name];
        return values === undefined ? null : values.join(", ");
      };
      resolve(
        bodyResponse(
          { status: res.statusCode ?? 0, statusText: res.statusMessage ?? "", header, headers: () => headersFromRaw(res.rawHeaders) },
          res,
          (close) => {
            // A socket error after the response started surfaces on `req` and/or `res`.
            req.on("error", close);
            res.on("error", close);
            res.on("aborted", () => close(new Error("the connection was closed before the response ended")));
            res.on("end", () => close());
          },
          () => {
            // Destroying (not draining) is deliberate: an event stream never ends by itself.
            req.destroy();
            res.destroy();
          },
        ),
      );
    });
    if (request.body !== null) req.end(request.body);
    else req.end();
  });
}

/** A response's head, whatever the HTTP version. `header` takes a lower-case name. */
interface Head {
  status: number;
  statusText: string;
  header(name: string): string | null;
  headers(): Headers;
}

/**
 * The response over `body` (an HTTP/1.1 response or an h2 stream): `watch` hooks the body's
 * end and errors to `close`; `destroy` drops it.
 */
function bodyResponse(head: Head, body: Readable, watch: (close: (error?: unknown) => void) => void, destroy: () => void): TransportResponse {
  const codings = contentCodings(head.header("content-encoding"));
  let sink: BodySink | null = null;
  let settled = false;
  // The end or error that came before read() attached a sink. The socket can fail in the
  // very segment that carried the response head (bad chunked framing, a reset): it is
  // reported between the `response` event and the caller's read(), and must not be lost
  // (the source would stay OPEN forever on a dead connection).
  let early: { error: unknown } | null = null;
  const deliver = (s: BodySink, error: unknown): void => {
    if (error === undefined) s.onEnd();
    else s.onError(error);
  };
  const finish = (error?: unknown): void => {
    if (settled) return;
    settled = true;
    const s = sink;
    sink = null;
    if (s === null) early = { error };
    else deliver(s, error);
  };
  // Made at the first byte of a compressed body (which tells zlib from raw deflate).
  let decoder: Decoder | null = null;
  // The decoder works off the thread: what it holds is still delivered, then the end
  // or the error of the body.
  watch((error?: unknown): void => (decoder !== null ? decoder.end(error) : finish(error)));
  return {
    codingError: typeof codings === "string" ? codings : undefined,
    status: head.status,
    statusText: head.statusText,
    header: (name) => head.header(name.toLowerCase()),
    headers: head.headers,
    read(s) {
      sink = s;
      if (early !== null) {
        const { error } = early;
        early = null;
        // Later, as it would have come: read() itself never calls back.
        queueMicrotask(() => {
          if (sink !== s) return; // cancelled
          sink = null;
          deliver(s, error);
        });
        return;
      }
      if (codings === null || typeof codings === "string") {
        body.on("data", (chunk: Uint8Array) => {
          if (sink !== null) sink.onData(chunk);
        });
        return;
      }
      body.on("data", (chunk: Buffer) => {
        if (settled) return;
        decoder ??= new Decoder(codings, chunk[0]!, body, (data) => sink?.onData(data), finish);
        decoder.write(chunk);
      });
    },
    pause() {
      body.pause();
      decoder?.pause();
    },
    resume() {
      decoder?.resume();
      if (decoder === null || !decoder.draining) body.resume();
    },
    cancel() {
      settled = true;
      sink = null;
      early = null;
      body.removeAllListeners("data");
      decoder?.destroy();
      destroy();
    },
  };
}

type Coding = "gzip" | "deflate" | "br" | "zstd";

/** More codings than this on one response is an attack on the decoder, not compression. */
const MAX_CODINGS = 4;

/**
 * A `Content-Encoding` value: the codings in the order they were applied, null for none
 * (absent, `identity`), or a string saying why the body cannot be decoded. Whatever the
 * request asked for: as fetch does, any coding this runtime knows is decoded.
 */
export function contentCodings(value: string | null): Coding[] | string | null {
  if (value === null) return null;
  const codings: Coding[] = [];
  for (const item of value.split(",")) {
    const name = item.trim().toLowerCase();
    if (name === "" || name === "identity") continue;
    if (name === "gzip" || name === "x-gzip") codings.push("gzip");
    else if (name === "deflate" || name === "br" || (name === "zstd" && createZstdDecompress)) codings.push(name);
    else return `the response's Content-Encoding ${JSON.stringify(value)} has a coding this runtime cannot decode (${name})`;
  }
  if (codings.length > MAX_CODINGS) return `the response's Content-Encoding ${JSON.stringify(value)} has more than ${MAX_CODINGS} codings`;
  return codings.length === 0 ? null : codings;
}

/**
 * The decoder of one coding. Each one hands on all it can decode of every write (whatever the
 * per-write flush mode: a flushed event arrives at once, tested), so only the end is set: a
 * stream cut short yields what it has, without an error (`finishFlush`), as a dropped
 * connection is the stream's end, reconnected as any other.
 */
function makeDecoder(coding: Coding, firstByte: number): Transform {
  const flushed = { finishFlush: zlib.constants.Z_SYNC_FLUSH, chunkSize: DECODED_CHUNK };
  switch (coding) {
    case "gzip":
      return zlib.createGunzip(flushed);
    case "deflate":
      // RFC 9110 8.4.1.2: "deflate" is the zlib format, but some servers send raw deflate; a
      // zlib stream's first byte is 0x?8 (method 8, deflate). Browsers and undici check too.
      return (firstByte & 0x0f) === 0x08 ? zlib.createInflate(flushed) : zlib.createInflateRaw(flushed);
    case "br":
      return zlib.createBrotliDecompress({ finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH, chunkSize: DECODED_CHUNK });
    case "zstd":
      return createZstdDecompress!({ chunkSize: DECODED_CHUNK });
  }
}

/** A compressed body's decoders, fed by the socket's chunks, with the socket's backpressure. */
class Decoder {
  readonly #stages: Transform[];
  /** The socket is paused until the first decoder drains its input. */
  draining = false;
  #paused = false;
  #ended = false;
  #error: unknown = undefined;

  constructor(
    codings: readonly Coding[],
    firstByte: number,
    readonly res: Readable,
    onData: (chunk: Uint8Array) => void,
    finish: (error?: unknown) => void,
  ) {
    this.#stages = codings.map((coding, i) => makeDecoder(coding, i === codings.length - 1 ? firstByte : 0x08)).reverse();
    for (let i = 0; i < this.#stages.length; i++) {
      const stage = this.#stages[i]!;
      const coding = codings[codings.length - 1 - i];
      stage.on("error", (error) => finish(new ContentEncodingError(`the ${coding} body cannot be decoded: ${error.message}`, { cause: error })));
      if (i > 0) this.#stages[i - 1]!.pipe(stage);
    }
    const last = this.#stages[this.#stages.length - 1]!;
    last.on("data", onData);
    last.on("end", () => finish(this.#error));
    this.#stages[0]!.on("drain", () => {
      this.draining = false;
      if (!this.#paused) this.res.resume();
    });
  }

  write(chunk: Uint8Array): void {
    if (!this.#stages[0]!.write(chunk)) {
      this.draining = true;
      this.res.pause();
    }
  }

  /** The compressed input ended (`error`: with that error, reported after the output). */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#stages[0]!.end();
  }

  pause(): void {
    this.#paused = true;
    this.#stages[this.#stages.length - 1]!.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#stages[this.#stages.length - 1]!.resume();
  }

  destroy(): void {
    for (const stage of this.#stages) stage.destroy();
  }
}
