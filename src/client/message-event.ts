/**
 * The MessageEvent a source dispatches and its `events()` iterators yield.
 *
 * Node's and Deno's MessageEvent are script classes that rework their init dictionary on
 * every construction, on top of `Event`'s own constructor: Node 20's copies `ports` into a
 * new array and re-stringifies `origin` and `lastEventId`; Node 22+ runs undici's WebIDL
 * conversion of the dictionary. Where the runtime's MessageEvent is such a script class, a
 * source makes instead an `Event` whose prototype chain runs through `MessageEvent.prototype`,
 * with its own `data`, `origin`, `lastEventId`, `source` and `ports`: to a listener it is a
 * MessageEvent (instanceof, every attribute, dispatch through the runtime's own EventTarget);
 * only the rework is skipped, which for the values a source passes (strings, no ports)
 * changes nothing. Instructions per event end to end, a `tick` listener
 * (bench/callgrind-e2e.mjs): 4,029 -> 3,718 on Node 20, 10,968 -> 4,108 on Node 22. Where
 * the runtime's MessageEvent is native (browsers, Bun) it is cheap, and used as it is.
 */
import type { EventSourceMessageEvent } from "./types.js";

type MakeMessageEvent = (type: string, data: string, origin: string, lastEventId: string) => EventSourceMessageEvent;

const NO_PORTS: readonly unknown[] = Object.freeze([]);

function isNative(fn: Function): boolean {
  return /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn));
}

function makeScriptedFast(): MakeMessageEvent {
  class SourceMessageEvent extends Event {
    readonly #data: string;
    readonly #origin: string;
    readonly #lastEventId: string;
    constructor(type: string, data: string, origin: string, lastEventId: string) {
      super(type);
      this.#data = data;
      this.#origin = origin;
      this.#lastEventId = lastEventId;
    }
    get data(): string {
      return this.#data;
    }
    get origin(): string {
      return this.#origin;
    }
    get lastEventId(): string {
      return this.#lastEventId;
    }
    get source(): null {
      return null;
    }
    get ports(): readonly unknown[] {
      return NO_PORTS;
    }
  }
  // `constructor` too, so that `event.constructor === MessageEvent` as for the runtime's own.
  Object.setPrototypeOf(SourceMessageEvent.prototype, MessageEvent.prototype);
  Object.defineProperty(SourceMessageEvent.prototype, "constructor", {
    value: MessageEvent,
    writable: true,
    configurable: true,
  });
  return (type, data, origin, lastEventId) => new SourceMessageEvent(type, data, origin, lastEventId);
}

export const makeMessageEvent: MakeMessageEvent =
  typeof MessageEvent === "function" && !isNative(MessageEvent) && typeof Event === "function"
    ? makeScriptedFast()
    : (type, data, origin, lastEventId) => new MessageEvent(type, { data, origin, lastEventId });
