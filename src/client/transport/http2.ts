/**
 * HTTP/2 for the Node transport: one `node:http2` session per origin and TLS settings, shared
 * by every source to that origin, each on a stream of its own. node.ts turns a stream into a
 * TransportResponse exactly as it does an HTTP/1.1 response (codings, backpressure, errors).
 *
 * A session that got a GOAWAY takes no new stream (the next request makes a new session) and
 * leaves the pool when it closes. Its open streams end as the server decides: one the GOAWAY
 * refused, one reset, or one cut with the connection fails with an error, and the source
 * reconnects (NETWORK) with `Last-Event-ID`. Past the server's SETTINGS_MAX_CONCURRENT_STREAMS,
 * another session to the origin is made. A session keeps the process alive only while it has streams; idle, it is
 * unref'd, then closed after IDLE_SESSION_MS.
 */
import * as http2 from "node:http2";
import { isIP } from "node:net";
import * as tls from "node:tls";
import type { TransportRequest } from "./types.js";

/**
 * Ms an idle session is kept for the next request: longer than the default reconnection
 * time (3 s), so that a source reconnecting after an end of stream finds its session.
 */
const IDLE_SESSION_MS = 5000;

/** RFC 9113 8.2.2: header fields that belong to one HTTP/1.1 connection, not to a stream. */
const CONNECTION_HEADERS: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "host",
]);

/**
 * Streams a session is assumed to take before the server's SETTINGS say (RFC 9113 6.5.2: "no
 * smaller than 100"). A server's limit holds: nginx's is 128 by default.
 */
const ASSUMED_MAX_STREAMS = 100;

/**
 * The flow-control windows we grant: how much a server may send ahead of what we read. With
 * node:http2's defaults (64 KiB), a stream moves at most 64 KiB a round trip: through a 50 ms
 * RTT, 22 k events/s of 57 B against 860 k over HTTP/1.1 (whose TCP window grows); with 4 MiB,
 * 670 k (bench/h2.bench.mjs, BENCH_H2_RTT). The stream's window is also what a paused stream
 * may hold in memory before the server stalls (HTTP/1.1 leaves that in the kernel's socket
 * buffer, a few MiB too). The session's window comes back as data arrives, paused streams or
 * not (tested): it bounds the bytes in flight on the connection, so it is several streams' worth.
 */
export const STREAM_WINDOW = 4 * 2 ** 20;
const SESSION_WINDOW = 16 * 2 ** 20;
const SESSION_OPTIONS: http2.ClientSessionOptions = { settings: { initialWindowSize: STREAM_WINDOW } };

/** A live session and its streams (reserved or open). */
class Session {
  #streams = 0;
  #limit = ASSUMED_MAX_STREAMS;
  #timer: NodeJS.Timeout | null = null;

  constructor(
    readonly h2: http2.ClientHttp2Session,
    drop: (session: Session) => void,
  ) {
    const gone = (): void => {
      this.#clearTimer();
      drop(this);
    };
    // A GOAWAY closes it (no new stream: see `room`) or destroys it; it leaves at its close.
    h2.on("close", gone);
    // Each open stream gets the session's error too (as its own error or a reset).
    h2.on("error", gone);
    h2.on("remoteSettings", (settings: http2.Settings) => {
      this.#limit = settings.maxConcurrentStreams ?? Infinity;
    });
    h2.once("connect", () => h2.setLocalWindowSize(SESSION_WINDOW));
    h2.unref();
  }

  /**
   * Whether one more stream fits. Over the server's SETTINGS_MAX_CONCURRENT_STREAMS, a stream
   * would wait (forever, beside event streams that never end): another session takes it.
   */
  get room(): boolean {
    return this.#streams < this.#limit && !this.h2.closed && !this.h2.destroyed;
  }

  /** A stream is reserved on it: the process stays up while one is. */
  reserve(): void {
    if (this.#streams++ === 0) {
      this.#clearTimer();
      this.h2.ref();
    }
  }

  release(): void {
    if (--this.#streams > 0) return;
    this.h2.unref();
    this.#timer = setTimeout(() => this.h2.close(), IDLE_SESSION_MS);
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

/**
 * What is known of an origin: its sessions and the one being made, or "h1" (`auto` offered h2
 * by ALPN and the server chose HTTP/1.1: later requests go straight to node:https).
 */
type Slot = { sessions: Session[]; making: Promise<Session | tls.TLSSocket> | null } | "h1";

/** The sessions of one set of TLS settings, by origin. */
export class SessionPool {
  readonly #slots = new Map<string, Slot>();

  /**
   * `auto`: on https, offer h2 and http/1.1 by ALPN (the server chooses); otherwise h2 only
   * (ALPN h2 on https, prior knowledge on http).
   */
  constructor(
    readonly tlsOptions: tls.ConnectionOptions,
    readonly auto: boolean,
  ) {}

  /**
   * A session of `url`'s origin with a stream reserved on it (the caller releases it), or,
   * when the server chose HTTP/1.1, the TLS socket it was asked on (for the request that
   * opened it; null for the others).
   */
  async session(url: URL): Promise<Session | tls.TLSSocket | null> {
    const key = url.origin;
    for (;;) {
      let slot = this.#slots.get(key);
      if (slot === "h1") return null;
      if (slot === undefined) this.#slots.set(key, (slot = { sessions: [], making: null }));
      const free = slot.sessions.find((s) => s.room);
      if (free !== undefined) {
        free.reserve();
        return free;
      }
      if (slot.making !== null) {
        await slot.making;
        continue;
      }
      // The slot is brought up to date before anyone waiting on `made` runs again.
      const entry = slot;
      const made = this.#connect(url).then(
        (s) => {
          entry.making = null;
          if (s instanceof Session) entry.sessions.push(s);
          else this.#slots.set(key, "h1");
          return s;
        },
        (error: unknown) => {
          entry.making = null;
          if (entry.sessions.length === 0) this.#slots.delete(key);
          throw error;
        },
      );
      entry.making = made;
      const s = await made;
      if (s instanceof tls.TLSSocket) return s;
    }
  }

  #drop = (session: Session): void => {
    for (const [key, slot] of this.#slots) {
      if (slot === "h1" || !slot.sessions.includes(session)) continue;
      slot.sessions = slot.sessions.filter((s) => s !== session);
      if (slot.sessions.length === 0 && slot.making === null) this.#slots.delete(key);
      return;
    }
  };

  #connect(url: URL): Promise<Session | tls.TLSSocket> {
    if (url.protocol === "http:") return Promise.resolve(new Session(http2.connect(url.origin, SESSION_OPTIONS), this.#drop));
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        ...this.tlsOptions,
        host,
        port: Number(url.port || 443),
        // SNI takes a host name only (RFC 6066 3); an IP address is checked as `host`.
        ...(isIP(host) ? {} : { servername: host }),
        ALPNProtocols: this.auto ? ["h2", "http/1.1"] : ["h2"],
      });
      // Left on for the socket's life: a later error goes to the session or the request that
      // took the socket, and this one is then a no-op.
      socket.on("error", reject);
      socket.once("secureConnect", () => {
        if (socket.alpnProtocol === "h2") {
          resolve(new Session(http2.connect(url.origin, { ...SESSION_OPTIONS, createConnection: () => socket }), this.#drop));
        } else if (this.auto) {
          resolve(socket);
        } else {
          socket.destroy();
          reject(new Error(`${url.origin} did not agree to HTTP/2 (ALPN: ${socket.alpnProtocol || "none"})`));
        }
      });
    });
  }
}

