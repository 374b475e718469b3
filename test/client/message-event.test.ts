// The MessageEvent a source makes (src/client/message-event.ts): to a listener it is the
// runtime's own MessageEvent, whichever way it is built.
import { describe, expect, test } from "vitest";
import { makeMessageEvent } from "../../src/client/message-event.js";

describe("makeMessageEvent", () => {
  const e = makeMessageEvent("tick", "42", "http://127.0.0.1:8080", "7");

  test("the type, data, origin and lastEventId given; no source, no ports", () => {
    expect([e.type, e.data, e.origin, e.lastEventId]).toEqual(["tick", "42", "http://127.0.0.1:8080", "7"]);
    expect((e as MessageEvent).source).toBeNull();
    expect((e as MessageEvent).ports).toEqual([]);
    expect(Object.isFrozen((e as MessageEvent).ports)).toBe(true);
  });

  test("an instance of MessageEvent and Event, whose constructor is MessageEvent", () => {
    expect(e).toBeInstanceOf(MessageEvent);
    expect(e).toBeInstanceOf(Event);
    expect(e.constructor).toBe(MessageEvent);
    expect(Object.prototype.toString.call(e)).toBe(Object.prototype.toString.call(new MessageEvent("x")));
  });

  test("read through MessageEvent.prototype's own getters where the runtime's would be", () => {
    for (const name of ["type", "bubbles", "cancelable", "defaultPrevented", "timeStamp"] as const) {
      const getter = Object.getOwnPropertyDescriptor(Event.prototype, name)!.get!;
      expect(() => getter.call(e), name).not.toThrow();
    }
    expect([e.bubbles, e.cancelable, e.defaultPrevented]).toEqual([false, false, false]);
  });

  test("its attributes are read-only", () => {
    expect(() => {
      (e as { data: string }).data = "changed";
    }).toThrow(TypeError);
    expect(e.data).toBe("42");
  });

  test("dispatched through an EventTarget like any event; each call makes a new event", () => {
    const target = new EventTarget();
    const seen: unknown[] = [];
    target.addEventListener("tick", (event) => seen.push([event === e, event.target === target, (event as MessageEvent).data]));
    target.dispatchEvent(e);
    expect(seen).toEqual([[true, true, "42"]]);
    const again = makeMessageEvent("tick", "42", "http://127.0.0.1:8080", "7");
    expect(again).not.toBe(e);
    expect(again.data).toBe("42");
  });

  test("data keeps every character: empty, NUL, lone surrogates, line ends", () => {
    for (const data of ["", "\0", "\uD800", "a\nb\r\nc", "€".repeat(1000)]) {
      expect(makeMessageEvent("message", data, "null", "").data).toBe(data);
    }
  });
});
