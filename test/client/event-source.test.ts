/**
 * EventSource's interface against real node:http servers on 127.0.0.1 (port 0): the
 * constructor, constants, handlers and the MessageEvents it makes; a throwing listener.
 */
import { afterEach, describe, expect, test } from "vitest";
import { EventSource, type EventSourceMessageEvent } from "../../src/index.js";
import { once, sse, startServer, until } from "../support/server.js";
import { closeSources, open } from "../support/sources.js";

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
