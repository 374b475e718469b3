// The client's edges: a user `fetch` with an unusual body, cache headers, URL credentials, an
// id a header cannot carry, and the Node transport's TLS and proxy options. Real servers
// (HTTP, HTTPS and a CONNECT proxy) on 127.0.0.1.
import { readFileSync } from "node:fs";
import * as http from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect, type Socket } from "node:net";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import { afterEach, describe, expect, test } from "vitest";
import { EventSource } from "../../src/index.js";
import type { FetchLike } from "../../src/client/transport/types.js";
import { configuredTransport } from "../../src/client/transport/default.web.js";
import { lastEventIdOf, once, sleep, sse, startServer, until } from "../support/server.js";
import { closeSources, errors, open, record } from "../support/sources.js";

const TLS_DIR = resolve(import.meta.dirname, "..", "fixtures", "tls");
const closers: (() => void)[] = [];

afterEach(async () => {
  for (const c of closers.splice(0)) c();
  await closeSources();
});

/** A fetch that answers every call with `body` and the given status and type. */
function fakeFetch(body: () => unknown, status = 200, type = "text/event-stream"): FetchLike & { inits: unknown[] } {
  const inits: unknown[] = [];
  const f = (async (_url: string, init: unknown) => {
    inits.push(init);
    return { status, statusText: "", headers: new Headers({ "content-type": type }), body: body() };
  }) as unknown as FetchLike & { inits: unknown[] };
  f.inits = inits;
  return f;
}

describe("a fetch option whose body is not a ReadableStream", () => {
  test.each([
    ["a string", () => "data: x\n\n", /not a ReadableStream or an async iterable of bytes \(got string\)/],
    ["undefined", () => undefined, /\(got undefined\)/],
    ["a plain object", () => ({ pipe() {} }), /\(got Object\)/],
  ])("%s: an UNREADABLE_BODY error, no open, no unhandled rejection", async (_name, body, message) => {
    const rejections: unknown[] = [];
    const onRejection = (e: unknown) => rejections.push(e);
    process.on("unhandledRejection", onRejection);
    try {
      const s = open("http://127.0.0.1:9/", { fetch: fakeFetch(body) });
      const errs = errors(s);
      let opened = false;
      s.addEventListener("open", () => (opened = true));
      await until(() => errs.length === 1, 2000, "the error");
      await sleep(50);
      expect(opened).toBe(false);
      expect(errs[0]!.code).toBe("UNREADABLE_BODY");
      expect(errs[0]!.message).toMatch(message);
      expect(errs[0]!.willReconnect).toBe(false);
      expect(s.readyState).toBe(EventSource.CLOSED);
      expect(rejections).toEqual([]);
    } finally {
      process.off("unhandledRejection", onRejection);
    }
  });

  test("a bad status is reported as such, whatever the body", async () => {
    const s = open("http://127.0.0.1:9/", { fetch: fakeFetch(() => "nope", 404, "text/plain") });
    const errs = errors(s);
    await until(() => errs.length === 1);
    expect(errs[0]!.code).toBe("HTTP_STATUS");
  });

  test("a Node Readable (as node-fetch returns) is read, paused and cancelled like a stream", async () => {
    let readable: Readable | undefined;
    const s = open("http://127.0.0.1:9/", {
      fetch: fakeFetch(() => (readable = Readable.from([Buffer.from("id: 1\ndata: one\n\n"), Buffer.from("data: two\n\n")]))),
    });
    const got = record(s);
    await until(() => got.length === 2);
    expect(got).toEqual(["one", "two"]);
    s.close();
    await sleep(10);
    expect(readable!.destroyed).toBe(true);
  });

  test.each([
    ["a Node Readable in object mode", () => Readable.from(["data: x\n\n"], { objectMode: true })],
    ["a ReadableStream", () => new ReadableStream({ start: (c) => c.enqueue("data: x\n\n") })],
  ])("%s of strings is a network error (strings are not bytes), then retried", async (_name, body) => {
    const s = open("http://127.0.0.1:9/", { fetch: fakeFetch(body) });
    const errs = errors(s);
    await until(() => errs.length >= 1);
    expect(errs[0]!.code).toBe("NETWORK");
    expect(errs[0]!.message).toMatch(/yielded a string, not bytes/);
    expect(errs[0]!.willReconnect).toBe(true);
  });
});

