/**
 * HTML "fail the connection": the responses that close the source for good (no reconnection),
 * against real node:http servers on 127.0.0.1.
 */
import { afterEach, describe, expect, test } from "vitest";
import { EventSource, EventSourceErrorEvent } from "../../src/index.js";
import { once, sleep, startServer, until } from "../support/server.js";
import { closeSources, open, record } from "../support/sources.js";

afterEach(closeSources);

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
