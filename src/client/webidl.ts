/**
 * WebIDL and HTML plumbing that EventSource shares with every DOM interface: event handler
 * IDL attributes (`onopen`...), and the shape of constants, attributes and operations.
 */

type Listener = (event: Event) => unknown;
type Handler = ((this: unknown, event: Event) => unknown) | null;

/**
 * HTML event handler IDL attributes: the first non-null value adds one listener; later
 * values replace the callback in that same position; null removes the listener (a later
 * value then goes to the end of the list).
 */
export class EventHandlers {
  readonly #values = new Map<string, Handler>();
  readonly #listeners = new Map<string, Listener>();

  constructor(readonly target: EventTarget) {}

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
        listener = (event: Event) => this.get(type)?.call(this.target, event);
        this.#listeners.set(type, listener);
      }
      EventTarget.prototype.addEventListener.call(this.target, type, listener);
    } else if (value === null && had) {
      EventTarget.prototype.removeEventListener.call(this.target, type, this.#listeners.get(type)!);
    }
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
