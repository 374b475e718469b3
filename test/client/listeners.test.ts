// The listener book (src/client/listeners.ts): which event types have listeners, kept from
// addEventListener and removeEventListener as EventTarget counts them (same listener and
// capture once, signals, handler objects), so that a source makes a MessageEvent only when one
// can be received.
import { getEventListeners } from "node:events";
import { describe, expect, test } from "vitest";
import { ListenerBook, trackListeners } from "../../src/client/listeners.js";

/** An EventTarget whose book is kept by trackListeners, as EventSource's is. */
function tracked() {
  class Target extends EventTarget {
    changes = 0;
    readonly book = new ListenerBook(() => this.changes++);
  }
  trackListeners(Target.prototype, (t) => (t as Target).book);
  return new Target();
}
const counts = (t: ReturnType<typeof tracked>) => [t.book.messageTypes, t.book.builtInTypes];

describe("ListenerBook through trackListeners", () => {
  test("message and named types count apart from open and error; removal counts down", () => {
    const t = tracked();
    const a = () => {};
    const b = () => {};
    t.addEventListener("message", a);
    t.addEventListener("tick", b);
    t.addEventListener("open", a);
    t.addEventListener("error", b);
    expect(counts(t)).toEqual([2, 2]);
    t.removeEventListener("tick", b);
    t.removeEventListener("open", a);
    expect(counts(t)).toEqual([1, 1]);
    expect(t.changes).toBe(6);
    t.dispatchEvent(new Event("message"));
  });

  test("the same listener and capture twice is one; another capture is another; removal needs the same capture", () => {
    const t = tracked();
    const a = () => {};
    t.addEventListener("tick", a);
    t.addEventListener("tick", a, { once: false });
    expect(counts(t)).toEqual([1, 0]);
    t.addEventListener("tick", a, true);
    expect(counts(t)).toEqual([2, 0]);
    t.removeEventListener("tick", a, { capture: true });
    expect(counts(t)).toEqual([1, 0]);
    t.removeEventListener("tick", a, true);
    expect(counts(t)).toEqual([1, 0]);
    t.removeEventListener("tick", a, false);
    expect(counts(t)).toEqual([0, 0]);
  });

  test("removing what was never added, or null, changes nothing", () => {
    const t = tracked();
    t.addEventListener("tick", () => {});
    t.removeEventListener("tick", () => {});
    t.removeEventListener("other", () => {});
    t.removeEventListener("tick", null);
    t.addEventListener("tick", null);
    expect(counts(t)).toEqual([1, 0]);
    expect(t.changes).toBe(1);
  });

  test("a handler object counts as a listener, as EventTarget takes it", () => {
    const t = tracked();
    const seen: string[] = [];
    const handler = { handleEvent: (e: Event) => seen.push(e.type) };
    t.addEventListener("tick", handler);
    t.dispatchEvent(new Event("tick"));
    expect(seen).toEqual(["tick"]);
    expect(counts(t)).toEqual([1, 0]);
    t.removeEventListener("tick", handler);
    expect(counts(t)).toEqual([0, 0]);
  });

  test("an already aborted signal adds nothing; aborting a signal removes its listeners, through one abort listener", () => {
    const t = tracked();
    t.addEventListener("tick", () => {}, { signal: AbortSignal.abort() });
    expect(counts(t)).toEqual([0, 0]);
    const controller = new AbortController();
    const plain = new AbortController();
    const other = new EventTarget();
    for (let i = 0; i < 15; i++) {
      t.addEventListener(i % 2 ? "tick" : "error", () => {}, { signal: controller.signal });
      other.addEventListener("tick", () => {}, { signal: plain.signal });
    }
    expect(counts(t)).toEqual([7, 8]);
    // The runtime's EventTarget may watch the signal itself; the book adds one listener in all.
    const own = getEventListeners(plain.signal, "abort").length;
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(own + 1);
    controller.abort();
    expect(counts(t)).toEqual([0, 0]);
  });

  test("a listener removed by hand stops watching its signal", () => {
    const t = tracked();
    const controller = new AbortController();
    const plain = new AbortController();
    const other = new EventTarget();
    const a = () => {};
    t.addEventListener("tick", a, { signal: controller.signal });
    other.addEventListener("tick", a, { signal: plain.signal });
    t.removeEventListener("tick", a);
    other.removeEventListener("tick", a);
    const own = getEventListeners(plain.signal, "abort").length;
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(own);
    t.addEventListener("tick", () => {});
    controller.abort();
    expect(counts(t)).toEqual([1, 0]);
  });

  test("the type is a string, as EventTarget takes it", () => {
    const t = tracked();
    t.addEventListener(1 as never, () => {});
    expect(counts(t)).toEqual([1, 0]);
    t.addEventListener({ toString: () => "error" } as never, () => {});
    expect(counts(t)).toEqual([1, 1]);
  });

  test("the listeners are EventTarget's too, and a target without a book still works", () => {
    class Plain extends EventTarget {}
    trackListeners(Plain.prototype, () => null);
    const p = new Plain();
    const seen: string[] = [];
    const a = () => seen.push("a");
    p.addEventListener("tick", a);
    p.dispatchEvent(new Event("tick"));
    p.removeEventListener("tick", a);
    p.dispatchEvent(new Event("tick"));
    expect(seen).toEqual(["a"]);
  });
});
