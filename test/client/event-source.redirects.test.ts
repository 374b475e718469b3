/**
 * Redirects as Fetch follows them (the rules are in src/client/request.ts), through EventSource
 * against real node:http servers on 127.0.0.1.
 */
import { afterEach, describe, expect, test } from "vitest";
import { EventSource, EventSourceErrorEvent, type EventSourceMessageEvent } from "../../src/index.js";
import { once, sse, startServer, until } from "../support/server.js";
import { closeSources, open, record } from "../support/sources.js";

afterEach(closeSources);

describe("redirects", () => {
  test.each([301, 302, 303, 307, 308])("%i is followed; origin is the final URL's", async (code) => {
    const target = await startServer((_req, res) => {
      sse(res);
      res.write("data: hi\n\n");
    });
    const first = await startServer((_req, res) => {
      res.writeHead(code, { location: `${target.url}final` });
      res.end();
    });
    const s = open(first.url);
    const got: EventSourceMessageEvent[] = [];
    s.addEventListener("message", (e) => got.push(e));
    await until(() => got.length === 1);
    expect(got[0]!.origin).toBe(target.origin);
    expect(s.url).toBe(first.url); // the url attribute does not change
    expect(target.requests[0]!.url).toBe("/final");
    expect(target.requests[0]!.method).toBe("GET");
  });

  test("303 turns POST into GET without body (and drops Content-Type)", async () => {
    const server = await startServer((req, res) => {
      if (req.url === "/post") {
        res.writeHead(303, { location: "/stream" });
        res.end();
        return;
      }
      sse(res);
    });
    const s = open(`${server.url}post`, {
      method: "POST",
      body: "q=1",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    await once(s, "open");
    expect(server.requests.map((r) => [r.method, r.url, r.body])).toEqual([
      ["POST", "/post", "q=1"],
      ["GET", "/stream", ""],
    ]);
    expect(server.requests[1]!.headers["content-type"]).toBeUndefined();
  });

  test("302 turns a POST (any case) into GET without body", async () => {
    const server = await startServer((req, res) => {
      if (req.url === "/post") {
        res.writeHead(302, { location: "/stream" });
        res.end();
        return;
      }
      sse(res);
    });
    const s = open(`${server.url}post`, { method: "post", body: "q=1" });
    await once(s, "open");
    expect(server.requests.map((r) => [r.method, r.body])).toEqual([
      ["POST", "q=1"],
      ["GET", ""],
    ]);
  });

  test("307 and 308 keep method and body", async () => {
    for (const code of [307, 308]) {
      const server = await startServer((req, res) => {
        if (req.url === "/post") {
          res.writeHead(code, { location: "/stream" });
          res.end();
          return;
        }
        sse(res);
      });
      const s = open(`${server.url}post`, { method: "POST", body: "q=1" });
      await once(s, "open");
      expect(server.requests[1]).toMatchObject({ method: "POST", url: "/stream", body: "q=1" });
      s.close();
    }
  });

  test("reconnections go to the final URL after a redirect", async () => {
    const server = await startServer((req, res, { n }) => {
      if (req.url === "/start") {
        res.writeHead(302, { location: "/moved" });
        res.end();
        return;
      }
      sse(res);
      res.end(`data: ${n}\n\n`); // end of body: reconnect
    });
    const s = open(`${server.url}start`);
    const got = record(s);
    await until(() => got.length >= 2);
    s.close();
    expect(server.requests.map((r) => r.url).slice(0, 3)).toEqual(["/start", "/moved", "/moved"]);
  });

  test("a Location of raw UTF-8 bytes is read as UTF-8, as browsers do", async () => {
    const server = await startServer((req, res) => {
      if (req.url === "/start") {
        // The bytes of "/é/x" in UTF-8, written one byte per char.
        res.writeHead(302, { location: Buffer.from("/é/x", "utf8").toString("latin1") });
        res.end();
        return;
      }
      sse(res);
      res.write("data: moved\n\n");
    });
    const s = open(`${server.url}start`);
    const got = record(s);
    await until(() => got.length >= 1);
    s.close();
    expect(server.requests[1]!.url).toBe("/%C3%A9/x");
  });

  test("a redirect loop fails with TOO_MANY_REDIRECTS at maxRedirects", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(302, { location: "/loop" });
      res.end();
    });
    const s = open(server.url, { maxRedirects: 3 });
    const err = await once<EventSourceErrorEvent>(s, "error");
    expect(err.code).toBe("TOO_MANY_REDIRECTS");
    expect(err.willReconnect).toBe(false);
    expect(s.readyState).toBe(EventSource.CLOSED);
    expect(server.requests).toHaveLength(4); // the request and 3 redirects
  });

  test("the default redirect limit is 20 (the Fetch standard's)", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(307, { location: "/again" });
      res.end();
    });
    const s = open(server.url);
    const err = await once<EventSourceErrorEvent>(s, "error");
    expect(err.code).toBe("TOO_MANY_REDIRECTS");
    expect(server.requests).toHaveLength(21);
  });

  test("a redirect to a non-http(s) URL fails with BAD_REDIRECT", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(302, { location: "ftp://127.0.0.1/x" });
      res.end();
    });
    const s = open(server.url);
    const err = await once<EventSourceErrorEvent>(s, "error");
    expect(err.code).toBe("BAD_REDIRECT");
    expect(s.readyState).toBe(EventSource.CLOSED);
  });

  test("cross-origin redirect drops Authorization, Cookie, Proxy-Authorization; keeps the rest", async () => {
    const other = await startServer((_req, res) => {
      sse(res);
      res.end("data: x\n\n"); // and reconnect: still no credentials
    });
    const first = await startServer((_req, res) => {
      res.writeHead(301, { location: `${other.url}s` });
      res.end();
    });
    expect(other.origin).not.toBe(first.origin);
    const s = open(first.url, {
      headers: {
        AUTHORIZATION: "Bearer secret",
        cookie: "sid=1",
        "Proxy-Authorization": "Basic x",
        "x-trace": "t1",
        "X-Api-Key": "k",
      },
      sensitiveHeaders: ["x-api-key"],
    });
    await until(() => other.requests.length >= 2);
    s.close();
    expect(first.requests[0]!.headers.authorization).toBe("Bearer secret");
    expect(first.requests[0]!.headers.cookie).toBe("sid=1");
    for (const req of other.requests) {
      expect(req.headers.authorization).toBeUndefined();
      expect(req.headers.cookie).toBeUndefined();
      expect(req.headers["proxy-authorization"]).toBeUndefined();
      expect(req.headers["x-api-key"]).toBeUndefined();
      expect(req.headers["x-trace"]).toBe("t1");
    }
    expect(first.requests[0]!.headers["x-api-key"]).toBe("k");
  });

  test("127.0.0.1 and localhost are different origins: credentials dropped", async () => {
    const server = await startServer((req, res) => {
      if (req.url === "/start") {
        res.writeHead(302, { location: `http://localhost:${server.port}/s` });
        res.end();
        return;
      }
      sse(res);
    });
    const s = open(`${server.url}start`, { headers: { authorization: "Bearer secret" } });
    await once(s, "open");
    expect(server.requests[0]!.headers.authorization).toBe("Bearer secret");
    expect(server.requests[1]!.headers.authorization).toBeUndefined();
  });

  test("same-origin redirect keeps Authorization", async () => {
    const server = await startServer((req, res) => {
      if (req.url === "/start") {
        res.writeHead(307, { location: "/s" });
        res.end();
        return;
      }
      sse(res);
    });
    const s = open(`${server.url}start`, { headers: { authorization: "Bearer secret" } });
    await once(s, "open");
    expect(server.requests[1]!.headers.authorization).toBe("Bearer secret");
  });
});
