/**
 * Which event types have listeners, so that a source makes a MessageEvent (and dispatches it)
 * only when someone can receive it: making Node's Event and dispatching it cost about 100 ns per
 * event end to end (listeners against `batches()`, README "Benchmarks"), more than the parser,
 * and a `batches()` consumer needs neither. EventTarget has no
 * public way to ask (Node's `events.getEventListeners` is Node-only and builds an array per
 * call), so the source keeps this book from its own addEventListener/removeEventListener.
 *
 * The book may count a listener that is gone (a `once` listener after it ran: EventTarget
 * removes it unseen), which only costs speed; it never misses one that is there, which would
 * lose events.
 */
import { watchAbort } from "./abort.js";
import type { EventSourceAddListenerOptions, EventSourceListener } from "./types.js";

interface Entry {
  readonly listener: EventSourceListener;
  readonly capture: boolean;
  /** Stops watching the listener's `signal`. */
  unwatch?: (() => void) | undefined;
}

/** Types whose listeners also get the source's own events (and a server's `event: error`). */
const BUILT_IN = (type: string): boolean => type === "error" || type === "open";

export class ListenerBook {
  readonly #entries = new Map<string, Entry[]>();
  /** Listeners of message and named event types (any type but "open" and "error"). */
  messageTypes = 0;
  /** Listeners of "open" and "error". */
  builtInTypes = 0;

  readonly #onChange: () => void;

  /** @param onChange - called after the counts changed. */
  constructor(onChange: () => void) {
    this.#onChange = onChange;
  }

  /** After EventTarget's addEventListener accepted the listener. */
  added(type: string, listener: EventSourceListener | null, options?: boolean | EventSourceAddListenerOptions): void {
    if (listener === null || typeof listener !== "object" && typeof listener !== "function") return;
    const signal = typeof options === "object" && options !== null ? options.signal : undefined;
    // An aborted signal: EventTarget did not add it.
    if (signal?.aborted) return;
    const capture = captureOf(options);
    let list = this.#entries.get(type);
    if (list === undefined) this.#entries.set(type, (list = []));
    // The same (type, listener, capture) twice is one listener.
    if (list.some((e) => e.listener === listener && e.capture === capture)) return;
    const entry: Entry = { listener, capture };
    list.push(entry);
    this.#count(type, 1);
    // Node's EventTarget removes such a listener through removeEventListener, the DOM's does
    // not: watched here too (one shared "abort" listener per signal, see abort.ts).
    if (signal !== undefined) entry.unwatch = watchAbort(signal, () => this.removed(type, listener, capture));
  }

  removed(type: string, listener: EventSourceListener | null, options?: boolean | EventSourceAddListenerOptions): void {
    const list = this.#entries.get(type);
    if (list === undefined || listener === null) return;
    const capture = captureOf(options);
    const i = list.findIndex((e) => e.listener === listener && e.capture === capture);
    if (i === -1) return;
    list[i]!.unwatch?.();
    list.splice(i, 1);
    if (list.length === 0) this.#entries.delete(type);
    this.#count(type, -1);
  }

  #count(type: string, delta: number): void {
    if (BUILT_IN(type)) this.builtInTypes += delta;
    else this.messageTypes += delta;
    this.#onChange();
  }
}

function captureOf(options: boolean | EventSourceAddListenerOptions | undefined): boolean {
  return typeof options === "boolean" ? options : Boolean(options?.capture);
}

/**
 * Gives `proto` an addEventListener and a removeEventListener that keep the book of each
 * instance (`bookOf`) as well as doing EventTarget's work.
 */
export function trackListeners(proto: EventTarget, bookOf: (target: EventTarget) => ListenerBook | null): void {
  const { addEventListener, removeEventListener } = EventTarget.prototype;
  Object.defineProperties(proto, {
    addEventListener: {
      value: function (this: EventTarget, type: string, listener: EventSourceListener | null, options?: boolean | EventSourceAddListenerOptions) {
        addEventListener.call(this, type, listener as EventListener | null, options);
        bookOf(this)?.added(String(type), listener, options);
      },
      writable: true,
      configurable: true,
    },
    removeEventListener: {
      value: function (this: EventTarget, type: string, listener: EventSourceListener | null, options?: boolean | EventSourceAddListenerOptions) {
        removeEventListener.call(this, type, listener as EventListener | null, options);
        bookOf(this)?.removed(String(type), listener, options);
      },
      writable: true,
      configurable: true,
    },
  });
}
