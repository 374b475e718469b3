// The requests a source makes (src/client/request.ts), as Fetch makes them: StreamRequest on
// its own (redirect rules, the headers dropped on a change of origin, the checks of a
// response, the outcomes it reports), then through EventSource: cache headers, URL
// credentials (sent only in answer to a 401), and an id a header cannot carry. Real
// node:http servers on 127.0.0.1.
import { afterEach, describe, expect, test } from "vitest";
import type { EventSourceErrorInit } from "../../src/client/errors.js";
import type { EventSourceOptions } from "../../src/client/options.js";
import { type FetchAttempt, type FetchOutcome, StreamRequest } from "../../src/client/request.js";
import type { FetchLike } from "../../src/client/transport/types.js";
import { lastEventIdOf, once, sse, startServer, until } from "../support/server.js";
import { closeSources, errors, open, record } from "../support/sources.js";
import { fakeFetch } from "../support/fake-fetch.js";

afterEach(closeSources);

/** One fetch of a StreamRequest, with an attempt that stays current; what it warned of. */
async function fetchOnce(request: StreamRequest, lastEventId = "", current = () => true) {
  const warnings: EventSourceErrorInit[] = [];
  let responded = 0;
  const attempt: FetchAttempt = {
    signal: new AbortController().signal,
    current,
    responded: () => void responded++,
    warn: (error) => void warnings.push(error),
  };
  const outcome = await request.fetch(lastEventId, attempt);
  if (outcome?.response) outcome.response.cancel();
  return { outcome, warnings, responded };
}

const failure = (outcome: FetchOutcome | null) => {
  if (outcome === null || outcome.response !== null) throw new Error(`expected a failure, got ${String(outcome)}`);
  return { retry: outcome.retry, code: outcome.error.code, status: outcome.error.status, message: outcome.error.message };
};

const request = (url: string, options: EventSourceOptions = {}) => new StreamRequest(new URL(url), options);

