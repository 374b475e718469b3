/**
 * EventSource against real node:http servers on 127.0.0.1 (port 0). One test per rule of
 * the WHATWG HTML "Server-sent events" processing model, and per option.
 */
import { getEventListeners } from "node:events";
import { afterEach, describe, expect, test, vi } from "vitest";
import {
  EventSource,
  EventSourceError,
  EventSourceErrorEvent,
  type EventSourceMessageEvent,
  type EventSourceOptions,
} from "../../src/index.js";
import { ParseError } from "../../src/parser/errors.js";
import { fetchTransport } from "../../src/client/transport/fetch.js";
import { lastEventIdOf, once, sleep, sse, startRawServer, startServer, until } from "../support/server.js";
import { closeSources, errors, open, record } from "../support/sources.js";

afterEach(closeSources);

describe("constructor and interface", () => {
  test("invalid URL throws a SyntaxError DOMException", () => {
    for (const bad of ["not a url", "/relative", "http://exa mple.com/"]) {
      let thrown: unknown;
      try {
        new EventSource(bad);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(DOMException);
      expect((thrown as DOMException).name).toBe("SyntaxError");
    }
  });

  test("non-http(s) scheme throws a SyntaxError DOMException", () => {
    for (const bad of ["ftp://example.com/", "file:///etc/passwd", "data:text/event-stream,x"]) {
      expect(() => new EventSource(bad)).toThrowError(expect.objectContaining({ name: "SyntaxError" }));
    }
  });

  test("URL object and any object with toString are accepted (WebIDL USVString)", async () => {
    const server = await startServer((_req, res) => sse(res));
    const a = open(new URL("/a?x=1", server.url));
    expect(a.url).toBe(`${server.origin}/a?x=1`);
    const b = open({ toString: () => `${server.origin}/b` } as unknown as string);
    expect(b.url).toBe(`${server.origin}/b`);
    await Promise.all([once(a, "open"), once(b, "open")]);
  });

  test("url is the serialization of the resolved URL; withCredentials defaults to false", () => {
    const s = new EventSource("HTTP://Example.COM:80/a/../b");
    s.close();
    expect(s.url).toBe("http://example.com/b");
    expect(s.withCredentials).toBe(false);
    const t = new EventSource("http://example.com/", { withCredentials: true });
    t.close();
    expect(t.withCredentials).toBe(true);
  });

  test("CONNECTING/OPEN/CLOSED are static, prototype and instance constants", () => {
    expect([EventSource.CONNECTING, EventSource.OPEN, EventSource.CLOSED]).toEqual([0, 1, 2]);
    const proto = EventSource.prototype as unknown as Record<string, unknown>;
    expect([proto.CONNECTING, proto.OPEN, proto.CLOSED]).toEqual([0, 1, 2]);
    const d = Object.getOwnPropertyDescriptor(EventSource.prototype, "OPEN")!;
    expect(d).toMatchObject({ writable: false, enumerable: true, configurable: false });
    const s = new EventSource("http://example.com/");
    s.close();
    expect([s.CONNECTING, s.OPEN, s.CLOSED]).toEqual([0, 1, 2]);
    expect(Object.prototype.hasOwnProperty.call(s, "OPEN")).toBe(false);
    expect(s).toBeInstanceOf(EventTarget);
    expect(Object.prototype.toString.call(s)).toBe("[object EventSource]");
  });

  test("regression: WebIDL: constants read-only on the class too, length 1, a Symbol URL is a TypeError", () => {
    for (const target of [EventSource, EventSource.prototype]) {
      for (const [name, value] of [["CONNECTING", 0], ["OPEN", 1], ["CLOSED", 2]] as const) {
        expect(Object.getOwnPropertyDescriptor(target, name)).toEqual({
          value,
          writable: false,
          enumerable: true,
          configurable: false,
        });
      }
    }
    expect(() => {
      (EventSource as unknown as { OPEN: number }).OPEN = 7; // strict mode: a TypeError
    }).toThrow(TypeError);
    expect(EventSource.OPEN).toBe(1);
    expect(EventSource.length).toBe(1);
    expect(() => new EventSource(Symbol("url") as unknown as string)).toThrow(TypeError);
  });

  test("readyState is CONNECTING, then OPEN; the request starts on the next tick", async () => {
    const server = await startServer((_req, res) => sse(res));
    const s = open(server.url);
    expect(s.readyState).toBe(EventSource.CONNECTING);
    await new Promise((r) => setImmediate(r));
    await once(s, "open");
    expect(s.readyState).toBe(EventSource.OPEN);
  });

  test("request carries Accept: text/event-stream and Cache-Control: no-cache", async () => {
    const server = await startServer((_req, res) => sse(res));
    const s = open(server.url);
    await once(s, "open");
    expect(server.requests[0]!.headers.accept).toBe("text/event-stream");
    expect(server.requests[0]!.headers["cache-control"]).toBe("no-cache");
    expect(server.requests[0]!.headers["last-event-id"]).toBeUndefined();
  });

  test("onopen/onmessage/onerror: set replaces in place, null clears, position is the first set", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.write("data: x\n\n");
    });
    const s = open(server.url);
    const calls: string[] = [];
    s.onmessage = () => calls.push("handler-1");
    s.addEventListener("message", () => calls.push("listener"));
    s.onmessage = () => calls.push("handler-2"); // same position: before "listener"
    const ignored = () => calls.push("ignored");
    s.onopen = ignored;
    s.onopen = null;
    expect(s.onopen).toBe(null);
    expect(typeof s.onmessage).toBe("function");
    await until(() => calls.length >= 2);
    expect(calls).toEqual(["handler-2", "listener"]);

    // null then set again: goes to the end.
    calls.length = 0;
    s.onmessage = null;
    s.onmessage = () => calls.push("handler-3");
    s.dispatchEvent(new MessageEvent("message", { data: "y" }));
    expect(calls).toEqual(["listener", "handler-3"]);
  });

  test("MessageEvent: data, type, lastEventId, origin; named events only reach their listeners", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.write("id: 7\ndata: a\ndata: b\n\nevent: tick\ndata: t\n\n");
    });
    const s = open<{ tick: MessageEvent<string> }>(server.url);
    const messages: EventSourceMessageEvent[] = [];
    const ticks: MessageEvent<string>[] = [];
    s.addEventListener("message", (e) => messages.push(e));
    s.addEventListener("tick", (e) => ticks.push(e));
    await until(() => ticks.length === 1);
    expect(messages).toHaveLength(1);
    const m = messages[0]!;
    expect(m).toBeInstanceOf(MessageEvent);
    expect(m.type).toBe("message");
    expect(m.data).toBe("a\nb");
    expect(m.lastEventId).toBe("7");
    expect(m.origin).toBe(server.origin);
    expect(ticks[0]!.type).toBe("tick");
    expect(ticks[0]!.data).toBe("t");
    expect(ticks[0]!.lastEventId).toBe("7");
  });

  test("the event a source makes reads as the runtime's own MessageEvent, to listeners and to events()", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.write("id: 9\nevent: tick\ndata: x\n\n");
    });
    const s = open(server.url);
    const iterator = s.events();
    const heard: MessageEvent[] = [];
    s.addEventListener("tick", (e) => {
      // Read while it is dispatched: the dispatch state too must be the runtime's.
      heard.push(e as MessageEvent);
      expect(e.target).toBe(s);
      expect(e.currentTarget).toBe(s);
      expect(e.eventPhase).toBe(Event.AT_TARGET);
    });
    const yielded = (await iterator.next()).value as MessageEvent;
    await iterator.return?.();
    expect(heard).toEqual([yielded]);
    const got = heard[0]!;
    const own = new MessageEvent("tick", { data: "x", origin: server.origin, lastEventId: "9" });
    expect(got).toBeInstanceOf(MessageEvent);
    expect(got.constructor).toBe(MessageEvent);
    expect(Object.prototype.toString.call(got)).toBe(Object.prototype.toString.call(own));
    // Every attribute MessageEvent and Event define, as the runtime's own event has them.
    for (const proto of [MessageEvent.prototype, Event.prototype]) {
      for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
        if (d.get === undefined || name === "timeStamp" || name === "target" || name === "currentTarget" || name === "srcElement") continue;
        expect([name, (got as unknown as Record<string, unknown>)[name]]).toEqual([name, (own as unknown as Record<string, unknown>)[name]]);
      }
    }
    expect(got.target).toBe(s);
    expect(got.source).toBeNull();
    expect(got.ports).toEqual([]);
    expect(got.ports).toBe(got.ports);
    expect(Object.isFrozen(got.ports)).toBe(true);
    expect(typeof got.timeStamp).toBe("number");
  });
});

