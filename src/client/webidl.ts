/**
 * WebIDL and HTML plumbing that EventSource shares with every DOM interface: event handler
 * IDL attributes (`onopen`...), and the shape of constants, attributes and operations.
 */

import { platformCallsHandlers } from "./handler-probe.js";
import { BROWSER_BUILD } from "./transport/platform.js";

type Listener = (event: Event) => unknown;
type Handler = ((this: unknown, event: Event) => unknown) | null;

/**
 * HTML event handler IDL attributes: the first non-null value adds one listener; later
 * values replace the callback in that same position; null removes the listener (a later
 * value then goes to the end of the list). Where the platform's dispatchEvent calls the
 * handler itself (see handler-probe.ts), it adds no listener, and the book is told of a
 * stand-in so that events are still made for the handler.
 */
export class EventHandlers {
  readonly #values = new Map<string, Handler>();
  readonly #listeners = new Map<string, Listener>();

  /**
   * @param onListener - told of each listener added or removed (the source keeps a book).
   * @param platformCalls - the platform calls `on<type>` itself (tests; detected when absent).
   */
  readonly #target: EventTarget;
  readonly #onListener: ((type: string, listener: Listener, added: boolean) => void) | undefined;
  readonly #platformCallsHandlers: boolean | undefined;

  constructor(
    target: EventTarget,
    onListener?: (type: string, listener: Listener, added: boolean) => void,
    platformCalls?: boolean,
  ) {
    this.#target = target;
    this.#onListener = onListener;
    this.#platformCallsHandlers = platformCalls;
  }

  get(type: string): Handler {
    return this.#values.get(type) ?? null;
  }

  set(type: string, fn: unknown): void {
    // `[LegacyTreatNonObjectAsNull]`: anything not callable counts as null.
    const value = typeof fn === "function" ? (fn as Handler) : null;
    const had = this.get(type) !== null;
    this.#values.set(type, value);
    // The prototype's methods: a subclass's typed overloads are for users, not for this.
    if (value !== null && !had) {
      let listener = this.#listeners.get(type);
      if (listener === undefined) {
        listener = (event: Event) => this.get(type)?.call(this.#target, event);
        this.#listeners.set(type, listener);
      }
      if (!this.#platformCalls()) EventTarget.prototype.addEventListener.call(this.#target, type, listener);
      this.#onListener?.(type, listener, true);
    } else if (value === null && had) {
      const listener = this.#listeners.get(type)!;
      if (!this.#platformCalls()) EventTarget.prototype.removeEventListener.call(this.#target, type, listener);
      this.#onListener?.(type, listener, false);
    }
  }

  #platformCalls(): boolean {
    // Never in a browser (handler-probe.browser.ts): folded to false in its build.
    return !BROWSER_BUILD && (this.#platformCallsHandlers ?? platformCallsHandlers());
  }
}

/**
 * WebIDL: constants on the interface object and on the prototype, read-only, enumerable and
 * not configurable; attributes and operations enumerable (class members are not by default).
 */
export function defineInterface(
  cls: { prototype: object },
  constants: Record<string, number>,
  members: readonly string[],
): void {
  for (const target of [cls, cls.prototype]) {
    for (const [name, value] of Object.entries(constants)) {
      Object.defineProperty(target, name, { value, writable: false, enumerable: true, configurable: false });
    }
  }
  for (const name of members) {
    const descriptor = Object.getOwnPropertyDescriptor(cls.prototype, name)!;
    Object.defineProperty(cls.prototype, name, { ...descriptor, enumerable: true });
  }
}

/**
 * The document's (or worker's) base URL, against which the spec resolves a relative URL;
 * none on server runtimes, where a relative URL is a SyntaxError.
 */
function baseURL(): string | undefined {
  const g = globalThis as { document?: { baseURI?: string }; location?: { href?: string } };
  return g.document?.baseURI ?? g.location?.href;
}

/** EventSource constructor steps 3-4, for the `url` argument (a WebIDL `USVString`). */
export function parseEventSourceURL(url: unknown): URL {
  // ToString (a URL object, anything with toString), lone surrogates replaced by U+FFFD.
  // A template literal is ToString: it throws a TypeError for a Symbol, where String() would not.
  const input = `${url as string}`;
  const usv = (input as { toWellFormed?: () => string }).toWellFormed?.() ?? input;
  // 3. "Let urlRecord be the result of encoding-parsing a URL given url, relative to
  // settings." In a page or worker, relative to its base URL; a server runtime has none,
  // so there a relative URL cannot be resolved.
  let urlRecord: URL;
  try {
    urlRecord = new URL(usv, baseURL());
  } catch {
    // 4. "If urlRecord is failure, then throw a "SyntaxError" DOMException."
    throw new DOMException(`Failed to construct 'EventSource': invalid URL ${JSON.stringify(usv)}`, "SyntaxError");
  }
  // Browsers fail the connection later for other schemes (the fetch is a network error
  // that is futile to retry). There is nothing else to fetch here: say so at once.
  if (urlRecord.protocol !== "http:" && urlRecord.protocol !== "https:") {
    throw new DOMException(
      `Failed to construct 'EventSource': the URL's scheme must be http or https, got ${JSON.stringify(urlRecord.protocol)}`,
      "SyntaxError",
    );
  }
  return urlRecord;
}
