// What a feed user does about a connection that is alive but useless: eventTimeout (a stalled
// server behind a proxy that keeps sending heartbeats), reconnect() (after a network change),
// and a 204 (the server's "stop"), each against a real node:http server on 127.0.0.1.
import { afterEach, describe, expect, test } from "vitest";
import { EventSource, type EventSourceErrorEvent } from "../../src/index.js";
import { lastEventIdOf, once, sleep, sse, startServer, until } from "../support/server.js";
import { closeSources, errors, open, record } from "../support/sources.js";

afterEach(closeSources);

/** One event per connection (id = the connection's number), then only `:` heartbeats. */
async function stalledFeed() {
  return startServer((_req, res, { n }) => {
    sse(res);
    res.write(`id: ${n}\ndata: ${n}\n\n`);
    const t = setInterval(() => res.write(":\n"), 10);
    res.on("close", () => clearInterval(t));
  });
}

describe("eventTimeout", () => {
  test("heartbeats without events: EVENT_TIMEOUT, then a reconnection with Last-Event-ID", async () => {
    const server = await stalledFeed();
    const s = open(server.url, { eventTimeout: 150 });
    const got = record(s);
    const err = await once<EventSourceErrorEvent>(s, "error");
    expect(err.code).toBe("EVENT_TIMEOUT");
    expect(err.willReconnect).toBe(true);
    await until(() => got.length === 2);
    expect(got).toEqual(["1", "2"]);
    expect(lastEventIdOf(server.requests[1]!)).toBe("1");
  });

  test("idleTimeout alone never trips on the same feed (it counts bytes)", async () => {
    const server = await stalledFeed();
    const s = open(server.url, { idleTimeout: 100 });
    const errs = errors(s);
    await once(s, "open");
    await sleep(400);
    expect(errs).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  test("a feed whose events keep coming is not dropped", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      let i = 0;
      const t = setInterval(() => res.write(`data: ${i++}\n\n`), 20);
      res.on("close", () => clearInterval(t));
    });
    const s = open(server.url, { eventTimeout: 150 });
    const errs = errors(s);
    await once(s, "open");
    await sleep(500);
    expect(errs).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  test("a bad value throws at construction", () => {
    expect(() => new EventSource("http://127.0.0.1:1/", { eventTimeout: -1 })).toThrow(/eventTimeout/);
    expect(() => new EventSource("http://127.0.0.1:1/", { eventTimeout: Number.NaN })).toThrow(/eventTimeout/);
  });
});

describe("reconnect()", () => {
  test("drops an open connection and connects again at once, with Last-Event-ID and no error event", async () => {
    const server = await stalledFeed();
    const s = open(server.url, { reconnect: { initialDelay: 60_000 } });
    const got = record(s);
    const errs = errors(s);
    await until(() => got.length === 1);
    s.reconnect();
    expect(s.readyState).toBe(EventSource.CONNECTING);
    await until(() => got.length === 2);
    expect(got).toEqual(["1", "2"]);
    expect(lastEventIdOf(server.requests[1]!)).toBe("1");
    expect(errs).toEqual([]);
    expect(s.stats.reconnects).toBe(1);
    expect(s.stats.connections).toBe(2);
  });

  test("while waiting out a reconnection delay, connects now instead", async () => {
    const server = await startServer((_req, res, { n }) => {
      if (n === 1) {
        res.writeHead(503).end();
        return;
      }
      sse(res);
      // Then the stream ends: the next reconnection must wait 10 ms, not the old timer.
      res.end("retry: 10\ndata: back\n\n");
    });
    const s = open(server.url, { reconnect: { initialDelay: 60_000, retryStatuses: [503] } });
    const got = record(s);
    await once(s, "error");
    expect(s.readyState).toBe(EventSource.CONNECTING);
    s.reconnect();
    await until(() => got.length === 2, 2000);
    expect(server.requests).toHaveLength(3);
  });

  test("from a listener: the rest of the chunk is dropped, and the next connection resumes after the event", async () => {
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      res.write(n === 1 ? "id: a\ndata: 1\n\nid: b\ndata: 2\n\n" : "data: again\n\n");
    });
    const s = open(server.url);
    const got: string[] = [];
    s.addEventListener("message", (e) => {
      got.push(e.data);
      if (e.data === "1") s.reconnect();
    });
    await until(() => got.length === 2);
    expect(got).toEqual(["1", "again"]);
    expect(lastEventIdOf(server.requests[1]!)).toBe("a");
    // The dropped rest of the chunk moved nothing: a resume from here skips no event.
    expect(s.lastEventId).toBe("a");
  });

  test("no effect on a closed source", async () => {
    const server = await stalledFeed();
    const s = open(server.url);
    await once(s, "open");
    s.close();
    s.reconnect();
    expect(s.readyState).toBe(EventSource.CLOSED);
    await sleep(100);
    expect(server.requests).toHaveLength(1);
  });
});

describe("204 No Content", () => {
  async function noContent() {
    return startServer((_req, res) => void res.writeHead(204).end());
  }

  test("events() and batches() end without throwing; the error event still fires", async () => {
    const server = await noContent();
    const s = open(server.url);
    const errs = errors(s);
    const events: unknown[] = [];
    const batches: unknown[] = [];
    await Promise.all([
      (async () => {
        for await (const event of s.events()) events.push(event);
      })(),
      (async () => {
        for await (const batch of s.batches()) batches.push(batch);
      })(),
    ]);
    expect(events).toEqual([]);
    expect(batches).toEqual([]);
    expect(errs.map((e) => [e.code, e.status, e.willReconnect])).toEqual([["HTTP_STATUS", 204, false]]);
    expect(s.readyState).toBe(EventSource.CLOSED);
  });

  test("any other failing status still makes iterators throw", async () => {
    const server = await startServer((_req, res) => void res.writeHead(404).end());
    const s = open(server.url);
    await expect(
      (async () => {
        for await (const _ of s.events());
      })(),
    ).rejects.toMatchObject({ code: "HTTP_STATUS", status: 404 });
  });
});