describe("fail the connection (no reconnect)", () => {
  test.each([
    ["204 No Content", 204, {}],
    ["3xx without Location", 302, {}],
    ["304 Not Modified", 304, {}],
    ["4xx", 404, { "content-type": "text/event-stream" }],
    ["401", 401, { "www-authenticate": "Bearer" }],
    ["5xx", 503, { "content-type": "text/event-stream", "retry-after": "1" }],
    ["200-family other than 200 (206)", 206, { "content-type": "text/event-stream" }],
  ])("%s fails with HTTP_STATUS", async (_name, status, headers) => {
    const server = await startServer((_req, res) => {
      res.writeHead(status, headers as Record<string, string>);
      res.end();
    });
    const s = open(server.url);
    const err = await once<EventSourceErrorEvent>(s, "error");
    expect(err).toBeInstanceOf(EventSourceErrorEvent);
    expect(err.code).toBe("HTTP_STATUS");
    expect(err.status).toBe(status);
    expect(err.willReconnect).toBe(false);
    expect(err.headers).toBeInstanceOf(Headers);
    expect(s.readyState).toBe(EventSource.CLOSED);
    await sleep(60);
    expect(server.requests).toHaveLength(1);
  });

  test.each([
    ["missing", undefined],
    ["wrong (text/plain)", "text/plain"],
    ["a longer subtype (text/event-streams)", "text/event-streams"],
    ["a type without subtype", "text"],
    ["space inside the essence", "text /event-stream"],
  ])("Content-Type %s fails with BAD_CONTENT_TYPE", async (_name, type) => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, type === undefined ? {} : { "content-type": type });
      res.write("data: x\n\n");
    });
    const s = open(server.url);
    const got = record(s);
    const err = await once<EventSourceErrorEvent>(s, "error");
    expect(err.code).toBe("BAD_CONTENT_TYPE");
    expect(err.status).toBe(200);
    expect(s.readyState).toBe(EventSource.CLOSED);
    await sleep(40);
    expect(got).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  test.each([
    ["parameters", "text/event-stream; charset=utf-8"],
    ["different case", "Text/Event-Stream"],
    ["case, parameters and whitespace", " TEXT/EVENT-STREAM ;charset=UTF-8"],
  ])("Content-Type with %s opens", async (_name, type) => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { "content-type": type });
      res.write("data: ok\n\n");
    });
    const s = open(server.url);
    const got = record(s);
    await until(() => got.length === 1);
    expect(got).toEqual(["ok"]);
  });

  // Fetch "extract a MIME type": the header's values are combined ("a, b"), and the last one
  // that parses as a MIME type decides. Both transports.
  for (const transport of ["node:http", "fetch"] as const) {
    test.each([
      ["one combined value", "text/event-stream, text/event-stream", true],
      ["two lines, the last text/event-stream", ["text/html", "text/event-stream"], true],
      ["two lines, the last text/html", ["text/event-stream", "text/html"], false],
    ])(`regression: Content-Type as %s (${transport})`, async (_name, type, opens) => {
      const server = await startServer((_req, res) => {
        res.writeHead(200, { "content-type": type });
        res.write("data: ok\n\n");
      });
      const s = open(server.url, transport === "fetch" ? { fetch } : {});
      const first = await Promise.race([once(s, "open"), once<EventSourceErrorEvent>(s, "error")]);
      expect(first.type === "open" ? "open" : (first as EventSourceErrorEvent).code).toBe(
        opens ? "open" : "BAD_CONTENT_TYPE",
      );
    });
  }
});

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

