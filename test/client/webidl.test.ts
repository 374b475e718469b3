// WebIDL and HTML plumbing (src/client/webidl.ts): event handler IDL attributes, the shape of
// an interface's constants and members, and the EventSource constructor's URL steps.
import { describe, expect, test } from "vitest";
import { defineInterface, EventHandlers, parseEventSourceURL } from "../../src/client/webidl.js";

describe("EventHandlers", () => {
  const setup = () => {
    const target = new EventTarget();
    const seen: string[] = [];
    const told: [string, boolean][] = [];
    const handlers = new EventHandlers(target, (type, _listener, added) => told.push([type, added]));
    const listen = (name: string) => target.addEventListener("ping", () => seen.push(name));
    return { target, seen, told, handlers, listen };
  };

  test("the first value adds one listener; a later value replaces the callback in that place", () => {
    const { target, seen, told, handlers, listen } = setup();
    listen("a");
    handlers.set("ping", () => seen.push("h1"));
    listen("b");
    target.dispatchEvent(new Event("ping"));
    handlers.set("ping", () => seen.push("h2"));
    target.dispatchEvent(new Event("ping"));
    expect(seen).toEqual(["a", "h1", "b", "a", "h2", "b"]);
    expect(told).toEqual([["ping", true]]);
  });

  test("null removes the listener; a later value goes to the end of the list", () => {
    const { target, seen, told, handlers, listen } = setup();
    handlers.set("ping", () => seen.push("h"));
    listen("a");
    handlers.set("ping", null);
    expect(handlers.get("ping")).toBeNull();
    target.dispatchEvent(new Event("ping"));
    handlers.set("ping", () => seen.push("h"));
    target.dispatchEvent(new Event("ping"));
    expect(seen).toEqual(["a", "a", "h"]);
    expect(told).toEqual([
      ["ping", true],
      ["ping", false],
      ["ping", true],
    ]);
  });

  test("anything not callable counts as null ([LegacyTreatNonObjectAsNull]); get returns the function", () => {
    const { target, seen, handlers } = setup();
    const fn = () => seen.push("h");
    handlers.set("ping", fn);
    expect(handlers.get("ping")).toBe(fn);
    handlers.set("ping", { handleEvent: () => seen.push("object") });
    expect(handlers.get("ping")).toBeNull();
    handlers.set("ping", "alert(1)");
    target.dispatchEvent(new Event("ping"));
    expect(seen).toEqual([]);
    expect(handlers.get("pong")).toBeNull();
  });

  test("the handler is called with the target as this, and the event", () => {
    const { target, handlers } = setup();
    const calls: [unknown, Event][] = [];
    handlers.set("ping", function (this: unknown, event: Event) {
      calls.push([this, event]);
    });
    const event = new Event("ping");
    target.dispatchEvent(event);
    expect(calls).toEqual([[target, event]]);
  });

  test("a subclass's own addEventListener is not used (the prototype's is)", () => {
    class Noisy extends EventTarget {
      added = 0;
      override addEventListener(...args: Parameters<EventTarget["addEventListener"]>): void {
        this.added++;
        super.addEventListener(...args);
      }
    }
    const target = new Noisy();
    new EventHandlers(target).set("ping", () => {});
    expect(target.added).toBe(0);
  });
});

describe("defineInterface", () => {
  test("constants on the class and the prototype: read-only, enumerable, not configurable; members enumerable", () => {
    class Thing {
      get size(): number {
        return 1;
      }
      run(): number {
        return 2;
      }
    }
    defineInterface(Thing, { ONE: 1, TWO: 2 }, ["size", "run"]);
    for (const target of [Thing, Thing.prototype]) {
      expect(Object.getOwnPropertyDescriptor(target, "TWO")).toEqual({ value: 2, writable: false, enumerable: true, configurable: false });
    }
    expect(Object.keys(Thing.prototype)).toEqual(["size", "run", "ONE", "TWO"]);
    expect(new Thing().size).toBe(1);
    expect(new Thing().run()).toBe(2);
    expect(() => {
      (Thing as unknown as { ONE: number }).ONE = 5;
    }).toThrow(TypeError);
  });
});

describe("parseEventSourceURL", () => {
  test("an absolute http(s) URL, from anything with a toString", () => {
    expect(parseEventSourceURL("http://127.0.0.1:8080/a b").href).toBe("http://127.0.0.1:8080/a%20b");
    expect(parseEventSourceURL(new URL("https://example.com/x")).href).toBe("https://example.com/x");
    expect(parseEventSourceURL({ toString: () => "http://example.com/y" }).href).toBe("http://example.com/y");
  });

  test("lone surrogates become U+FFFD (USVString)", () => {
    expect(parseEventSourceURL("http://example.com/\uD800").pathname).toBe("/%EF%BF%BD");
  });

  test("a relative URL with no base, an invalid URL and another scheme are SyntaxError DOMExceptions", () => {
    for (const url of ["/feed", "http://", "ftp://example.com/", "data:text/event-stream,x"]) {
      let error: unknown;
      try {
        parseEventSourceURL(url);
      } catch (e) {
        error = e;
      }
      expect(error, url).toBeInstanceOf(DOMException);
      expect((error as DOMException).name).toBe("SyntaxError");
    }
    expect(() => parseEventSourceURL("ftp://example.com/")).toThrow(/scheme must be http or https, got "ftp:"/);
  });

  test("a relative URL resolves against the page's base URL where there is one", () => {
    const g = globalThis as { location?: unknown };
    g.location = { href: "https://example.com/app/page.html" };
    try {
      expect(parseEventSourceURL("feed?x=1").href).toBe("https://example.com/app/feed?x=1");
    } finally {
      delete g.location;
    }
  });

  test("a Symbol is a TypeError, not a string", () => {
    expect(() => parseEventSourceURL(Symbol("u"))).toThrow(TypeError);
  });
});
