/**
 * What a body reports as uncaught exceptions (`reportException`: a hook's or listener's throw,
 * queued out of the current call), caught for the test instead of failing the run.
 */
export async function uncaughtDuring(body: () => void): Promise<unknown[]> {
  const errors: unknown[] = [];
  const saved = process.listeners("uncaughtException");
  process.removeAllListeners("uncaughtException");
  process.on("uncaughtException", (e) => errors.push(e));
  try {
    body();
    await new Promise((r) => setTimeout(r, 0));
  } finally {
    process.removeAllListeners("uncaughtException");
    for (const l of saved) process.on("uncaughtException", l);
  }
  return errors;
}