describe("reestablish the connection", () => {
  test("end of body reconnects with Last-Event-ID, after an error event (CONNECTING)", async () => {
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      res.end(n === 1 ? "id: 41\ndata: a\n\nid: 42\ndata: b\n\nid: 43\ndata: incomplete\n" : "data: c\n\n");
    });
    const s = open(server.url);
    const got = record(s);
    const err = await once<EventSourceErrorEvent>(s, "error");
    expect(err.code).toBe("STREAM_ENDED");
    expect(err.willReconnect).toBe(true);
    expect(err.status).toBe(200);
    expect(err.headers!.get("content-type")).toBe("text/event-stream");
    expect(s.readyState).toBe(EventSource.CONNECTING);
    await until(() => got.length === 3);
    expect(got).toEqual(["a", "b", "c"]);
    // The unfinished event's id never took effect.
    expect(server.requests[1]!.headers["last-event-id"]).toBe("42");
  });

  test("a network error (socket destroyed) reconnects with code NETWORK", async () => {
    const server = await startServer((req, res, { n }) => {
      if (n === 1) {
        sse(res);
        res.write("id: 1\ndata: a\n\n");
        setTimeout(() => req.socket.destroy(), 10);
        return;
      }
      sse(res);
    });
    const s = open(server.url);
    const err = await once<EventSourceErrorEvent>(s, "error");
    expect(err.code).toBe("NETWORK");
    await until(() => server.requests.length === 2);
    expect(server.requests[1]!.headers["last-event-id"]).toBe("1");
  });

  test("regression: an error in the segment that carried the response head is not lost (reconnects)", async () => {
    // One write: a 200 event-stream head, then a chunk size that is not hex. node:http
    // reports the error between the `response` event and the body reader attaching.
    const server = await startRawServer(
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\nZZZZ\r\ndata: x\n\n\r\n",
    );
    const s = open(server.url);
    const seen: string[] = [];
    s.addEventListener("open", () => seen.push("open"));
    s.addEventListener("error", (e) => {
      const err = e as EventSourceErrorEvent;
      seen.push(`${err.code} willReconnect=${err.willReconnect}`);
      s.close();
    });
    await until(() => seen.length === 2, 1000, "an error event");
    expect(seen).toEqual(["open", "NETWORK willReconnect=true"]);
  });

  test("a refused connection reconnects (NETWORK)", async () => {
    const server = await startServer(() => {});
    const url = server.url;
    await server.close();
    const s = open(url, { reconnect: { initialDelay: 10, maxAttempts: 1 } });
    const errs = errors(s);
    await until(() => s.readyState === EventSource.CLOSED);
    expect(errs.map((e) => e.code)).toEqual(["NETWORK", "MAX_ATTEMPTS"]);
    expect(errs[1]!.cause).toBeInstanceOf(EventSourceError);
  });

  test("a non-ASCII last event id is sent as UTF-8 bytes", async () => {
    const id = "é€😀-ид";
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      if (n === 1) res.end(`id: ${id}\ndata: a\n\n`);
    });
    const s = open(server.url);
    await until(() => server.requests.length === 2);
    expect(lastEventIdOf(server.requests[1]!)).toBe(id);
    expect(s.lastEventId).toBe(id);
  });

  test("an empty id resets it: no Last-Event-ID on the next connect", async () => {
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      if (n === 1) res.end("id: 5\ndata: a\n\nid\ndata: b\n\n");
    });
    open(server.url);
    await until(() => server.requests.length === 2);
    expect(server.requests[1]!.headers["last-event-id"]).toBeUndefined();
  });

  test("an id that cannot be a header value (control character) is not sent; reconnection still works", async () => {
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      if (n === 1) res.end("id: a\u0001b\ndata: x\n\n");
    });
    const s = open(server.url);
    await until(() => server.requests.length === 2);
    expect(s.lastEventId).toBe("a\u0001b");
    expect(server.requests[1]!.headers["last-event-id"]).toBeUndefined();
  });

  test("the lastEventId option is sent from the first request (resume)", async () => {
    const server = await startServer((_req, res) => sse(res));
    const s = open(server.url, { lastEventId: "seq-ü-9" });
    await once(s, "open");
    expect(lastEventIdOf(server.requests[0]!)).toBe("seq-ü-9");
  });

  test("retry: takes effect when its line is read", async () => {
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      // The retry line, then the body ends without a blank line: it still counts.
      if (n === 1) res.end("retry: 30\n");
    });
    const s = open(server.url, { reconnect: { initialDelay: 10_000 } });
    await until(() => server.requests.length === 2, 2000, "reconnect after retry: 30");
    const gap = server.requests[1]!.at - server.requests[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(25);
    expect(gap).toBeLessThan(1500);
    s.close();
  });

  test("regression: a retry: over 2^31 - 1 ms waits (clamped), it does not reconnect within 1 ms", async () => {
    // setTimeout takes a delay over 2^31 - 1 as 1 ms. "9" x 400 is Infinity as a number, and
    // with jitter Infinity - Infinity * r would be NaN (1 ms too).
    for (const retry of ["3000000000", "9".repeat(400)]) {
      const server = await startServer((_req, res) => {
        sse(res);
        res.end(`retry: ${retry}\ndata: x\n\n`);
      });
      const s = open(server.url, { reconnect: { initialDelay: 10, jitter: 0.5 } });
      await once(s, "error");
      await sleep(60);
      expect(server.requests).toHaveLength(1);
      expect(s.readyState).toBe(EventSource.CONNECTING);
      s.close();
    }
  });

  test("regression: an idleTimeout over 2^31 - 1 ms arms one clamped timer, not a busy loop", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.write(":\n");
    });
    const spy = vi.spyOn(globalThis, "setTimeout");
    try {
      const s = open(server.url, { idleTimeout: 3e9 });
      await once(s, "open");
      await sleep(50);
      // Our sleeps use short delays: the long ones are the idle watchdog's.
      const long = spy.mock.calls.map((call) => call[1] ?? 0).filter((ms) => ms > 1e6);
      expect(long).toEqual([2 ** 31 - 1]);
      expect(s.readyState).toBe(EventSource.OPEN);
    } finally {
      spy.mockRestore();
    }
  });

  test("retry: with non-digits is ignored", async () => {
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      if (n === 1) res.end("retry: 1e3\nretry: -5\nretry: 20ms\n");
    });
    open(server.url, { reconnect: { initialDelay: 30 } });
    await until(() => server.requests.length === 2);
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(25);
  });

  test("backoff: factor and maxDelay grow the delay; maxAttempts gives up with MAX_ATTEMPTS", async () => {
    const server = await startServer((req) => req.socket.destroy());
    const s = open(server.url, {
      reconnect: { initialDelay: 20, factor: 1.5, maxDelay: 200, maxAttempts: 3 },
    });
    const errs = errors(s);
    await until(() => s.readyState === EventSource.CLOSED, 5000);
    expect(server.requests).toHaveLength(4); // first try + 3 reconnections
    expect(errs.map((e) => e.code)).toEqual(["NETWORK", "NETWORK", "NETWORK", "MAX_ATTEMPTS"]);
    expect(errs.map((e) => e.willReconnect)).toEqual([true, true, true, false]);
    const gaps = server.requests.slice(1).map((r, i) => r.at - server.requests[i]!.at);
    // 20 (the reconnection time), then growing from max(20, 100): 150, 225 capped to 200.
    expect(gaps[0]).toBeGreaterThanOrEqual(18);
    expect(gaps[0]).toBeLessThan(140);
    expect(gaps[1]).toBeGreaterThanOrEqual(148);
    expect(gaps[2]).toBeGreaterThanOrEqual(198);
    expect(gaps[2]).toBeLessThan(198 + 400);
    expect(s.stats.reconnects).toBe(3);
  });

  test("regression: with factor > 1, a retry: 0 still backs off (growth starts from 100 ms)", async () => {
    const server = await startServer((req, res, { n }) => {
      if (n > 1) return void req.socket.destroy(); // the server is down after the first stream
      sse(res);
      res.end("retry: 0\ndata: x\n\n");
    });
    const s = open(server.url, { reconnect: { factor: 2, maxAttempts: 2 } });
    const errs = errors(s);
    await until(() => s.readyState === EventSource.CLOSED, 2000);
    expect(errs.map((e) => e.code)).toEqual(["STREAM_ENDED", "NETWORK", "MAX_ATTEMPTS"]);
    const gaps = server.requests.slice(1).map((r, i) => r.at - server.requests[i]!.at);
    // 0 (the reconnection time, at once), then max(0, 100) * 2.
    expect(gaps).toHaveLength(2);
    expect(gaps[0]).toBeLessThan(100);
    expect(gaps[1]).toBeGreaterThanOrEqual(198);
  });

  test("with factor 1, a retry: 0 reconnects at once, as the spec says", async () => {
    const server = await startServer((req, res, { n }) => {
      if (n > 1) return void req.socket.destroy();
      sse(res);
      res.end("retry: 0\ndata: x\n\n");
    });
    const s = open(server.url, { reconnect: { maxAttempts: 5 } });
    await until(() => s.readyState === EventSource.CLOSED, 2000);
    expect(server.requests).toHaveLength(6);
    expect(server.requests[5]!.at - server.requests[0]!.at).toBeLessThan(250);
  });

  test("jitter: each delay is scaled by a random factor in [1 - jitter, 1]", async () => {
    const server = await startServer((req) => req.socket.destroy());
    const s = open(server.url, { reconnect: { initialDelay: 60, jitter: 0.5, maxAttempts: 5 } });
    await until(() => s.readyState === EventSource.CLOSED, 5000);
    const gaps = server.requests.slice(1).map((r, i) => r.at - server.requests[i]!.at);
    expect(gaps).toHaveLength(5);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(28);
      expect(gap).toBeLessThan(60 + 300);
    }
  });

  test("maxAttempts: 0 never reconnects", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.end("data: once\n\n");
    });
    const s = open(server.url, { reconnect: { maxAttempts: 0 } });
    const errs = errors(s);
    await until(() => s.readyState === EventSource.CLOSED);
    expect(errs).toHaveLength(1);
    expect(errs[0]!.code).toBe("MAX_ATTEMPTS");
    expect((errs[0]!.cause as EventSourceError).code).toBe("STREAM_ENDED");
    await sleep(40);
    expect(server.requests).toHaveLength(1);
  });

  test("regression: a MAX_ATTEMPTS error carries the number of attempts (event and iterator error)", async () => {
    const server = await startServer((req) => req.socket.destroy());
    for (const maxAttempts of [0, 2]) {
      const s = open(server.url, { reconnect: { initialDelay: 5, maxAttempts } });
      const errs = errors(s);
      let thrown: unknown;
      try {
        for await (const e of s) void e;
      } catch (e) {
        thrown = e;
      }
      const last = errs.at(-1)!;
      expect([last.code, last.attempts]).toEqual(["MAX_ATTEMPTS", maxAttempts]);
      expect(thrown).toBeInstanceOf(EventSourceError);
      expect((thrown as EventSourceError).attempts).toBe(maxAttempts);
      // Only MAX_ATTEMPTS has it.
      expect(errs.slice(0, -1).map((e) => e.attempts)).toEqual(Array(maxAttempts).fill(undefined));
    }
  });

  test("a successful open resets the attempt count", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.end("data: x\n\n");
    });
    const s = open(server.url, { reconnect: { initialDelay: 5, maxAttempts: 1 } });
    await until(() => server.requests.length >= 4);
    expect(s.readyState).not.toBe(EventSource.CLOSED);
  });

  test("idleTimeout: no byte for that long drops the connection and reconnects", async () => {
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      res.write(`id: ${n}\ndata: ${n}\n\n`);
      // then silence (a half-open connection looks like this)
    });
    const s = open(server.url, { idleTimeout: 60 });
    const got = record(s);
    const err = await once<EventSourceErrorEvent>(s, "error");
    expect(err.code).toBe("IDLE_TIMEOUT");
    expect(err.willReconnect).toBe(true);
    await until(() => got.length === 2);
    expect(got).toEqual(["1", "2"]);
    expect(server.requests[1]!.headers["last-event-id"]).toBe("1");
  });

  test("idleTimeout: a stream that keeps sending is not dropped", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      const t = setInterval(() => res.write(":keepalive\n"), 15);
      res.on("close", () => clearInterval(t));
    });
    const s = open(server.url, { idleTimeout: 60 });
    const errs = errors(s);
    await once(s, "open");
    await sleep(250);
    expect(errs).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  test("idleTimeout also covers a server that never answers", async () => {
    const server = await startServer(() => {});
    const s = open(server.url, { idleTimeout: 50 });
    const err = await once<EventSourceErrorEvent>(s, "error");
    expect(err.code).toBe("IDLE_TIMEOUT");
  });

  test("regression: idleTimeout also covers a headers function that never settles", async () => {
    const server = await startServer((_req, res) => sse(res));
    let calls = 0;
    const s = open(server.url, {
      idleTimeout: 50,
      headers: () => {
        calls++;
        return new Promise<Record<string, string>>(() => {}); // a token service that hangs
      },
    });
    const err = await once<EventSourceErrorEvent>(s, "error", 1000);
    expect([err.code, err.willReconnect]).toEqual(["IDLE_TIMEOUT", true]);
    await until(() => calls === 2, 1000, "the headers function to be called again");
    expect(server.requests).toHaveLength(0);
  });

  test("regression: without idleTimeout, the clock is not read per chunk", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      let n = 0;
      const t = setInterval(() => {
        // Comment chunks (no event) a few ms apart, then one event.
        res.write(++n < 20 ? ":c\n" : "data: x\n\n");
        if (n === 20) clearInterval(t);
      }, 2);
      res.on("close", () => clearInterval(t));
    });
    const s = open(server.url);
    await once(s, "open");
    const spy = vi.spyOn(Date, "now");
    try {
      const got = record(s);
      while (got.length === 0) await sleep(5);
      // One read, for stats.lastEventAt of the chunk that carried the event.
      expect(spy.mock.calls.length).toBeLessThanOrEqual(1);
      expect(s.stats.lastEventAt).toEqual(expect.any(Number));
    } finally {
      spy.mockRestore();
    }
  });
});

