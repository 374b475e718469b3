/**
 * The async iterator (events(), for await): order, filters, the end, errors, backpressure,
 * against real node:http servers on 127.0.0.1.
 */
import { afterEach, describe, expect, test } from "vitest";
import { EventSource, EventSourceError } from "../../src/index.js";
import { once, sleep, sse, startServer, until } from "../support/server.js";
import { closeSources, open } from "../support/sources.js";

afterEach(closeSources);

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
