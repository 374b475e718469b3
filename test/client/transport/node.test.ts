// The Node transport's TLS and proxy options: real HTTPS servers and a CONNECT proxy on
// 127.0.0.1; and where those options are refused.
import { readFileSync } from "node:fs";
import * as http from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect, type Socket } from "node:net";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { EventSource } from "../../../src/index.js";
import { configuredTransport } from "../../../src/client/transport/default.web.js";
import { until } from "../../support/server.js";
import { closeSources, errors, open, record } from "../../support/sources.js";
import { fakeFetch } from "../../support/fake-fetch.js";

const TLS_DIR = resolve(import.meta.dirname, "../..", "fixtures", "tls");
const closers: (() => void)[] = [];

afterEach(async () => {
  for (const c of closers.splice(0)) c();
  await closeSources();
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

  test("without tls settings a self-signed certificate is a TLS error; tls.ca or rejectUnauthorized: false connect", async () => {
    const url = await httpsServer();
    const bad = open(url);
    const errs = errors(bad);
    await until(() => errs.length >= 1);
    bad.close();
    expect(errs[0]!.code).toBe("TLS");
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
