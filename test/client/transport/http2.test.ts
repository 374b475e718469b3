// HTTP/2 on the Node transport (src/client/transport/http2.ts), against real node:http2
// servers on 127.0.0.1: TLS with the test CA (test/fixtures/tls) and h2c.
import { readFileSync } from "node:fs";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { constants as zlibConstants, createGzip } from "node:zlib";
import { afterEach, describe, expect, test } from "vitest";
import { EventSource } from "../../../src/index.js";
import { STREAM_WINDOW } from "../../../src/client/transport/http2.js";
import { once, sleep, until } from "../../support/server.js";
import { closeSources, errors, open, record } from "../../support/sources.js";

const TLS_DIR = resolve(import.meta.dirname, "../..", "fixtures", "tls");
const ca = readFileSync(join(TLS_DIR, "cert.pem"), "utf8");
const key = readFileSync(join(TLS_DIR, "key.pem"), "utf8");

interface H2Server {
  readonly url: string;
  /** Sessions (connections) accepted so far. */
  readonly sessions: http2.ServerHttp2Session[];
  /** The headers of every request, in order. */
  readonly requests: http2.IncomingHttpHeaders[];
  close(): Promise<void>;
}

type StreamHandler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, n: number) => void;

const servers = new Set<H2Server>();

async function startH2(handler: StreamHandler, secure = true, settings: http2.Settings = {}): Promise<H2Server> {
  const server = secure ? http2.createSecureServer({ key, cert: ca, settings }) : http2.createServer({ settings });
  const sessions: http2.ServerHttp2Session[] = [];
  const requests: http2.IncomingHttpHeaders[] = [];
  server.on("session", (session) => {
    // Only the client's side keeps the event loop alive: what the idle test counts.
    session.unref();
    sessions.push(session);
    session.on("error", () => {});
  });
  server.on("stream", (stream, headers) => {
    stream.on("error", () => {});
    requests.push(headers);
    handler(stream, headers, requests.length);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const api: H2Server = {
    url: `${secure ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    sessions,
    requests,
    close: () =>
      new Promise<void>((done) => {
        servers.delete(api);
        for (const s of sessions) s.destroy();
        server.close(() => done());
      }),
  };
  servers.add(api);
  return api;
}

afterEach(async () => {
  await closeSources();
  await Promise.all([...servers].map((s) => s.close()));
});

const event = (n: number): string => `id: ${n}\ndata: e${n}\n\n`;

function sse(stream: http2.ServerHttp2Stream, headers: http2.OutgoingHttpHeaders = {}): void {
  stream.respond({ ":status": 200, "content-type": "text/event-stream", ...headers });
}

/** Events `from`..`to` on `stream` (the rest of the feed stays open). */
function send(stream: http2.ServerHttp2Stream, from: number, to: number): void {
  for (let n = from; n <= to; n++) stream.write(event(n));
}

const lastEventId = (h: http2.IncomingHttpHeaders): number => Number(h["last-event-id"] ?? 0);

describe("HTTP/2 (Node transport)", () => {
  test("events arrive over h2 with TLS (auto, by ALPN) and over h2c (http2: true); no connection headers", async () => {
    for (const secure of [true, false]) {
      const windows: (number | undefined)[] = [];
      const server = await startH2((stream) => {
        // The windows the client granted (see STREAM_WINDOW): node:http2's 64 KiB would cap a
        // stream at 64 KiB a round trip.
        windows.push(stream.session!.remoteSettings.initialWindowSize, stream.session!.state.remoteWindowSize);
        sse(stream);
        send(stream, 1, 3);
        stream.end();
      }, secure);
      // Connection-specific headers (RFC 9113 8.2.2) are not sent on h2; node:http2 refuses them.
      const headers = { connection: "keep-alive", "keep-alive": "timeout=5", "x-feed": "ticks" };
      const s = open(server.url, secure ? { tls: { ca }, headers } : { http2: true, headers });
      const got = record(s);
      await until(() => got.length === 3, 3000, "three events");
      expect(got).toEqual(["e1", "e2", "e3"]);
      const h = server.requests[0]!;
      expect(h[":method"]).toBe("GET");
      expect(h.accept).toBe("text/event-stream");
      expect(h["accept-encoding"]).toMatch(/gzip/);
      expect(h.connection).toBeUndefined();
      expect(h["x-feed"]).toBe("ticks");
      expect(windows[0]).toBe(STREAM_WINDOW);
      expect(windows[1]).toBeGreaterThanOrEqual(4 * STREAM_WINDOW);
      s.close();
      await server.close();
    }
  });

  test("two sources to one origin share one session, each on its own stream", async () => {
    const server = await startH2((stream, _h, n) => {
      sse(stream);
      send(stream, 1, 2);
      stream.write(`data: from stream ${n}\n\n`);
    });
    const a = open(server.url, { tls: { ca } });
    const b = open(server.url, { tls: { ca: Buffer.from(ca) } }); // the same settings, as bytes
    const [ga, gb] = [record(a), record(b)];
    await until(() => ga.length === 3 && gb.length === 3, 3000, "both feeds");
    expect(server.sessions.length).toBe(1);
    expect(new Set([ga[2], gb[2]])).toEqual(new Set(["from stream 1", "from stream 2"]));
    // Other TLS settings: another session.
    const c = open(server.url, { tls: { rejectUnauthorized: false } });
    await once(c, "open");
    expect(server.sessions.length).toBe(2);
  });

  test("past the server's SETTINGS_MAX_CONCURRENT_STREAMS, another session to the origin", async () => {
    const server = await startH2(
      (stream) => {
        sse(stream);
        send(stream, 1, 1);
      },
      true,
      { maxConcurrentStreams: 2 },
    );
    const first = open(server.url, { tls: { ca } });
    await once(first, "open"); // the server's SETTINGS are in
    const rest = [1, 2, 3, 4].map(() => open(server.url, { tls: { ca } }));
    const got = rest.map((s) => record(s));
    await until(() => got.every((g) => g.length === 1), 3000, "an event on every source");
    expect(server.sessions.length).toBe(3);
  });

  test("a GOAWAY mid-stream: both sources reconnect on a new session with Last-Event-ID, nothing lost or repeated", async () => {
    const streams: http2.ServerHttp2Stream[] = [];
    const server = await startH2((stream, headers, n) => {
      streams.push(stream);
      sse(stream);
      const from = lastEventId(headers) + 1;
      send(stream, from, from + 2);
      if (n !== 2) return;
      // Both streams have events 1-3. A server going away (a reload): GOAWAY, the streams it
      // still serves get one more event, one ends, then the connection drops.
      const [first, session] = [streams[0]!, stream.session!];
      setTimeout(() => {
        session.goaway(http2.constants.NGHTTP2_NO_ERROR);
        send(first, 4, 4);
        send(stream, 4, 4);
        first.end();
        setTimeout(() => session.destroy(), 100);
      }, 50);
    });
    const a = open(server.url, { tls: { ca } });
    const ga = record(a);
    await until(() => ga.length === 3, 3000, "a's first events");
    const b = open(server.url, { tls: { ca } });
    const gb = record(b);
    const [ea, eb] = [errors(a), errors(b)];
    await until(() => ga.length === 7 && gb.length === 7, 4000, "both feeds after the GOAWAY");
    await sleep(50);
    const all = ["e1", "e2", "e3", "e4", "e5", "e6", "e7"];
    expect(ga).toEqual(all);
    expect(gb).toEqual(all);
    // One stream ended; the other was cut when the connection dropped: a network error.
    expect(ea.map((e) => e.code)).toEqual(["STREAM_ENDED"]);
    expect(eb.map((e) => e.code)).toEqual(["NETWORK"]);
    // The stream that ended reconnected after the GOAWAY: not on the session going away.
    expect(server.sessions.length).toBe(2);
    expect(server.requests.map(lastEventId)).toEqual([0, 0, 4, 4]);
  });

  test("a reset stream reconnects that source alone; the other stream and the session stay", async () => {
    const server = await startH2((stream, headers, n) => {
      sse(stream);
      const from = lastEventId(headers) + 1;
      send(stream, from, from + 1);
      // RST_STREAM (INTERNAL_ERROR). (node:http2's close(code) sends END_STREAM first.)
      if (n === 1) setTimeout(() => stream.destroy(new Error("reset")), 50);
    });
    const a = open(server.url, { tls: { ca } });
    const ga = record(a);
    const ea = errors(a);
    await until(() => ga.length === 2, 3000, "the first stream's events");
    const b = open(server.url, { tls: { ca } });
    const gb = record(b);
    await until(() => ga.length === 4 && gb.length === 2, 3000, "a's reconnection");
    expect(ga).toEqual(["e1", "e2", "e3", "e4"]);
    // A reset is a network error, not the end of the stream.
    expect(ea.map((e) => e.code)).toEqual(["NETWORK"]);
    expect(server.requests.map(lastEventId)).toEqual([0, 0, 2]);
    expect(server.sessions.length).toBe(1);
    expect(server.sessions[0]!.closed).toBe(false);
    // b's stream is still open: it still receives.
    expect(b.readyState).toBe(EventSource.OPEN);
  });

  test("a stream reset as it opens is a network error: the source reconnects", async () => {
    const server = await startH2((stream, _h, n) => {
      sse(stream);
      if (n === 1) stream.destroy(new Error("reset"));
      else send(stream, 1, 1);
    });
    const s = open(server.url, { tls: { ca } });
    const es = errors(s);
    const got = record(s);
    await until(() => got.length === 1, 3000, "the event after the reconnection");
    expect(es.map((e) => e.code)).toEqual(["NETWORK"]);
  });

  test("backpressure: a blocked iterator pauses its h2 stream (the server's writes stall); another stream on the session flows", async () => {
    // More than the stream's window and the server's buffers: without a pause, all is sent.
    const total = Math.ceil((3 * STREAM_WINDOW) / 100);
    const line = `data: ${"p".repeat(90)}\n\n`;
    let written = 0;
    let blocked = false;
    const server = await startH2((stream, headers) => {
      sse(stream);
      if (headers[":path"] === "/other") {
        send(stream, 1, 500);
        stream.end();
        return;
      }
      const pump = (): void => {
        while (written < total) {
          written++;
          if (!stream.write(`id: ${written}\n${line}`)) {
            blocked = true;
            stream.once("drain", pump);
            return;
          }
        }
        stream.end();
      };
      pump();
    });
    const s = open(server.url, { tls: { ca }, reconnect: { initialDelay: 10, maxAttempts: 0 } });
    const it = s.events({ bufferSize: 100 });
    await once(s, "open");
    await until(() => blocked, 5000, "the server to be blocked by backpressure");
    await sleep(100);
    const dispatched = s.stats.events;
    expect(dispatched).toBeGreaterThanOrEqual(100);
    // The stream's flow-control window (64 KiB) and a read buffer: about 1,300 events at most.
    expect(dispatched).toBeLessThan(100 + 2000);
    // The server stalls once the stream's window is full (events of about 100 bytes).
    expect(written).toBeLessThan((STREAM_WINDOW + 2 ** 20) / 100);
    const other = open(new URL("/other", server.url), { tls: { ca } });
    const got = record(other);
    await until(() => got.length === 500, 3000, "the other stream, on the same session");
    expect(server.sessions.length).toBe(1);
    let count = 0;
    for await (const e of it) {
      if (++count === total) {
        expect(e.lastEventId).toBe(String(total));
        break;
      }
    }
    expect(count).toBe(total);
  });

  test("gzip over h2: decoded as it comes (an event flushed arrives before the stream ends)", async () => {
    let gz: ReturnType<typeof createGzip> | null = null;
    const server = await startH2((stream) => {
      sse(stream, { "content-encoding": "gzip" });
      gz = createGzip();
      gz.pipe(stream);
      gz.write(event(1));
      gz.flush(zlibConstants.Z_SYNC_FLUSH);
    });
    const s = open(server.url, { tls: { ca } });
    const got = record(s);
    await until(() => got.length === 1, 3000, "the flushed event");
    expect(got).toEqual(["e1"]);
    gz!.end(event(2));
    await until(() => got.length === 2, 3000, "the second event");
    expect(server.requests[0]!["accept-encoding"]).toMatch(/gzip/);
  });

  test("http2: false never speaks h2; auto speaks it where the server offers both by ALPN", async () => {
    const versions: string[] = [];
    const sessions: http2.ServerHttp2Session[] = [];
    const server = http2.createSecureServer({ key, cert: ca, allowHTTP1: true }, (req, res) => {
      versions.push(req.httpVersion);
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(event(1));
    });
    server.on("session", (session) => sessions.push(session));
    const sockets = new Set<import("node:net").Socket>();
    server.on("connection", (socket: import("node:net").Socket) => sockets.add(socket));
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      for (const http2Option of [false, "auto"] as const) {
        const s = open(url, { tls: { ca }, http2: http2Option });
        const got = record(s);
        await until(() => got.length === 1, 3000, `an event with http2: ${http2Option}`);
        s.close();
      }
      expect(versions[0]).toBe("1.1");
      expect(versions.at(-1)).toBe("2.0");
    } finally {
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    }
  });

  test("a session keeps the process alive only while it has streams", async () => {
    const server = await startH2((stream) => {
      sse(stream);
      send(stream, 1, 1);
    }, false);
    const sockets = (): number => process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap").length;
    // The earlier tests' sockets (destroyed, closing) leave first; idle sessions do not count.
    await until(() => sockets() === 0, 3000, "no socket keeping the process alive");
    const before = 0;
    const s = open(server.url, { http2: true });
    const got = record(s);
    await until(() => got.length === 1, 3000, "an event");
    expect(sockets()).toBe(before + 1);
    s.close();
    await until(() => sockets() === before, 3000, "the idle session to let the process go");
    // Idle, not closed: the next source reuses it.
    const t = open(server.url, { http2: true });
    await once(t, "open");
    expect(server.sessions.length).toBe(1);
    expect(sockets()).toBe(before + 1);
  });

  test("a redirect, a method and body, an idle timeout and an untrusted certificate, as over HTTP/1.1", async () => {
    const bodies: string[] = [];
    const server = await startH2((stream, headers) => {
      if (headers[":path"] === "/") {
        stream.respond({ ":status": 307, location: "/feed" });
        stream.end();
        return;
      }
      let body = "";
      stream.on("data", (c: Buffer) => (body += c));
      stream.on("end", () => {
        bodies.push(`${headers[":method"]} ${body}`);
        sse(stream);
        send(stream, 1, 1); // then silence
      });
    });
    const s = open(server.url, { tls: { ca }, method: "POST", body: "hello", idleTimeout: 200 });
    const ea = errors(s);
    const got = record(s);
    await until(() => got.length === 2, 3000, "an event, an idle timeout, the event again");
    expect(bodies).toEqual(["POST hello", "POST hello"]);
    expect(ea[0]?.code).toBe("IDLE_TIMEOUT");
    expect(server.requests.map((h) => h[":path"])).toEqual(["/", "/feed", "/feed"]);
    // Without the CA: the certificate is refused (TLS), not retried.
    const t = open(server.url);
    const et = errors(t);
    await until(() => et.length === 1, 3000, "the TLS error");
    expect(et[0]!.code).toBe("TLS");
    expect(t.readyState).toBe(EventSource.CLOSED);
  });

  test("bad http2 values throw where the source is made; with fetch, http2 is refused", () => {
    for (const bad of ["yes", 1, "true", {}]) {
      expect(() => new EventSource("https://127.0.0.1:9/", { http2: bad as never })).toThrow(/http2 must be "auto", true or false/);
    }
    const f = (() => Promise.reject(new Error("unused"))) as never;
    expect(() => new EventSource("https://127.0.0.1:9/", { fetch: f, http2: false })).toThrow(/configure that fetch/);
  });
});
