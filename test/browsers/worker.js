// A dedicated module worker: runs the variants it is sent and posts their outcomes back.
import { runVariant } from "./run.js";

self.onmessage = async ({ data: variants }) => {
  const results = {};
  await Promise.all(variants.map(async (v) => (results[v.key] = await runVariant(v))));
  self.postMessage({ results, nativeInWorker: typeof EventSource === "function" });
};
