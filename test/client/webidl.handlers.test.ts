// Event handler attributes (`onmessage`...) run once per event, on platforms whose
// EventTarget calls `on<type>` itself (workerd) as well as on those that do not (Node,
// browsers). workerd's behaviour is reproduced by a base class whose dispatchEvent does it.
import { describe, expect, test } from "vitest";
import { dispatchCallsHandlers } from "../../src/client/handler-probe.js";
import { EventHandlers } from "../../src/client/webidl.js";

/** An EventTarget that calls the target's `on<type>` property before its listeners, as workerd's does. */
class CallingEventTarget extends EventTarget {
  override dispatchEvent(event: Event): boolean {
    const handler = (this as unknown as Record<string, unknown>)[`on${event.type}`];
    if (typeof handler === "function") handler.call(this, event);
    return super.dispatchEvent(event);
  }
}

function source(Base: typeof EventTarget, platformCalls?: boolean) {
  const book: [string, boolean][] = [];
  class Source extends Base {
    readonly handlers = new EventHandlers(this, (type, _listener, added) => book.push([type, added]), platformCalls);
    get onmessage(): unknown {
      return this.handlers.get("message");
    }
    set onmessage(fn: unknown) {
      this.handlers.set("message", fn);
    }
  }
  return { target: new Source(), book };
}

describe("dispatchCallsHandlers", () => {
  test("false for Node's EventTarget, true for one that calls on<type>", () => {
    expect(dispatchCallsHandlers(EventTarget)).toBe(false);
    expect(dispatchCallsHandlers(CallingEventTarget)).toBe(true);
  });
});

describe.each([
  ["Node's EventTarget", EventTarget],
  ["an EventTarget that calls on<type> itself", CallingEventTarget],
] as const)("EventHandlers on %s", (_name, Base) => {
  test("a handler runs once per event, and the book is told it was added and removed", () => {
    const { target, book } = source(Base, dispatchCallsHandlers(Base));
    let calls = 0;
    target.onmessage = () => void calls++;
    target.dispatchEvent(new Event("message"));
    expect(calls).toBe(1);
    target.onmessage = null;
    target.dispatchEvent(new Event("message"));
    expect(calls).toBe(1);
    expect(book).toEqual([
      ["message", true],
      ["message", false],
    ]);
  });

  test("a replaced handler keeps its place: the new one runs, once, and the old one not at all", () => {
    const { target } = source(Base, dispatchCallsHandlers(Base));
    const calls: string[] = [];
    target.onmessage = () => void calls.push("first");
    target.onmessage = () => void calls.push("second");
    target.dispatchEvent(new Event("message"));
    expect(calls).toEqual(["second"]);
  });
});

test("the flag decides: on Node's EventTarget with platformCalls, no listener is added", () => {
  const { target } = source(EventTarget, true);
  let calls = 0;
  target.onmessage = () => void calls++;
  target.dispatchEvent(new Event("message"));
  expect(calls).toBe(0);
});
