/**
 * The lifecycle hooks (the `on` option, src/client/lifecycle.ts): Lifecycle on its own, then
 * through EventSource against real node:http servers on 127.0.0.1.
 */
import { afterEach, describe, expect, test } from "vitest";
import { EventSourceError } from "../../src/client/errors.js";
import { Lifecycle } from "../../src/client/lifecycle.js";
import type { GiveUpInfo, OpenInfo, ReconnectInfo } from "../../src/index.js";
import { sse, startServer, until } from "../support/server.js";
import { closeSources, open } from "../support/sources.js";
import { uncaughtDuring } from "../support/uncaught.js";

afterEach(closeSources);

describe("Lifecycle", () => {
  const response = { status: 200, statusText: "OK", headers: () => new Headers({ "x-feed": "1" }) } as never;
  const failure = { code: "HTTP_STATUS" as const, message: "status 503", status: 503 };

  test("each hook is called with its info", () => {
    const calls: [string, unknown][] = [];
    const hooks = new Lifecycle({
      open: (info: OpenInfo) => calls.push(["open", [info.url, info.status, info.headers.get("x-feed"), info.connections]]),
      reconnect: (info: ReconnectInfo) =>
        calls.push(["reconnect", [info.attempt, info.delay, info.reason, info.error.message, info.error.status, info.retryAfter]]),
      giveUp: (info: GiveUpInfo) => calls.push(["giveUp", [info.attempts, info.error.code]]),
    });
    hooks.opened("http://127.0.0.1:1/feed", response, 3);
    hooks.reconnecting(2, 1500, failure, 1000);
    hooks.gaveUp(5, new EventSourceError({ code: "MAX_ATTEMPTS", message: "gave up" }));
    expect(calls).toEqual([
      ["open", ["http://127.0.0.1:1/feed", 200, "1", 3]],
      ["reconnect", [2, 1500, "HTTP_STATUS", "status 503", 503, 1000]],
      ["giveUp", [5, "MAX_ATTEMPTS"]],
    ]);
  });

  test("without hooks nothing is called; a hook that throws is reported, and the caller goes on", async () => {
    const none = new Lifecycle(undefined);
    expect(() => none.opened("http://127.0.0.1:1/", response, 1)).not.toThrow();
    const boom = new Error("hook failed");
    const hooks = new Lifecycle({
      open: () => {
        throw boom;
      },
      reconnect: () => {
        throw boom;
      },
    });
    let after = 0;
    const errors = await uncaughtDuring(() => {
      hooks.opened("http://127.0.0.1:1/", response, 1);
      after++;
      hooks.reconnecting(1, 10, failure, undefined);
      after++;
      hooks.gaveUp(1, new EventSourceError(failure));
      after++;
    });
    expect(after).toBe(3);
    expect(errors).toEqual([boom, boom]);
  });

  test("a hook that is not a function is refused where the source is made", () => {
    expect(() => new Lifecycle({ reconnect: 5 } as never)).toThrow(new TypeError("on.reconnect must be a function"));
  });
});

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
