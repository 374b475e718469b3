/** The Node transport: `node:http` / `node:https` (see types.ts for the interface). */
import * as http from "node:http";
import * as https from "node:https";
import { isIP } from "node:net";
import * as tls from "node:tls";
import type { Duplex } from "node:stream";
import type { BodySink, NodeTransportOptions, TlsOptions, Transport, TransportRequest, TransportResponse } from "./types.js";

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
export const nodeTransport: Transport = createNodeTransport({});

/**
 * A Node transport with TLS settings and/or a proxy. The proxy is chosen per request (a
 * redirect may change the scheme or host), from a URL or a function of the target URL.
 */
export function createNodeTransport(options: NodeTransportOptions): Transport {
  const tlsOptions = nodeTls(options.tls ?? {});
  const proxyOption = options.proxy;
  return (request) => {
    const target = request.url;
    const p = typeof proxyOption === "function" ? proxyOption(new URL(target.href)) : proxyOption;
    if (p === undefined || p === null || p === "") {
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
}
