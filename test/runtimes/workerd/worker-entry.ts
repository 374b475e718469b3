// workerd: a module worker whose fetch handler runs the smoke suite against the server in
// `?base=` and answers with the SuiteResult as JSON. Bundled by scripts/test-runtimes.mjs as
// Wrangler bundles a worker (esbuild, the "workerd", "worker" and "browser" conditions), so
// `eventsource-wasm` resolves through the package's "workerd" export condition.
import { runSuite, type SuiteResult } from "../suite.js";

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const base = url.searchParams.get("base") ?? "";
    const key = url.searchParams.get("key") ?? "workerd";
    let result: SuiteResult;
    try {
      result = await runSuite(base, key, () => Promise.all([import("eventsource-wasm"), import("eventsource-wasm/parser")]));
    } catch (error) {
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      result = { checks: [{ name: "the suite ran", ok: false, detail }], engine: "?", nativeEventSource: false };
    }
    return Response.json(result);
  },
};
