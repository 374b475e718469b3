/** A transport over any WHATWG `fetch` (see types.ts for the interface). */
import { reportException } from "../report.js";
import { bodyOf } from "./body.js";
import { BROWSER_BUILD, send } from "./platform.js";
import type { FetchLike, FetchLikeInit, FetchLikeReader, Transport } from "./types.js";

export interface FetchTransportOptions {
  /**
   * Ask fetch for what a native EventSource's request is (see inBrowser in platform.ts): the
   * browser follows redirects and the response gives the final URL; credentials from
   * `withCredentials`.
   */
  browser?: boolean;
}

/**
 * A transport over a WHATWG `fetch`. Off the browser, redirects are not followed by fetch
 * (`"manual"`): the connection layer applies Fetch's rules itself.
 */
export function fetchTransport(fetchFn: FetchLike, options?: FetchTransportOptions): Transport {
  // `BROWSER_BUILD ||` is written where the flag is read: tsup folds it there, whereas a local
  // holding it would stay in dist/browser.js as `let browser = true`, and every test of it with
  // it (an app's minifier does not fold a `let`): 14 bytes of the gzipped app.
  return async (request) => {
    const init: FetchLikeInit = {
      method: request.method,
      headers: request.headers,
      // A body over a SharedArrayBuffer is not a fetch BodyInit; copy it (rare, and once).
      body:
        request.body === null || typeof request.body === "string" || request.body.buffer instanceof ArrayBuffer
          ? (request.body as string | Uint8Array<ArrayBuffer> | null)
          : new Uint8Array(request.body),
      redirect: BROWSER_BUILD || options?.browser === true ? "follow" : "manual",
      // HTML: "Set request's cache mode to no-store" (a fetch with a cache must not answer
      // from it; Fetch then adds Pragma and Cache-Control itself, past the CORS checks).
      cache: "no-store",
      signal: request.signal,
    };
    if (BROWSER_BUILD || options?.browser === true) {
      // HTML EventSource constructor steps 6-8: a potential-CORS request, Anonymous or (with
      // withCredentials) Use Credentials: mode "cors", credentials "same-origin" or "include".
      init.credentials = request.withCredentials === true ? "include" : "same-origin";
      init.mode = "cors";
    }
    // A browser's fetch takes the `cache` field: the browser build calls it without send.
    const res = await (BROWSER_BUILD ? fetchFn(request.url.href, init) : send(fetchFn, request.url.href, init));
    const body = bodyOf(res.body);
    let reader: FetchLikeReader | null = null;
    let cancelled = false;
    let paused = false;
    let wake: (() => void) | null = null;
    return {
      bodyError: typeof body === "string" ? body : undefined,
      status: res.status,
      statusText: res.statusText,
      url: res.redirected === true && typeof res.url === "string" && res.url !== "" ? res.url : undefined,
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
        if (body === null || typeof body === "string") {
          queueMicrotask(() => {
            if (!cancelled) sink.onEnd();
          });
          return;
        }
        const r = body();
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
              // A user's stream of strings (a Node stream after setEncoding) is not bytes.
              if (!(value instanceof Uint8Array)) throw new TypeError(`the fetch response's body yielded a ${typeof value}, not bytes`);
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
            // uncaught exception (queueMicrotask: there is no process.nextTick off Node).
            reportException(error);
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
        if (reader === null && typeof body === "function") {
          try {
            reader = body();
          } catch {
            // A getter or reader that throws: there is nothing left to release.
          }
        }
        if (reader !== null) Promise.resolve().then(() => reader!.cancel()).catch(() => {});
      },
    };
  };
}
