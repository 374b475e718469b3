/**
 * close() and the signal option: what a closed source no longer does, against real node:http
 * servers on 127.0.0.1.
 */
import { getEventListeners } from "node:events";
import { afterEach, describe, expect, test } from "vitest";
import { EventSource } from "../../src/index.js";
import { once, sleep, sse, startServer, until } from "../support/server.js";
import { closeSources, errors, open } from "../support/sources.js";

afterEach(closeSources);

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
