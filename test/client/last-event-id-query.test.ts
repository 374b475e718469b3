// The `lastEventIdQuery` option: the last event ID in the URL's query instead of the header
// (a cross-origin source in a browser then reconnects without a CORS preflight).
import { afterEach, describe, expect, test } from "vitest";
import { EventSource } from "../../src/index.js";
import { sse, startServer, until } from "../support/server.js";
import { closeSources, open, record } from "../support/sources.js";

afterEach(closeSources);

describe("lastEventIdQuery", () => {
  test("reconnections carry the id as the parameter, not as Last-Event-ID; the rest of the query keeps its bytes", async () => {
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      res.end(`retry: 10\nid: ${n === 1 ? "a b&é" : n}\ndata: ${n}\n\n`);
    });
    const s = open(`${server.url}feed?x=%20y&lastEventId=stale&z`, { lastEventIdQuery: "lastEventId" });
    const got = record(s);
    await until(() => got.length === 3, 3000, "three connections");
    s.close();
    expect(server.requests.slice(0, 3).map((r) => r.url)).toEqual([
      "/feed?x=%20y&lastEventId=stale&z",
      "/feed?x=%20y&z&lastEventId=a+b%26%C3%A9",
      "/feed?x=%20y&z&lastEventId=2",
    ]);
    for (const r of server.requests) expect(r.headers["last-event-id"]).toBeUndefined();
    expect(new URL(server.requests[1]!.url, server.url).searchParams.get("lastEventId")).toBe("a b&é");
  });

  test("the lastEventId option goes in the first request's query", async () => {
    const server = await startServer((_req, res) => sse(res));
    const s = open(server.url, { lastEventId: "41", lastEventIdQuery: "since" });
    await until(() => server.requests.length === 1);
    s.close();
    expect(server.requests[0]!.url).toBe("/?since=41");
  });

  test.each([[""], [5], [{}]])("refuses %j", (value) => {
    expect(() => new EventSource("http://127.0.0.1:9/", { lastEventIdQuery: value as string })).toThrow(TypeError);
  });
});
