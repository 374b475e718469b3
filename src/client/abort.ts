/** The `signal` option: one "abort" listener per signal, however many sources share it. */

/** The sources watching one AbortSignal, and the one listener that tells them all. */
interface AbortWatch {
  readonly callbacks: Set<() => void>;
  readonly listener: () => void;
}
const abortWatches = new WeakMap<AbortSignal, AbortWatch>();

/**
 * Calls `onAbort` when `signal` aborts; returns the function that stops watching (safe to call
 * more than once). All the sources that share a signal share one "abort" listener on it: one
 * listener each would make Node print a MaxListenersExceededWarning once more than 10 sources
 * are open on the same signal. The listener is removed when the last source stops watching.
 */
export function watchAbort(signal: AbortSignal, onAbort: () => void): () => void {
  let watch = abortWatches.get(signal);
  if (watch === undefined) {
    const callbacks = new Set<() => void>();
    const listener = (): void => {
      abortWatches.delete(signal);
      // A copy: each callback (close()) unwatches itself.
      for (const callback of [...callbacks]) callback();
    };
    watch = { callbacks, listener };
    abortWatches.set(signal, watch);
    signal.addEventListener("abort", listener, { once: true });
  }
  const current = watch;
  current.callbacks.add(onAbort);
  return () => {
    if (!current.callbacks.delete(onAbort) || current.callbacks.size !== 0) return;
    signal.removeEventListener("abort", current.listener);
    abortWatches.delete(signal);
  };
}
