/**
 * Reports an exception from user code (a hook) the way EventTarget reports a listener's: as
 * an uncaught exception, out of the current call, so the source's own steps go on.
 */
export function reportException(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