describe("StreamRequest", () => {
  test("a 200 event stream is the response; the request carries Accept, no-cache and Last-Event-ID", async () => {
    const server = await startServer((_req, res) => sse(res));
    const { outcome, warnings, responded } = await fetchOnce(request(server.url), "7");
    expect(outcome?.response?.status).toBe(200);
    expect(warnings).toEqual([]);
    expect(responded).toBe(1);
    expect(server.requests[0]).toMatchObject({ method: "GET", url: "/" });
    expect(server.requests[0]!.headers).toMatchObject({ accept: "text/event-stream", "cache-control": "no-cache", "last-event-id": "7" });
  });

  test.each([
    [404, "text/event-stream", "HTTP_STATUS"],
    [204, "text/event-stream", "HTTP_STATUS"],
    [200, "text/plain", "BAD_CONTENT_TYPE"],
    [200, "", "BAD_CONTENT_TYPE"],
  ])("%i with Content-Type %j fails for good (%s)", async (status, type, code) => {
    const server = await startServer((_req, res) => {
      res.writeHead(status, type === "" ? {} : { "content-type": type });
      res.end();
    });
    const { outcome } = await fetchOnce(request(server.url));
    expect(failure(outcome)).toMatchObject({ retry: false, code, status });
  });

  test("a refused connection is retried (NETWORK); a headers function that throws is retried (HEADERS)", async () => {
    const server = await startServer((_req, res) => sse(res));
    const port = server.port;
    await server.close();
    expect(failure((await fetchOnce(request(`http://127.0.0.1:${port}/`))).outcome)).toMatchObject({ retry: true, code: "NETWORK" });
    const headers = () => {
      throw new Error("no token");
    };
    expect(failure((await fetchOnce(request("http://127.0.0.1:9/", { headers }))).outcome)).toMatchObject({
      retry: true,
      code: "HEADERS",
      message: "the headers function failed: no token",
    });
  });

  test("an attempt that stops being current gets null, and its response is not opened", async () => {
    const server = await startServer((_req, res) => sse(res));
    let current = true;
    const req = request(server.url, { headers: async () => ((current = false), {}) });
    const { outcome, responded } = await fetchOnce(req, "", () => current);
    expect(outcome).toBeNull();
    expect(responded).toBe(0);
    expect(server.requests).toHaveLength(0);
  });

  test("303 turns POST into GET without body or Content-Type; the request keeps the final URL and method", async () => {
    const server = await startServer((req, res) => {
      if (req.url === "/start") return void res.writeHead(303, { location: "/feed" }).end();
      sse(res);
    });
    const req = request(`${server.origin}/start`, { method: "post", body: "q=1", headers: { "content-type": "text/plain", "x-keep": "1" } });
    expect((await fetchOnce(req)).outcome?.response?.status).toBe(200);
    expect(req.url.href).toBe(`${server.origin}/feed`);
    expect(server.requests.map((r) => [r.method, r.url, r.body, r.headers["content-type"], r.headers["x-keep"]])).toEqual([
      ["POST", "/start", "q=1", "text/plain", "1"],
      ["GET", "/feed", "", undefined, "1"],
    ]);
    await fetchOnce(req);
    expect(server.requests[2]).toMatchObject({ method: "GET", url: "/feed" });
  });

  test("307 keeps method and body", async () => {
    const server = await startServer((req, res) => {
      if (req.url === "/start") return void res.writeHead(307, { location: "/feed" }).end();
      sse(res);
    });
    await fetchOnce(request(`${server.origin}/start`, { method: "PUT", body: "b" }));
    expect(server.requests.map((r) => [r.method, r.url, r.body])).toEqual([
      ["PUT", "/start", "b"],
      ["PUT", "/feed", "b"],
    ]);
  });

  test("a redirect to another origin drops Authorization, Cookie, Proxy-Authorization and sensitiveHeaders, for good", async () => {
    const other = await startServer((_req, res) => sse(res), "localhost");
    const first = await startServer((_req, res) => void res.writeHead(302, { location: `${other.url}feed` }).end());
    const headers = { authorization: "Bearer t", cookie: "a=1", "proxy-authorization": "Basic x", "x-api-key": "k", "x-trace": "1" };
    const req = request(first.url, { headers, sensitiveHeaders: ["X-API-Key"] });
    expect((await fetchOnce(req)).outcome?.response?.status).toBe(200);
    expect(first.requests[0]!.headers).toMatchObject(headers);
    const sent = other.requests[0]!.headers;
    expect([sent.authorization, sent.cookie, sent["proxy-authorization"], sent["x-api-key"], sent["x-trace"]]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      "1",
    ]);
    await fetchOnce(req);
    expect(other.requests[1]!.headers.authorization).toBeUndefined();
  });

  test("a same-origin redirect keeps every header", async () => {
    const server = await startServer((req, res) => {
      if (req.url === "/") return void res.writeHead(301, { location: "/feed" }).end();
      sse(res);
    });
    await fetchOnce(request(server.url, { headers: { authorization: "Bearer t", cookie: "a=1" } }));
    expect(server.requests[1]!.headers).toMatchObject({ authorization: "Bearer t", cookie: "a=1" });
  });

  test("maxRedirects bounds the redirects (TOO_MANY_REDIRECTS); a non-http(s) Location is BAD_REDIRECT", async () => {
    const loop = await startServer((req, res) => void res.writeHead(302, { location: `/r${req.url!.length}` }).end());
    expect(failure((await fetchOnce(request(loop.url, { maxRedirects: 3 }))).outcome)).toMatchObject({
      retry: false,
      code: "TOO_MANY_REDIRECTS",
      status: 302,
    });
    expect(loop.requests).toHaveLength(4);
    expect(failure((await fetchOnce(request(loop.url, { maxRedirects: 0 }))).outcome).code).toBe("TOO_MANY_REDIRECTS");
    expect(loop.requests).toHaveLength(5);
    const bad = await startServer((_req, res) => void res.writeHead(302, { location: "ftp://127.0.0.1/x" }).end());
    expect(failure((await fetchOnce(request(bad.url))).outcome)).toMatchObject({ retry: false, code: "BAD_REDIRECT" });
  });

  test("a 3xx without Location is the response, and fails as a status", async () => {
    const server = await startServer((_req, res) => void res.writeHead(302).end());
    expect(failure((await fetchOnce(request(server.url))).outcome)).toMatchObject({ code: "HTTP_STATUS", status: 302 });
  });

  test("URL credentials: none up front, Basic (UTF-8, percent-decoded) in answer to a 401, then kept", async () => {
    const server = await startServer((req, res) => {
      if (req.headers.authorization === undefined) return void res.writeHead(401, { "www-authenticate": "Basic" }).end();
      sse(res);
    });
    const req = request(`http://%C3%BC:p%40ss@127.0.0.1:${server.port}/`);
    expect((await fetchOnce(req)).outcome?.response?.status).toBe(200);
    await fetchOnce(req);
    const basic = `Basic ${Buffer.from("ü:p@ss", "utf8").toString("base64")}`;
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([undefined, basic, basic]);
  });

  test("an id a header cannot carry: a LAST_EVENT_ID_NOT_SENT warning, once, and the request goes on", async () => {
    const server = await startServer((_req, res) => sse(res));
    const { outcome, warnings } = await fetchOnce(request(server.url), "a\nb");
    expect(outcome?.response?.status).toBe(200);
    expect(warnings.map((w) => w.code)).toEqual(["LAST_EVENT_ID_NOT_SENT"]);
    expect(server.requests[0]!.headers["last-event-id"]).toBeUndefined();
  });

  test("onRequest sees every request: the first, each redirect and the 401's retry", async () => {
    const server = await startServer((req, res) => {
      if (req.url === "/") return void res.writeHead(302, { location: "/feed" }).end();
      if (req.headers.authorization === undefined) return void res.writeHead(401).end();
      sse(res);
    });
    const seen: string[] = [];
    const req = request(`http://u:p@127.0.0.1:${server.port}/`, {
      onRequest: ({ url, method, headers }) => seen.push(`${method} ${url} ${headers.authorization ?? "-"}`),
    });
    await fetchOnce(req);
    expect(seen).toEqual([
      `GET http://127.0.0.1:${server.port}/ -`,
      `GET http://127.0.0.1:${server.port}/feed -`,
      `GET http://127.0.0.1:${server.port}/feed Basic dTpw`,
    ]);
  });

  test("the constructor refuses tls or proxy with a fetch option, and a bad maxRedirects", () => {
    const f = fakeFetch(() => null);
    expect(() => request("http://127.0.0.1:9/", { fetch: f, proxy: "http://127.0.0.1:1" })).toThrow(/configure that fetch/);
    expect(() => request("http://127.0.0.1:9/", { maxRedirects: -1 })).toThrow(RangeError);
    expect(() => request("http://127.0.0.1:9/", { maxRedirects: "3" as never })).toThrow(TypeError);
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
