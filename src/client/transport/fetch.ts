/** A transport over any WHATWG `fetch` (see types.ts for the interface). */
import type { FetchLike, FetchLikeReader, Transport } from "./types.js";

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
    let reader: FetchLikeReader | null = null;
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
              sink.onData(value as Uint8Array);
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
            // uncaught exception (queueMicrotask: there is no process.nextTick off Node).
            queueMicrotask(() => {
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
        else if (res.body !== null) {
          try {
            res.body.getReader().cancel().catch(() => {});
          } catch {
            // Not a stream after all (a user fetch): there is nothing to release.
          }
        }
      },
    };
  };
}
