/**
 * Whether the platform's EventTarget calls `on<type>` handler properties itself (workerd's
 * does). The browser build has handler-probe.browser.ts instead: browsers' EventTarget never
 * does.
 */

/**
 * Whether `Base`'s own dispatchEvent calls an `on<type>` property of its target, as workerd's
 * EventTarget does (a bare `class X extends EventTarget` with an `onmessage` shows it); Node's,
 * Deno's, Bun's and browsers' do not. Where it does, a handler must not also be a listener, or
 * it runs twice per event. Asked once, at the first handler set, never at import.
 */
export function dispatchCallsHandlers(Base: typeof EventTarget = EventTarget): boolean {
  let calls = 0;
  class Probe extends Base {
    get onprobe(): () => void {
      return () => void calls++;
    }
  }
  new Probe().dispatchEvent(new Event("probe"));
  return calls > 0;
}

let platformCalls: boolean | undefined;

/** dispatchCallsHandlers for the platform's EventTarget, asked once. */
export function platformCallsHandlers(): boolean {
  return (platformCalls ??= dispatchCallsHandlers());
}