describe("close() and signals", () => {
  test("close() inside a listener: the rest of that chunk is not dispatched", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.write("data: 1\n\ndata: 2\n\ndata: 3\n\n"); // one chunk
    });
    const s = open(server.url);
    const got: string[] = [];
    const after: string[] = [];
    s.addEventListener("message", (e) => {
      got.push(e.data);
      s.close();
    });
    s.addEventListener("error", () => after.push("error"));
    s.addEventListener("open", () => after.push("open"));
    await until(() => got.length > 0);
    await sleep(50);
    expect(got).toEqual(["1"]);
    expect(after).toEqual(["open"]);
    expect(s.readyState).toBe(EventSource.CLOSED);
    expect(server.requests).toHaveLength(1);
  });

  for (const engine of ["js", "wasm"] as const) {
    test(`regression: close() or an abort inside a listener stops the parser: lastEventId stays at the dispatched event (${engine})`, async () => {
      const server = await startServer((_req, res) => {
        sse(res);
        // One chunk. `id: 3` with no data commits an id without dispatching anything.
        res.write("id: 1\ndata: a\n\nid: 2\ndata: b\n\nid: 3\n\n");
      });
      const controller = new AbortController();
      const closing = open(server.url, { engine });
      const aborting = open(server.url, { engine, signal: controller.signal });
      const got: string[] = [];
      closing.addEventListener("message", (e) => {
        got.push(`close:${e.data}`);
        closing.close();
      });
      aborting.addEventListener("message", (e) => {
        got.push(`abort:${e.data}`);
        controller.abort();
      });
      await until(() => got.length === 2);
      await sleep(20);
      expect(got.sort()).toEqual(["abort:a", "close:a"]);
      expect([closing.engine, closing.lastEventId]).toEqual([engine, "1"]);
      expect([aborting.engine, aborting.lastEventId]).toEqual([engine, "1"]);
    });
  }

  test("close() before the response: no error, no open, no request left", async () => {
    let answered = false;
    const server = await startServer((_req, res) => {
      setTimeout(() => {
        answered = true;
        if (!res.destroyed) sse(res);
      }, 40);
    });
    const s = open(server.url);
    const seen: string[] = [];
    for (const t of ["open", "error", "message"]) s.addEventListener(t, () => seen.push(t));
    await until(() => server.requests.length === 1);
    s.close();
    expect(s.readyState).toBe(EventSource.CLOSED);
    await until(() => answered);
    await sleep(30);
    expect(seen).toEqual([]);
  });

  test("close() in an open listener: no message, no error", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.write("data: x\n\n");
    });
    const s = open(server.url);
    const seen: string[] = [];
    s.onopen = () => {
      seen.push("open");
      s.close();
    };
    s.onmessage = () => seen.push("message");
    s.onerror = () => seen.push("error");
    await until(() => seen.length > 0);
    await sleep(40);
    expect(seen).toEqual(["open"]);
  });

  test("close() before the first tick: nothing is requested", async () => {
    const server = await startServer((_req, res) => sse(res));
    const s = open(server.url);
    s.close();
    await sleep(40);
    expect(server.requests).toHaveLength(0);
  });

  test("close() during the reconnection delay: no reconnect", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.end();
    });
    const s = open(server.url, { reconnect: { initialDelay: 40 } });
    await once(s, "error");
    s.close();
    await sleep(80);
    expect(server.requests).toHaveLength(1);
  });

  test("close() in an error listener stops the reconnection", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.end();
    });
    const s = open(server.url);
    s.onerror = () => s.close();
    await once(s, "error");
    await sleep(60);
    expect(server.requests).toHaveLength(1);
    expect(s.readyState).toBe(EventSource.CLOSED);
  });

  test("signal: aborting closes the source without an event", async () => {
    const server = await startServer((_req, res) => sse(res));
    const controller = new AbortController();
    const s = open(server.url, { signal: controller.signal });
    const errs = errors(s);
    await once(s, "open");
    controller.abort();
    expect(s.readyState).toBe(EventSource.CLOSED);
    await sleep(30);
    expect(errs).toEqual([]);
  });

  test("regression: one signal shared by many sources: no MaxListenersExceededWarning, one listener, removed", async () => {
    const server = await startServer((_req, res) => sse(res));
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
    process.on("warning", onWarning);
    try {
      const controller = new AbortController();
      const many = Array.from({ length: 12 }, () => open(server.url, { signal: controller.signal }));
      expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
      await Promise.all(many.map((s) => once(s, "open")));
      controller.abort();
      expect(many.map((s) => s.readyState)).toEqual(Array(12).fill(EventSource.CLOSED));
      expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
      // Closing each source instead also removes the listener, with the last one.
      const other = new AbortController();
      const more = Array.from({ length: 12 }, () => open(server.url, { signal: other.signal }));
      for (const s of more.slice(1)) s.close();
      expect(getEventListeners(other.signal, "abort")).toHaveLength(1);
      more[0]!.close();
      expect(getEventListeners(other.signal, "abort")).toHaveLength(0);
      await sleep(10); // warnings are emitted on the next tick
      expect(warnings).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });

  test("signal already aborted: CLOSED at once, no request, iterators done at once", async () => {
    const server = await startServer((_req, res) => sse(res));
    const s = open(server.url, { signal: AbortSignal.abort() });
    expect(s.readyState).toBe(EventSource.CLOSED);
    expect(await s.events().next()).toEqual({ value: undefined, done: true });
    expect(await s.batches().next()).toEqual({ value: undefined, done: true });
    await sleep(30);
    expect(server.requests).toHaveLength(0);
  });

  test("a closed source leaves no timer or socket behind", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.write("data: x\n\n");
    });
    await sleep(10);
    const count = (): number =>
      process.getActiveResourcesInfo().filter((r) => r === "Timeout" || r === "TCPSocketWrap").length;
    const before = count();
    const s = open(server.url, { idleTimeout: 10_000 });
    await once(s, "message");
    s.close();
    await server.close();
    await sleep(20);
    expect(count()).toBeLessThanOrEqual(before);
  });
});

