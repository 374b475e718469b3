// The page of a browser-suite case (scripts/test-browsers.mjs): runs the case's variants
// (in this page, or in a dedicated worker), then posts what they saw to the page server.
import { runVariant } from "./run.js";

const params = new URLSearchParams(location.search);
const spec = JSON.parse(params.get("spec"));
const violations = [];
const pageErrors = [];
document.addEventListener("securitypolicyviolation", (e) => violations.push(`${e.effectiveDirective} ${e.blockedURI}`));
addEventListener("error", (e) => pageErrors.push(String(e.message)));
addEventListener("unhandledrejection", (e) => pageErrors.push(String(e.reason)));

function inWorker(variants) {
  if (variants.length === 0) return Promise.resolve({ results: {} });
  return new Promise((resolve) => {
    const worker = new Worker("/browsers/worker.js", { type: "module" });
    worker.onmessage = ({ data }) => {
      worker.terminate();
      resolve(data);
    };
    worker.onerror = (e) => resolve({ results: {}, workerError: String(e.message ?? e) });
    worker.postMessage(variants);
  });
}

(async () => {
  if (spec.cookie) document.cookie = spec.cookie;
  const results = {};
  const [worker] = await Promise.all([
    inWorker(spec.variants.filter((v) => v.worker)),
    ...spec.variants.filter((v) => !v.worker).map(async (v) => (results[v.key] = await runVariant(v))),
  ]);
  Object.assign(results, worker.results);
  const report = { results, violations, pageErrors, nativeInWorker: worker.nativeInWorker, workerError: worker.workerError };
  await fetch(`/result?run=${encodeURIComponent(spec.run)}`, { method: "POST", body: JSON.stringify(report) });
})();
