// Chromium: the page runs the suite, then the same suite in a module worker, and leaves
// both results where scripts/test-runtimes.mjs reads them (window.smokeResults).
import { runSuite, type SuiteResult } from "./suite.js";

declare const self: { postMessage(message: unknown): void; onmessage: unknown };
const inWorker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined";
const key = new URL(location.href).searchParams.get("key") ?? "browser";

async function run(where: string): Promise<SuiteResult> {
  return runSuite(location.origin, `${key}-${where}`, () =>
    Promise.all([import("eventsource-wasm"), import("eventsource-wasm/parser")]),
  );
}

function errorResult(error: unknown): SuiteResult {
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { checks: [{ name: "the suite ran", ok: false, detail }], engine: "?", nativeEventSource: false };
}

if (inWorker) {
  run("worker").then(
    (result) => self.postMessage(result),
    (error) => self.postMessage(errorResult(error)),
  );
} else {
  const w = window as unknown as { smokeResults?: Record<string, SuiteResult> };
  const page = await run("page").catch(errorResult);
  const worker = await new Promise<SuiteResult>((resolve) => {
    const wk = new Worker(new URL(import.meta.url), { type: "module" });
    wk.onmessage = (e: MessageEvent<SuiteResult>) => resolve(e.data);
    wk.onerror = (e) => resolve(errorResult(new Error(e.message || "the worker failed to load")));
  });
  w.smokeResults = { page, worker };
}
