/** The Node transport: `node:http` / `node:https` (see types.ts for the interface). */
import * as http from "node:http";
import * as https from "node:https";
import type { BodySink, Transport, TransportResponse } from "./types.js";

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

