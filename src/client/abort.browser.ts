/**
 * abort.ts in the browser build: a listener per watch. The shared listener of abort.ts is
 * there for Node, which warns (MaxListenersExceededWarning) past 10 listeners on a signal; a
 * browser sets no such bound, and calls the listeners in the order they were added, as
 * abort.ts calls its callbacks.
 */
import type { watchAbort as watch } from "./abort.js";

export const watchAbort: typeof watch = (signal, onAbort) => {
  signal.addEventListener("abort", onAbort, { once: true });
  return () => signal.removeEventListener("abort", onAbort);
};
