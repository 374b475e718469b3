/**
 * Failures that say what they are: a refused certificate is TLS and is not retried unless
 * asked; an HTTP status error carries the start of the body (error.body). Real node:https
 * servers with the test certificate (test/fixtures/tls/), node:http servers, on 127.0.0.1.
 */
import { readFileSync } from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as zlib from "node:zlib";
import { afterEach, describe, expect, test } from "vitest";
import { EventSource, type EventSourceErrorEvent } from "../../../src/index.js";
import { ERROR_BODY_LIMIT } from "../../../src/client/errors.js";
import { decodingFailure, permanentFailure, tlsFailure } from "../../../src/client/failures.js";
import { once, sleep, sse, startServer, until } from "../../support/server.js";
import { closeSources, errors, open, record } from "../../support/sources.js";

const TLS_DIR = new URL("../../fixtures/tls/", import.meta.url);
const cert = readFileSync(new URL("cert.pem", TLS_DIR));
const key = readFileSync(new URL("key.pem", TLS_DIR));

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await closeSources();
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** An HTTPS event stream with the test certificate; counts TLS handshakes started. */
async function startTls(): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const server = https.createServer({ cert, key }, (_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write("data: over tls\n\n");
  });
  server.on("connection", () => connections++);
  server.on("tlsClientError", () => {}); // the client refuses our certificate
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/`, connections: () => connections };
}

describe("TLS", () => {
  test("an untrusted certificate is TLS: failed for good, no reconnection", async () => {
    const server = await startTls();
    const source = open(server.url);
    const error = await once<EventSourceErrorEvent>(source, "error");
    expect(error.code).toBe("TLS");
    expect(error.message).toMatch(/self.signed|SELF_SIGNED/i);
    expect(error.willReconnect).toBe(false);
    expect(source.readyState).toBe(EventSource.CLOSED);
    await sleep(100); // ten reconnection delays
    expect(server.connections()).toBe(1);
  });

  test("reconnect.shouldRetry can still ask for a retry", async () => {
    const server = await startTls();
    const seen: string[] = [];
    const source = open(server.url, {
      reconnect: { initialDelay: 10, shouldRetry: ({ error }) => (seen.push(error.code), seen.length < 3) },
    });
    const errs = errors(source);
    await until(() => source.readyState === EventSource.CLOSED, 3000, "the third refusal");
    expect(seen).toEqual(["TLS", "TLS", "TLS"]);
    expect(errs.map((e) => e.willReconnect)).toEqual([true, true, false]);
    expect(server.connections()).toBe(3);
  });

  test("with the server's CA in tls.ca, the stream opens", async () => {
    const server = await startTls();
    const source = open(server.url, { tls: { ca: cert } });
    const got = record(source);
    await until(() => got.length === 1);
    expect(got).toEqual(["over tls"]);
  });

  test("TLS spoken to a plain HTTP port is TLS too", async () => {
    const plain = await startServer((_req, res) => sse(res));
    const source = open(plain.url.replace("http:", "https:"));
    const error = await once<EventSourceErrorEvent>(source, "error");
    expect(error.code).toBe("TLS");
    expect(error.willReconnect).toBe(false);
  });

  test("a refused connection is still NETWORK (retried)", async () => {
    const server = await startServer(() => {});
    const url = server.url;
    await server.close();
    const source = open(url, { reconnect: { initialDelay: 10, maxAttempts: 1 } });
    const error = await once<EventSourceErrorEvent>(source, "error");
    expect(error.code).toBe("NETWORK");
    expect(error.willReconnect).toBe(true);
  });

  test.each([
    ["a fetch's wrapped certificate error", new TypeError("fetch failed", { cause: Object.assign(new Error("x"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }) }), "TLS"],
    ["a host name mismatch", Object.assign(new Error("x"), { code: "ERR_TLS_CERT_ALTNAME_INVALID" }), "TLS"],
    ["an unknown-CA alert", Object.assign(new Error("x"), { code: "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA" }), "TLS"],
    ["a handshake timeout", Object.assign(new Error("x"), { code: "ERR_TLS_HANDSHAKE_TIMEOUT" }), null],
    ["a reset", Object.assign(new Error("x"), { code: "ECONNRESET" }), null],
    ["a fetch's wrapped zlib error", new TypeError("terminated", { cause: Object.assign(new Error("x"), { code: "Z_DATA_ERROR" }) }), "CONTENT_ENCODING"],
    ["a throwing getter", Object.defineProperty({}, "code", { get: () => { throw new Error("no"); } }), null],
    ["a string", "DEPTH_ZERO_SELF_SIGNED_CERT", null],
  ])("permanentFailure: %s", (_what, error, expected) => {
    expect(permanentFailure(error)).toBe(expected);
    expect(tlsFailure(error, new URL("https://a.test/"))?.code ?? null).toBe(expected === "TLS" ? "TLS" : null);
    expect(decodingFailure(error)?.code ?? null).toBe(expected === "CONTENT_ENCODING" ? "CONTENT_ENCODING" : null);
  });
});

describe("error.body", () => {
  test("an HTTP status error carries the body as text; the iterator's error too", async () => {
    const json = JSON.stringify({ error: "rate limited", retryIn: 30 });
    const server = await startServer((_req, res) => {
      res.writeHead(429, { "content-type": "application/json" });
      res.end(json);
    });
    const source = open(server.url);
    const errs = errors(source);
    let thrown: unknown;
    try {
      for await (const _ of source.events()) break;
    } catch (error) {
      thrown = error;
    }
    expect(errs[0]!.code).toBe("HTTP_STATUS");
    expect(errs[0]!.status).toBe(429);
    expect(errs[0]!.body).toBe(json);
    expect((thrown as { body?: string }).body).toBe(json);
  });

  test(`only the first ${ERROR_BODY_LIMIT} bytes, never half a character`, async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(503, { "content-type": "text/plain; charset=utf-8" });
      res.end("x" + "é".repeat(5000)); // é is 2 bytes: byte 4096 is the first half of one
    });
    const source = open(server.url);
    const error = await once<EventSourceErrorEvent>(source, "error");
    expect(error.body).toBe("x" + "é".repeat(2047));
  });

  test("a body that stalls: what came, without waiting for the rest", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(503, { "content-type": "text/plain" });
      res.write("overloaded, ");
      // ...and never ends
    });
    const source = open(server.url);
    const error = await once<EventSourceErrorEvent>(source, "error", 5000);
    expect(error.body).toBe("overloaded, ");
    expect(source.readyState).toBe(EventSource.CLOSED);
  });

  test("a compressed body is decoded; a retried status carries it too", async () => {
    const server = await startServer((_req, res, { n }) => {
      if (n === 1) {
        res.writeHead(503, { "content-type": "application/json", "content-encoding": "gzip", "retry-after": "0" });
        res.end(zlib.gzipSync('{"down":"for maintenance"}'));
      } else {
        sse(res);
        res.write("data: back\n\n");
      }
    });
    const source = open(server.url, { reconnect: { initialDelay: 10, retryStatuses: [503] } });
    const errs = errors(source);
    const got = record(source);
    await until(() => got.length === 1);
    expect(errs[0]!.willReconnect).toBe(true);
    expect(errs[0]!.body).toBe('{"down":"for maintenance"}');
  });

  test("an empty body is the empty string; other errors have none", async () => {
    const server = await startServer((req, res) => {
      if (req.url === "/204") res.writeHead(204).end();
      else {
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<html>not a stream</html>");
      }
    });
    const none = open(`${server.origin}/204`);
    const html = open(`${server.origin}/page`);
    const [a, b] = await Promise.all([once<EventSourceErrorEvent>(none, "error"), once<EventSourceErrorEvent>(html, "error")]);
    expect([a.code, a.body]).toEqual(["HTTP_STATUS", ""]);
    expect([b.code, b.body]).toEqual(["BAD_CONTENT_TYPE", undefined]);
  });

  test("close() while the body is read: no error event", async () => {
    let release: () => void = () => {};
    const server = await startServer((_req, res) => {
      res.writeHead(500);
      res.write("partial");
      release = () => res.end();
    });
    const source = open(server.url);
    const errs = errors(source);
    await until(() => server.requests.length === 1);
    await sleep(50);
    source.close();
    release();
    await sleep(50);
    expect(errs).toEqual([]);
  });
});
