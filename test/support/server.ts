/**
 * Real `node:http` servers for EventSource tests: bound to 127.0.0.1 on port 0, every
 * request recorded, every connection destroyed by `close()` (an event stream never ends
 * on its own, so `server.close()` alone would wait forever).
 */
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

export type Handler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  ctx: { n: number; body: string; server: TestServer },
) => void;

export interface TestServer {
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Replace the handler (e.g. between phases of one test). */
  handle(handler: Handler): void;
  close(): Promise<void>;
}

const servers = new Set<{ close(): Promise<void> }>();

export async function startServer(handler: Handler, host = "127.0.0.1"): Promise<TestServer> {
  let current = handler;
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body, at: Date.now() });
      current(req, res, { n: requests.length, body, server: api });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://${host}:${port}`;
  const api: TestServer = {
    url: `${origin}/`,
    origin,
    port,
    requests,
    handle(h) {
      current = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        servers.delete(api);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.add(api);
  return api;
}

export interface RawServer {
  readonly url: string;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * A TCP server that answers every request with `reply` (raw HTTP bytes, in one write): for
 * responses node:http would never produce, such as broken chunked framing.
 */
export async function startRawServer(reply: string): Promise<RawServer> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {}); // the client resets the connection it finds broken
    socket.once("data", () => socket.write(reply));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const api: RawServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        servers.delete(api);
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  servers.add(api);
  return api;
}

/** Close every server still open (for afterEach). */
export async function closeAllServers(): Promise<void> {
  await Promise.all([...servers].map((s) => s.close()));
}

/** Start an event stream response. */
export function sse(res: http.ServerResponse, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", ...headers });
  res.flushHeaders();
}

/** The request's Last-Event-ID as the UTF-8 text it was sent as (node:http gives latin1). */
export function lastEventIdOf(req: { headers: http.IncomingHttpHeaders }): string | undefined {
  const raw = req.headers["last-event-id"];
  if (typeof raw !== "string") return undefined;
  return Buffer.from(raw, "latin1").toString("utf8");
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolve when `cond()` is true (polled), or reject after `timeout` ms. */
export async function until(cond: () => boolean, timeout = 3000, what = "condition"): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeout) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** The next event of `type` on `target`. */
export function once<T extends Event = Event>(target: EventTarget, type: string, timeout = 3000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      target.removeEventListener(type, listener);
      reject(new Error(`timed out after ${timeout} ms waiting for "${type}"`));
    }, timeout);
    const listener = (event: Event): void => {
      clearTimeout(timer);
      target.removeEventListener(type, listener);
      resolve(event as T);
    };
    target.addEventListener(type, listener);
  });
}