describe("listeners", () => {
  test("a throwing listener is reported as an uncaught exception and the stream goes on", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.write("data: 1\n\n");
      setTimeout(() => res.write("data: 2\n\ndata: 3\n\n"), 20);
    });
    // Node's EventTarget reports a listener's exception on process.nextTick as an
    // 'uncaughtException' (the DOM's "report the exception"). Capture it here.
    const saved = process.listeners("uncaughtException");
    process.removeAllListeners("uncaughtException");
    const reported: unknown[] = [];
    process.on("uncaughtException", (e) => reported.push(e));
    try {
      const s = open(server.url);
      const got: string[] = [];
      s.addEventListener("message", (e) => {
        if (e.data === "1") throw new Error("listener bug");
      });
      s.addEventListener("message", (e) => got.push(e.data));
      await until(() => got.length === 3);
      expect(got).toEqual(["1", "2", "3"]);
      expect(s.readyState).toBe(EventSource.OPEN);
      await until(() => reported.length === 1);
      expect((reported[0] as Error).message).toBe("listener bug");
    } finally {
      process.removeAllListeners("uncaughtException");
      for (const l of saved) process.on("uncaughtException", l);
    }
  });
});

describe("options", () => {
  test("headers function is called on every (re)connect (rotating token)", async () => {
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      if (n < 3) res.end(`id: ${n}\ndata: ${n}\n\n`);
    });
    let calls = 0;
    const s = open(server.url, {
      headers: async () => {
        calls++;
        await sleep(1);
        return { authorization: `Bearer token-${calls}` };
      },
    });
    await until(() => server.requests.length === 3);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([
      "Bearer token-1",
      "Bearer token-2",
      "Bearer token-3",
    ]);
    expect(calls).toBe(3);
    await until(() => s.readyState === EventSource.OPEN);
  });

  test("headers: a Headers object and a sync function work; Last-Event-ID stays ours", async () => {
    const server = await startServer((_req, res) => sse(res));
    const a = open(server.url, { headers: new Headers({ "x-a": "1" }), lastEventId: "L" });
    const b = open(server.url, { headers: () => ({ "x-b": "2", "last-event-id": "forged" }) });
    await Promise.all([once(a, "open"), once(b, "open")]);
    const byHeader = (k: string) => server.requests.find((r) => r.headers[k] !== undefined)!;
    expect(byHeader("x-a").headers["last-event-id"]).toBe("L");
    expect(byHeader("x-b").headers["last-event-id"]).toBeUndefined();
  });

  test("a headers function that throws is an error event (HEADERS) and is retried", async () => {
    const server = await startServer((_req, res) => sse(res));
    let calls = 0;
    const s = open(server.url, {
      headers: () => {
        if (++calls === 1) throw new Error("token service down");
        return { authorization: "Bearer ok" };
      },
    });
    const err = await once<EventSourceErrorEvent>(s, "error");
    expect(err.code).toBe("HEADERS");
    expect(err.willReconnect).toBe(true);
    await once(s, "open");
    expect(server.requests[0]!.headers.authorization).toBe("Bearer ok");
  });

  test("method and body are sent (and again on reconnection)", async () => {
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      if (n === 1) res.end();
    });
    open(server.url, { method: "POST", body: '{"subscribe":["a"]}', headers: { "content-type": "application/json" } });
    await until(() => server.requests.length === 2);
    for (const r of server.requests) {
      expect(r).toMatchObject({ method: "POST", body: '{"subscribe":["a"]}' });
      expect(r.headers["content-type"]).toBe("application/json");
    }
  });

  test("engine option passes through to the parser", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.write("data: x\n\n");
    });
    const s = open(server.url, { engine: "js" });
    expect(s.engine).toBe("js");
    expect(s.engineOption).toBe("js");
    await once(s, "message");
    const auto = open(server.url);
    expect(auto.engineOption).toBe("auto");
    expect(["js", "wasm"]).toContain(auto.engine);
  });

  test("maxEventSize: an oversized event is an EVENT_TOO_LARGE error event, then the stream goes on", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.write(`data: small\n\ndata: ${"x".repeat(500)}\n\ndata: after\n\n`);
    });
    const s = open(server.url, { maxEventSize: 100 });
    const got = record(s);
    const errs = errors(s);
    await until(() => got.length === 2);
    expect(got).toEqual(["small", "after"]);
    expect(errs).toHaveLength(1);
    expect(errs[0]!.code).toBe("EVENT_TOO_LARGE");
    expect(errs[0]!.cause).toBeInstanceOf(ParseError);
    expect(errs[0]!.willReconnect).toBe(false);
    expect(s.readyState).toBe(EventSource.OPEN);
    expect(server.requests).toHaveLength(1);
  });

  test("invalid options throw from the constructor", () => {
    expect(() => new EventSource("http://127.0.0.1:1/", { reconnect: { jitter: 2 } })).toThrow(RangeError);
    expect(() => new EventSource("http://127.0.0.1:1/", { idleTimeout: -1 })).toThrow(RangeError);
    expect(() => new EventSource("http://127.0.0.1:1/", { maxEventSize: 0 })).toThrow(RangeError);
    expect(() => new EventSource("http://127.0.0.1:1/", { engine: "rust" as "js" })).toThrow(TypeError);
  });

  test("regression: non-finite delays, a factor below 1 and non-numbers are refused at construction", () => {
    const make = (init: EventSourceOptions) => () => new EventSource("http://127.0.0.1:1/", init).close();
    for (const bad of [Infinity, NaN]) {
      expect(make({ idleTimeout: bad })).toThrow(RangeError);
      expect(make({ reconnect: { initialDelay: bad } })).toThrow(RangeError);
      expect(make({ reconnect: { maxDelay: bad } })).toThrow(RangeError);
      expect(make({ reconnect: { factor: bad } })).toThrow(RangeError);
    }
    expect(make({ reconnect: { factor: 0.5 } })).toThrow(/reconnect.factor must be a number >= 1/);
    expect(make({ idleTimeout: "100" as unknown as number })).toThrow(TypeError);
    expect(make({ reconnect: { initialDelay: "1s" as unknown as number } })).toThrow(TypeError);
    // Long but finite is fine (clamped to 2^31 - 1 ms by the timers); counts may be Infinity.
    expect(make({ idleTimeout: 3e9, reconnect: { initialDelay: 3e9, maxAttempts: Infinity } })).not.toThrow();
  });

  test("stats: events, bytes, connections, reconnects, dropped, parseErrors, lastEventAt, engine", async () => {
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      if (n === 1) res.end("data: a\n\ndata: b\n\n");
      else res.write("data: c\n\n");
    });
    const s = open(server.url);
    expect(s.stats).toEqual({
      events: 0,
      bytes: 0,
      connections: 0,
      reconnects: 0,
      dropped: 0,
      parseErrors: 0,
      lastEventAt: null,
      engine: s.engine,
    });
    const got = record(s);
    await until(() => got.length === 3);
    const stats = s.stats;
    expect(stats.connections).toBe(2);
    expect(stats.reconnects).toBe(1);
    expect(stats.bytes).toBe(18 + 9);
    expect(stats.events).toBe(3);
    expect(typeof stats.lastEventAt).toBe("number");
    expect(s.stats).not.toBe(stats); // a snapshot
  });
});

