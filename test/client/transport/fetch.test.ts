/**
 * The fetch transport (src/client/transport/fetch.ts): a user fetch option, through
 * EventSource against real node:http servers on 127.0.0.1; and fetches whose body is not a
 * ReadableStream (a Node Readable, as node-fetch returns, an async iterable, a string).
 */
import { Readable } from "node:stream";
import { afterEach, describe, expect, test } from "vitest";
import { EventSource, EventSourceErrorEvent } from "../../../src/index.js";
import { fetchTransport } from "../../../src/client/transport/fetch.js";
import { lastEventIdOf, once, sleep, sse, startServer, until } from "../../support/server.js";
import { closeSources, errors, open, record } from "../../support/sources.js";
import { fakeFetch } from "../../support/fake-fetch.js";

afterEach(closeSources);

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
