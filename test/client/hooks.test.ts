/**
 * The lifecycle hooks (the `on` option, src/client/hooks.ts) against real node:http servers
 * on 127.0.0.1.
 */
import { afterEach, describe, expect, test } from "vitest";
import type { OpenInfo } from "../../src/index.js";
import { sse, startServer, until } from "../support/server.js";
import { closeSources, open } from "../support/sources.js";

afterEach(closeSources);

describe("hooks", () => {
  test("open: final URL after redirects, status, headers, connection count", async () => {
    const server = await startServer((req, res) => {
      if (req.url === "/") {
        res.writeHead(302, { location: "/feed" });
        res.end();
        return;
      }
      sse(res, { "x-feed": "ticks" });
      res.end("data: x\n\n");
    });
    const opened: OpenInfo[] = [];
    const s = open(server.url, { reconnect: { initialDelay: 5 }, on: { open: (info) => opened.push(info) } });
    await until(() => opened.length === 2);
    expect(opened.map((o) => [o.url, o.status, o.headers.get("x-feed"), o.connections])).toEqual([
      [`${server.origin}/feed`, 200, "ticks", 1],
      [`${server.origin}/feed`, 200, "ticks", 2],
    ]);
    expect(() => open(server.url, { on: { open: 1 as never } })).toThrow(TypeError);
  });
});