describe("user fetch", () => {
  test("a user fetch is used, with redirects, Last-Event-ID (UTF-8) and close()", async () => {
    const id = "ключ-€";
    const server = await startServer((req, res, { n }) => {
      if (req.url === "/start") {
        res.writeHead(302, { location: "/s" });
        res.end();
        return;
      }
      sse(res);
      if (n === 2) res.end(`id: ${id}\ndata: first\n\n`);
      else res.write("data: second\n\n");
    });
    const urls: string[] = [];
    const s = open(`${server.url}start`, {
      fetch: (url, init) => {
        urls.push(url);
        expect(init.redirect).toBe("manual");
        return fetch(url, init);
      },
    });
    const got = record(s);
    await until(() => got.length === 2);
    expect(got).toEqual(["first", "second"]);
    expect(urls).toEqual([`${server.url}start`, `${server.url}s`, `${server.url}s`]);
    expect(lastEventIdOf(server.requests[2]!)).toBe(id);
    s.close();
    await sleep(20);
    expect(s.readyState).toBe(EventSource.CLOSED);
  });

  test("the global fetch itself is accepted as the fetch option", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.write("data: via fetch\n\n");
    });
    const s = open(server.url, { fetch });
    const got = record(s);
    await until(() => got.length === 1);
    expect(got).toEqual(["via fetch"]);
  });

  test("a user fetch that rejects is a network error (reconnect)", async () => {
    let calls = 0;
    const s = open("http://127.0.0.1:9/", {
      fetch: async () => {
        calls++;
        throw new TypeError("fetch failed");
      },
      reconnect: { initialDelay: 5, maxAttempts: 2 },
    });
    const errs = errors(s);
    await until(() => s.readyState === EventSource.CLOSED);
    expect(calls).toBe(3);
    expect(errs.map((e) => e.code)).toEqual(["NETWORK", "NETWORK", "MAX_ATTEMPTS"]);
  });

  test("regression: a body error that String() cannot describe still reconnects (NETWORK)", async () => {
    let calls = 0;
    const s = open("http://127.0.0.1:9/", {
      fetch: async () => {
        calls++;
        return {
          status: 200,
          statusText: "OK",
          headers: new Headers({ "content-type": "text/event-stream" }),
          // No toString, no prototype: String(reason) throws.
          body: new ReadableStream({ start: (c) => void setTimeout(() => c.error(Object.create(null)), 5) }),
        };
      },
      reconnect: { initialDelay: 5 },
    });
    const errs = errors(s);
    await until(() => errs.length === 2, 1000, "two errors");
    s.close();
    expect(calls).toBe(2);
    expect(errs.map((e) => `${e.code} ${e.willReconnect}`)).toEqual(["NETWORK true", "NETWORK true"]);
    expect(errs[0]!.message).toContain("cannot be described");
  });

  test("regression: response headers that Headers rejects do not stop the reconnection", async () => {
    let calls = 0;
    const s = open("http://127.0.0.1:9/", {
      fetch: async () => {
        calls++;
        const raw: Record<string, string> = { "content-type": "text/event-stream", "x-bad": "a\u0000b" };
        return {
          status: 200,
          statusText: "OK",
          headers: { get: (name) => raw[name] ?? null, forEach: (cb) => Object.entries(raw).forEach(([n, v]) => cb(v, n)) },
          body: new ReadableStream({ start: (c) => c.close() }),
        };
      },
      reconnect: { initialDelay: 5 },
    });
    const errs = errors(s);
    await until(() => errs.length === 2, 1000, "two errors");
    s.close();
    expect(calls).toBe(2);
    expect(errs.map((e) => e.code)).toEqual(["STREAM_ENDED", "STREAM_ENDED"]);
    expect(errs[0]!.headers!.get("content-type")).toBe("text/event-stream");
    expect(errs[0]!.headers!.has("x-bad")).toBe(false);
  });

  test("regression: fetch transport: a sink that throws in onEnd is reported as an uncaught exception, once", async () => {
    const transport = fetchTransport(async () => ({
      status: 200,
      statusText: "OK",
      headers: new Headers(),
      body: new ReadableStream({ start: (c) => c.close() }),
    }));
    const response = await transport({
      url: new URL("http://127.0.0.1:9/"),
      method: "GET",
      headers: {},
      body: null,
      signal: new AbortController().signal,
    });
    // Not an unhandled rejection (of a promise nobody holds), and not onError after onEnd.
    const saved = process.listeners("uncaughtException");
    process.removeAllListeners("uncaughtException");
    const reported: unknown[] = [];
    process.on("uncaughtException", (e) => reported.push(e));
    const calls: string[] = [];
    try {
      response.read({
        onData: () => calls.push("data"),
        onEnd: () => {
          calls.push("end");
          throw new Error("sink bug");
        },
        onError: () => calls.push("error"),
      });
      await until(() => reported.length === 1, 1000, "the report");
      await sleep(10);
      expect(calls).toEqual(["end"]);
      expect((reported[0] as Error).message).toBe("sink bug");
    } finally {
      process.removeAllListeners("uncaughtException");
      for (const l of saved) process.on("uncaughtException", l);
    }
  });

  test("a user fetch that aborts on its own fails the connection (ABORTED)", async () => {
    const s = open("http://127.0.0.1:9/", {
      fetch: async () => {
        throw new DOMException("aborted", "AbortError");
      },
    });
    const err = await once<EventSourceErrorEvent>(s, "error");
    expect(err.code).toBe("ABORTED");
    expect(s.readyState).toBe(EventSource.CLOSED);
  });
});