/** The pools, by TLS settings: sources with the same settings share sessions. */
const pools = new Map<string, SessionPool>();

export function sessionPool(tlsOptions: tls.ConnectionOptions, auto: boolean): SessionPool {
  const pem = (v: unknown): unknown => (v instanceof Uint8Array ? Buffer.from(v).toString("latin1") : v);
  const { ca, cert, key, rejectUnauthorized } = tlsOptions;
  const id = JSON.stringify([auto, Array.isArray(ca) ? ca.map(pem) : pem(ca), pem(cert), pem(key), rejectUnauthorized]);
  let pool = pools.get(id);
  if (pool === undefined) {
    pool = new SessionPool(tlsOptions, auto);
    pools.set(id, pool);
  }
  return pool;
}

/** An h2 response: its head, and its stream (the body). */
export interface H2Exchange {
  readonly stream: http2.ClientHttp2Stream;
  readonly status: number;
  /** One header (a lower-case name), or null. */
  header(name: string): string | null;
  /** Names and values in turn, pseudo-headers left out. */
  rawHeaders(): string[];
  /** Hooks the body's end, or its error, to `close`. */
  watch(close: (error?: unknown) => void): void;
  cancel(): void;
}

function exchange(stream: http2.ClientHttp2Stream, headers: http2.IncomingHttpHeaders): H2Exchange {
  const header = (name: string): string | null => {
    const value = headers[name];
    return value === undefined ? null : Array.isArray(value) ? value.join(", ") : String(value);
  };
  // Hooked at the head, not at watch(): a reset in the very read that carried the head is
  // reported before the caller gets the response, and must not be lost (the source would
  // stay OPEN on a dead stream).
  let closer: ((error?: unknown) => void) | null = null;
  let early: { error: unknown } | null = null;
  const close = (error?: unknown): void => {
    if (closer !== null) closer(error);
    else early ??= { error };
  };
  stream.on("error", close);
  // A stream cut (its session gone, RST_STREAM CANCEL) ends its readable side too, with a
  // code; a paused one may only close. Neither is the end of the stream.
  const cut = (): Error => new Error(`the HTTP/2 stream was cut before its end (code ${stream.rstCode})`);
  stream.on("end", () => close(stream.rstCode ? cut() : undefined));
  stream.on("close", () => close(cut()));
  return {
    stream,
    status: Number(headers[":status"]),
    header,
    rawHeaders: () => Object.keys(headers).filter((n) => n[0] !== ":").flatMap((n) => [n, header(n)!]),
    watch(c) {
      closer = c;
      if (early !== null) c(early.error);
    },
    cancel: () => stream.close(http2.constants.NGHTTP2_CANCEL),
  };
}

/** One request on `session` (a stream reserved on it): resolves at the response's head. */
export function h2Request(session: Session, request: TransportRequest): Promise<H2Exchange> {
  return new Promise((resolve, reject) => {
    const headers: http2.OutgoingHttpHeaders = {
      ":method": request.method,
      ":path": request.url.pathname + request.url.search,
    };
    for (const [name, value] of Object.entries(request.headers)) {
      const lower = name.toLowerCase();
      if (lower === "host") headers[":authority"] = value;
      else if (!CONNECTION_HEADERS.has(lower) && !(lower === "te" && value.toLowerCase() !== "trailers")) headers[lower] = value;
    }
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.h2.request(headers, { endStream: request.body === null, signal: request.signal });
    } catch (error) {
      // A session closing under us (ERR_HTTP2_GOAWAY_SESSION), a bad header value: a network error.
      session.release();
      reject(error);
      return;
    }
    stream.once("close", () => session.release());
    stream.once("error", reject);
    stream.once("close", () => reject(new Error(`the HTTP/2 stream closed before a response (code ${stream.rstCode})`)));
    stream.once("response", (head) => {
      stream.removeListener("error", reject);
      resolve(exchange(stream, head));
    });
    if (request.body !== null) stream.end(request.body);
  });
}

export type { Session };
