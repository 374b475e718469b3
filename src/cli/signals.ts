// SIGINT and SIGTERM, the signals that ask a command to stop. Both commands stop cleanly on
// either: `eventsource-wasm <url>` after writing the events read so far, with the status a
// shell gives a process that signal ended; `ingest` after its publishes are acknowledged.

import { EXIT } from "./exit.js";

/** The part of `process` this needs (a test passes an EventEmitter). */
export interface SignalTarget {
  once(signal: "SIGINT" | "SIGTERM", listener: () => void): unknown;
  off(signal: "SIGINT" | "SIGTERM", listener: () => void): unknown;
}

const STOP_SIGNALS = { SIGINT: EXIT.SIGINT, SIGTERM: EXIT.SIGTERM } as const;

/**
 * Calls `stop` with the exit status for the first SIGINT or SIGTERM (130 or 143), once.
 * Returns a function that stops listening. Each signal is caught once: a second Ctrl-C while
 * stopping kills the process as usual, so a stop that hangs can still be forced.
 */
export function onStopSignal(stop: (status: number) => void, target: SignalTarget = process): () => void {
  let stopped = false;
  const listeners = Object.entries(STOP_SIGNALS).map(([signal, status]) => {
    const listener = (): void => {
      if (stopped) return;
      stopped = true;
      stop(status);
    };
    target.once(signal as keyof typeof STOP_SIGNALS, listener);
    return [signal as keyof typeof STOP_SIGNALS, listener] as const;
  });
  return () => {
    for (const [signal, listener] of listeners) target.off(signal, listener);
  };
}