describe("async iterator", () => {
  test("for await yields every message and named event; break closes the source", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.write("data: a\n\nevent: tick\ndata: b\n\ndata: c\n\n");
    });
    const s = open(server.url);
    const got: string[] = [];
    for await (const e of s) {
      got.push(`${e.type}:${e.data}`);
      if (got.length === 3) break;
    }
    expect(got).toEqual(["message:a", "tick:b", "message:c"]);
    expect(s.readyState).toBe(EventSource.CLOSED);
  });

  test("types filter", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.write("data: a\n\nevent: tick\ndata: b\n\nevent: other\ndata: c\n\nevent: tick\ndata: d\n\n");
    });
    const s = open<{ tick: MessageEvent<string>; other: MessageEvent<string> }>(server.url);
    const got: string[] = [];
    for await (const e of s.events({ types: ["tick"] })) {
      got.push(e.data);
      if (got.length === 2) break;
    }
    expect(got).toEqual(["b", "d"]);
  });

  test("ends when the source is closed, after the buffered events", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.write("data: a\n\ndata: b\n\n");
    });
    const s = open(server.url);
    const it = s.events();
    await until(() => s.stats.events === 2);
    s.close();
    const got: string[] = [];
    for await (const e of it) got.push(e.data);
    expect(got).toEqual(["a", "b"]);
  });

  test("a waiting iterator ends when close() is called", async () => {
    const server = await startServer((_req, res) => sse(res));
    const s = open(server.url);
    const it = s.events();
    const pending = it.next();
    await once(s, "open");
    s.close();
    expect(await pending).toEqual({ value: undefined, done: true });
  });

  test("resume point: the last consumed event.lastEventId loses nothing (source.lastEventId runs ahead)", async () => {
    const server = await startServer((req, res) => {
      sse(res);
      // Events 1..6, from after the Last-Event-ID the client sent, in one chunk.
      const from = Number(req.headers["last-event-id"] ?? 0) + 1;
      let body = "";
      for (let id = from; id <= 6; id++) body += `id: ${id}\ndata: ${id}\n\n`;
      res.write(body);
    });
    const first = open(server.url);
    let resumeId = "";
    const firstRun: string[] = [];
    for await (const e of first) {
      firstRun.push(e.data);
      resumeId = e.lastEventId;
      if (firstRun.length === 2) break; // the process "stops" here
    }
    expect(firstRun).toEqual(["1", "2"]);
    expect(resumeId).toBe("2");
    // All six were parsed into the iterator's buffer: the spec's value is past the consumer.
    expect(first.lastEventId).toBe("6");
    const second = open(server.url, { lastEventId: resumeId });
    const secondRun: string[] = [];
    for await (const e of second) {
      secondRun.push(e.data);
      if (e.lastEventId === "6") break;
    }
    expect(secondRun).toEqual(["3", "4", "5", "6"]);
    expect(server.requests[1]!.headers["last-event-id"]).toBe("2");
  });

  test("regression: concurrent next() calls each settle, in call order", async () => {
    const server = await startServer((_req, res, { n }) => {
      if (n === 1) {
        sse(res);
        setTimeout(() => res.end("data: a\n\ndata: b\n\n"), 20);
        return;
      }
      res.writeHead(500);
      res.end();
    });
    const s = open(server.url);
    const it = s.events();
    // Three waiting before any event: two get the events, the third the failure.
    const calls = [it.next(), it.next(), it.next(), it.next()];
    const settled = await Promise.race([
      Promise.allSettled(calls),
      sleep(1000).then(() => "some next() never settled"),
    ]);
    expect(settled).toEqual([
      { status: "fulfilled", value: { value: expect.objectContaining({ data: "a" }), done: false } },
      { status: "fulfilled", value: { value: expect.objectContaining({ data: "b" }), done: false } },
      { status: "rejected", reason: expect.objectContaining({ code: "HTTP_STATUS" }) },
      { status: "fulfilled", value: { value: undefined, done: true } },
    ]);
  });

  test("throws an EventSourceError when the source fails for good", async () => {
    const server = await startServer((_req, res, { n }) => {
      if (n === 1) {
        sse(res);
        res.end("data: a\n\n");
        return;
      }
      res.writeHead(403, { "content-type": "text/plain" });
      res.end("no");
    });
    const s = open(server.url);
    const got: string[] = [];
    let thrown: unknown;
    try {
      for await (const e of s) got.push(e.data);
    } catch (e) {
      thrown = e;
    }
    expect(got).toEqual(["a"]);
    expect(thrown).toBeInstanceOf(EventSourceError);
    expect((thrown as EventSourceError).code).toBe("HTTP_STATUS");
    expect((thrown as EventSourceError).status).toBe(403);
  });

  test("an iterator made after a failure throws it; after close() it is done", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(500);
      res.end();
    });
    const s = open(server.url);
    await once(s, "error");
    await expect(s.events().next()).rejects.toBeInstanceOf(EventSourceError);
    const t = open(server.url);
    t.close();
    expect(await t.events().next()).toEqual({ value: undefined, done: true });
  });

  test("backpressure: at maxBuffered the socket is paused, nothing is dropped", async () => {
    const total = 100_000;
    const line = `data: ${"p".repeat(90)}\n\n`;
    let written = 0;
    let blocked = false;
    const server = await startServer((_req, res) => {
      sse(res);
      const pump = (): void => {
        while (written < total) {
          written++;
          if (!res.write(`id: ${written}\n${line}`)) {
            blocked = true;
            res.once("drain", pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const s = open(server.url, { reconnect: { initialDelay: 10, maxAttempts: 0 } });
    const it = s.events({ maxBuffered: 100 });
    await once(s, "open");
    await until(() => blocked, 5000, "the server to be blocked by backpressure");
    await sleep(100);
    // Paused: at most maxBuffered plus one chunk's events (64 KiB / ~100 B) were parsed.
    const dispatched = s.stats.events;
    expect(dispatched).toBeGreaterThanOrEqual(100);
    expect(dispatched).toBeLessThan(100 + 1000);
    expect(written).toBeLessThan(total);
    let count = 0;
    let lastId = "";
    for await (const e of it) {
      count++;
      lastId = e.lastEventId;
      if (count === total) break;
    }
    expect(count).toBe(total);
    expect(lastId).toBe(String(total));
  });
});

describe("async iterator over a user fetch", () => {
  test("backpressure pauses the fetch body reader too", async () => {
    const total = 30_000;
    let written = 0;
    let blocked = false;
    const server = await startServer((_req, res) => {
      sse(res);
      const pump = (): void => {
        while (written < total) {
          written++;
          if (!res.write(`data: ${written} ${"q".repeat(200)}\n\n`)) {
            blocked = true;
            res.once("drain", pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const s = open(server.url, { fetch, reconnect: { maxAttempts: 0 } });
    const it = s.events({ maxBuffered: 50 });
    await until(() => blocked, 5000, "backpressure to reach the server");
    await sleep(100);
    expect(s.stats.events).toBeLessThan(50 + 1000);
    expect(written).toBeLessThan(total);
    let count = 0;
    for await (const e of it) {
      count++;
      expect(e.data.startsWith(`${count} `)).toBe(true);
      if (count === total) break;
    }
    expect(count).toBe(total);
  });
});

describe("typing", () => {
  test("named events are typed through the Events map", () => {
    const s = new EventSource<{ tick: MessageEvent<string> }>("http://127.0.0.1:1/");
    s.close();
    s.addEventListener("tick", (e) => {
      const data: string = e.data;
      void data;
    });
    s.addEventListener("error", (e) => {
      const code: string = e.code;
      void code;
    });
    s.addEventListener("anything", (e: Event) => void e);
    expect(true).toBe(true);
  });
});