describe("caching and credentials, as Fetch does them", () => {
  test('the fetch option is called with cache: "no-store"; requests carry Pragma and Cache-Control: no-cache', async () => {
    const f = fakeFetch(() => new ReadableStream({ start: (c) => c.close() }));
    const s = open("http://127.0.0.1:9/", { fetch: f });
    await until(() => f.inits.length === 1);
    s.close();
    expect(f.inits[0]).toMatchObject({ cache: "no-store", redirect: "manual", headers: { pragma: "no-cache", "cache-control": "no-cache" } });

    const server = await startServer((_req, res) => sse(res));
    const n = open(server.url);
    await once(n, "open");
    expect(server.requests[0]!.headers.pragma).toBe("no-cache");
    expect(server.requests[0]!.headers["cache-control"]).toBe("no-cache");
  });

  test.each(["node", "fetch"])("URL credentials are sent only in answer to a 401, then kept for that origin (%s)", async (kind) => {
    const server = await startServer((req, res, { n }) => {
      if (!req.headers.authorization) return void res.writeHead(401, { "www-authenticate": 'Basic realm="x"' }).end();
      sse(res);
      res.end(`retry: 10\ndata: ${n}\n\n`);
    });
    const url = server.url.replace("http://", "http://us%C3%A9r:p%3Ass@");
    const s = open(url, kind === "fetch" ? { fetch: globalThis.fetch as unknown as FetchLike } : {});
    const got = record(s);
    await until(() => got.length === 2, 3000, "two connections");
    s.close();
    const auth = server.requests.map((r) => r.headers.authorization);
    const basic = `Basic ${Buffer.from("usér:p:ss", "utf8").toString("base64")}`;
    // The first request goes without; the 401 is answered; the reconnection sends them at once.
    expect(auth.slice(0, 3)).toEqual([undefined, basic, basic]);
    expect(server.requests.every((r) => r.url === "/")).toBe(true);
  });

  test("URL credentials are never sent to a server that does not ask; a 401 with them still failing is HTTP_STATUS", async () => {
    const server = await startServer((req, res) => res.writeHead(401).end());
    const s = open(server.url.replace("http://", "http://u:p@"));
    const errs = errors(s);
    await until(() => errs.length === 1);
    expect(errs[0]!.code).toBe("HTTP_STATUS");
    expect(errs[0]!.status).toBe(401);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([undefined, `Basic ${btoa("u:p")}`]);

    const plain = await startServer((_req, res) => sse(res));
    const p = open(plain.url.replace("http://", "http://u:p@"));
    await once(p, "open");
    expect(plain.requests[0]!.headers.authorization).toBeUndefined();
  });
});

describe("an id that a header cannot carry", () => {
  test.each([
    ["the lastEventId option, \\x01", { lastEventId: "a\x01b" }, ""],
    ["the lastEventId option, DEL", { lastEventId: "a\x7fb" }, ""],
    ["the lastEventId option, CR/LF", { lastEventId: "a\r\nb" }, ""],
    ["an id: from the stream", {}, "id: 4\x01\n"],
  ])("%s: a LAST_EVENT_ID_NOT_SENT error event (willReconnect), and the stream goes on", async (_name, init, first) => {
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      res.end(n === 1 ? `retry: 10\n${first}data: x\n\n` : "data: y\n\n");
    });
    const s = open(server.url, init);
    const errs = errors(s);
    const got = record(s);
    await until(() => got.length >= 2, 3000, "two connections");
    s.close();
    const warnings = errs.filter((e) => e.code === "LAST_EVENT_ID_NOT_SENT");
    const expected = "lastEventId" in init ? 2 : 1; // every request that could not carry it
    expect(warnings.length).toBeGreaterThanOrEqual(expected);
    expect(warnings[0]!.willReconnect).toBe(true);
    expect(warnings[0]!.message).toMatch(/cannot carry/);
    expect(server.requests.every((r) => lastEventIdOf(r) === undefined)).toBe(true);
  });

  test("a sendable id raises no such event", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.end("retry: 10\nid: é 5\ndata: x\n\n");
    });
    const s = open(server.url, { lastEventId: "ok" });
    const errs = errors(s);
    await until(() => server.requests.length >= 2);
    s.close();
    expect(errs.map((e) => e.code)).not.toContain("LAST_EVENT_ID_NOT_SENT");
    expect(lastEventIdOf(server.requests[1]!)).toBe("é 5");
  });
});

