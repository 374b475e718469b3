/**
 * Transports: one HTTP request/response exchange, no redirect handling (the connection
 * layer follows redirects itself, so that it can enforce the limit, rewrite the method and
 * strip credentials on an origin change).
 *
 * Two implementations share one small interface:
 * - `nodeTransport`: `node:http` / `node:https`. The default: on this project's benchmark it
 *   moves the same bytes with less CPU than Node's built-in fetch (see the EventSource issue
 *   report), and it can pause the socket for backpressure.
 * - `fetchTransport(fetch)`: any WHATWG `fetch` (the user's `fetch` option).
 *
 * Body chunks are handed over as they arrive, one callback per chunk: the parser is fed
 * once per chunk, never per line.
 */
import * as http from "node:http";
import * as https from "node:https";

/** A WHATWG `fetch` (Node's global one, undici's, or any compatible function). */
export type FetchLike = (input: string, init: FetchLikeInit) => Promise<FetchLikeResponse>;

/** The subset of `RequestInit` this library passes to a user `fetch`. */
export interface FetchLikeInit {
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer> | null;
  redirect: "manual";
  signal: AbortSignal;
}

/** The subset of `Response` this library reads. */
export interface FetchLikeResponse {
  status: number;
  statusText: string;
  headers: { get(name: string): string | null; forEach(cb: (value: string, name: string) => void): void };
  body: ReadableStream<Uint8Array> | null;
}

export interface TransportRequest {
  url: URL;
  method: string;
  /** Header names as given; values are latin1 strings (bytes), as HTTP header values are. */
  headers: Record<string, string>;
  body: string | Uint8Array | null;
  signal: AbortSignal;
}

/** Receives the body. Exactly one of `onEnd` / `onError` is called, once, unless cancelled. */
export interface BodySink {
  onData(chunk: Uint8Array): void;
  onEnd(): void;
  onError(error: unknown): void;
}

export interface TransportResponse {
  readonly status: number;
  readonly statusText: string;
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

/** The error a transport rejects with or reports when the request's signal aborted it. */
export function isAbortError(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    ((error as { name?: unknown }).name === "AbortError" ||
      (error as { code?: unknown }).code === "ABORT_ERR")
  );
}

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

/** `node:http` / `node:https`, with the process-wide default agents. */
export const nodeTransport: Transport = (request) =>
  new Promise<TransportResponse>((resolve, reject) => {
    const mod = request.url.protocol === "https:" ? https : http;
    let req: http.ClientRequest;
    try {
      req = mod.request(request.url, {
        method: request.method,
        headers: request.headers,
        signal: request.signal,
      });
    } catch (error) {
      // e.g. an invalid header value: it cannot be sent, so it is a network error.
      reject(error);
      return;
    }
    req.once("error", reject);
    req.once("response", (res: http.IncomingMessage) => {
      req.removeListener("error", reject);
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
      // A socket error after the response started surfaces on `req` and/or `res`.
      req.on("error", (error) => finish(error));
      res.on("error", (error) => finish(error));
      res.on("aborted", () => finish(new Error("the connection was closed before the response ended")));
      res.on("end", () => finish());
      resolve({
        status: res.statusCode ?? 0,
        statusText: res.statusMessage ?? "",
        header(name) {
          // Every line of the header, combined as fetch's Headers.get() does: `headers`
          // keeps only the first of several Content-Type (or Location) lines.
          const values = res.headersDistinct[name.toLowerCase()];
          return values === undefined ? null : values.join(", ");
        },
        headers: () => headersFromRaw(res.rawHeaders),
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
          res.on("data", (chunk: Uint8Array) => {
            if (sink !== null) sink.onData(chunk);
          });
        },
        pause: () => void res.pause(),
        resume: () => void res.resume(),
        cancel() {
          settled = true;
          sink = null;
          early = null;
          res.removeAllListeners("data");
          // Destroying (not draining) is deliberate: an event stream never ends by itself.
          req.destroy();
          res.destroy();
        },
      });
    });
    if (request.body !== null) req.end(request.body);
    else req.end();
  });

/** A transport over a WHATWG `fetch`. Redirects are not followed by fetch (`"manual"`). */
export function fetchTransport(fetchFn: FetchLike): Transport {
  return async (request) => {
    const res = await fetchFn(request.url.href, {
      method: request.method,
      headers: request.headers,
      // A body over a SharedArrayBuffer is not a fetch BodyInit; copy it (rare, and once).
      body:
        request.body === null || typeof request.body === "string" || request.body.buffer instanceof ArrayBuffer
          ? (request.body as string | Uint8Array<ArrayBuffer> | null)
          : new Uint8Array(request.body),
      redirect: "manual",
      signal: request.signal,
    });
    let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
    let cancelled = false;
    let paused = false;
    let wake: (() => void) | null = null;
    return {
      status: res.status,
      statusText: res.statusText,
      header: (name) => res.headers.get(name),
      headers() {
        const headers = new Headers();
        res.headers.forEach((value, name) => {
          try {
            headers.append(name, value);
          } catch {
            // A user fetch's headers need not pass Headers' checks: leave the value out
            // rather than throw out of an error report.
          }
        });
        return headers;
      },
      read(sink) {
        if (res.body === null) {
          queueMicrotask(() => {
            if (!cancelled) sink.onEnd();
          });
          return;
        }
        const r = res.body.getReader();
        reader = r;
        void (async () => {
          // A throw from onData (the parser) ends the body like a read error does.
          let failure: { error: unknown } | null = null;
          try {
            for (;;) {
              while (paused && !cancelled) await new Promise<void>((w) => (wake = w));
              if (cancelled) return;
              const { done, value } = await r.read();
              if (cancelled) return;
              if (done) break;
              sink.onData(value);
            }
          } catch (error) {
            failure = { error };
          }
          if (cancelled) return;
          try {
            if (failure === null) sink.onEnd();
            else sink.onError(failure.error);
          } catch (error) {
            // Nothing awaits this loop: a throw here would be an unhandled rejection that no
            // one can attribute. Report it as node:http's event callbacks would, as an
            // uncaught exception.
            process.nextTick(() => {
              throw error;
            });
          }
        })();
      },
      pause() {
        paused = true;
      },
      resume() {
        paused = false;
        const w = wake;
        wake = null;
        if (w !== null) w();
      },
      cancel() {
        if (cancelled) return;
        cancelled = true;
        const w = wake;
        wake = null;
        if (w !== null) w();
        if (reader !== null) reader.cancel().catch(() => {});
        else if (res.body !== null) res.body.cancel().catch(() => {});
      },
    };
  };
}