test("error events that reconnect say the delay", async () => {
  const server = await startServer((_req, res) => {
    sse(res);
    res.end("retry: 25\ndata: x\n\n");
  });
  const s = open(server.url, { reconnect: { initialDelay: 10, factor: 2 } });
  const errs = errors(s);
  await until(() => errs.length >= 2);
  s.close();
  expect(errs[0]!.delay).toBe(25);
  expect(errs[0]!.willReconnect).toBe(true);
});

describe("tls and proxy options (Node transport)", () => {
  async function httpsServer() {
    const server = createHttpsServer(
      { key: readFileSync(join(TLS_DIR, "key.pem")), cert: readFileSync(join(TLS_DIR, "cert.pem")) },
      (_req, res) => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.end("retry: 10\ndata: secure\n\n");
      },
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    closers.push(() => {
      server.closeAllConnections();
      server.close();
    });
    return `https://127.0.0.1:${(server.address() as { port: number }).port}/`;
  }

  async function connectProxy() {
    const seen: string[] = [];
    const sockets = new Set<Socket>();
    const server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(502).end();
    });
    server.on("connect", (req: http.IncomingMessage, client: Socket) => {
      seen.push(`CONNECT ${req.url} ${req.headers["proxy-authorization"] ?? ""}`.trimEnd());
      const [host, port] = req.url!.split(":");
      if (host !== "127.0.0.1") return void client.end("HTTP/1.1 403 Forbidden\r\n\r\n");
      const up = connect(Number(port), host, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        up.pipe(client);
        client.pipe(up);
      });
      sockets.add(up).add(client);
      up.on("error", () => client.destroy());
      client.on("error", () => up.destroy());
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    closers.push(() => {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      server.close();
    });
    return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen };
  }

  test("without tls settings a self-signed certificate is a network error; tls.ca or rejectUnauthorized: false connect", async () => {
    const url = await httpsServer();
    const bad = open(url);
    const errs = errors(bad);
    await until(() => errs.length >= 1);
    bad.close();
    expect(errs[0]!.code).toBe("NETWORK");
    expect(errs[0]!.message).toMatch(/self[- ]signed/i);

    for (const tls of [{ ca: readFileSync(join(TLS_DIR, "cert.pem"), "utf8") }, { rejectUnauthorized: false }]) {
      const s = open(url, { tls });
      const got = record(s);
      await until(() => got.length === 1);
      expect(got).toEqual(["secure"]);
    }
  });

  test("proxy: https through a CONNECT tunnel, with Proxy-Authorization; a function can choose none", async () => {
    const url = await httpsServer();
    const proxy = await connectProxy();
    const ca = readFileSync(join(TLS_DIR, "cert.pem"));
    const s = open(url, { tls: { ca }, proxy: proxy.url.replace("http://", "http://a:b@") });
    const got = record(s);
    await until(() => got.length === 1);
    s.close();
    expect(proxy.seen[0]).toBe(`CONNECT ${new URL(url).host} Basic ${btoa("a:b")}`);
    const tunnels = proxy.seen.length;

    const direct = open(url, { tls: { ca }, proxy: () => null });
    const got2 = record(direct);
    await until(() => got2.length === 1);
    expect(proxy.seen).toHaveLength(tunnels);
  });

  test("a proxy that refuses the tunnel is a network error that says so", async () => {
    const proxy = await connectProxy();
    const s = open("https://example.invalid/", { proxy: proxy.url });
    const errs = errors(s);
    await until(() => errs.length >= 1);
    expect(errs[0]!.code).toBe("NETWORK");
    expect(errs[0]!.message).toMatch(/answered 403 Forbidden to CONNECT example\.invalid:443/);
  });

  test("with a fetch option, tls and proxy are refused (that fetch has its own settings)", () => {
    const f = fakeFetch(() => null);
    expect(() => new EventSource("https://127.0.0.1:9/", { fetch: f, proxy: "http://127.0.0.1:1" })).toThrow(TypeError);
    expect(() => new EventSource("https://127.0.0.1:9/", { fetch: f, tls: { rejectUnauthorized: false } })).toThrow(/configure that fetch/);
  });

  test("off Node (the web build), tls and proxy are refused where the source is made", () => {
    expect(() => configuredTransport({ proxy: "http://127.0.0.1:1" })).toThrow(/need the Node transport/);
  });
});
