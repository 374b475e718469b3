// Many sources to one origin, in a process of its own (forked by bench/h2.bench.mjs with
// --expose-gc): opens `sources` EventSources at once on `url` (a server that sends each one
// `perSource` events and keeps the response open), counts every event through batches(), and
// reports the time and CPU until all are in, then the memory the open, idle sources hold.
//
//   fork("bench/lib/fanout-client.mjs", [url, sources, perSource, optionsJson])
//   -> { ms, cpuUs, events, heapPerSource, externalPerSource, rssPerSource } | { error }

import { loadDist } from "./impls.mjs";

const [url, sourcesArg, perSourceArg, optionsJson] = process.argv.slice(2);
const SOURCES = Number(sourcesArg);
const PER_SOURCE = Number(perSourceArg);
const options = JSON.parse(optionsJson ?? "{}");
const gc = /** @type {() => void} */ (/** @type {any} */ (globalThis).gc);

/** @returns {{ heap: number, external: number, rss: number }} */
function memory() {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external + m.arrayBuffers, rss: m.rss };
}

try {
  const dist = await loadDist();
  if (!dist) throw new Error("dist/ is missing (run `npm run build`)");
  const { EventSource } = dist;
  // One source first, closed: the module, the WASM and the JIT's code are not billed per source.
  await new Promise((resolve) => {
    const warm = new EventSource(url, { ...options, reconnect: { maxAttempts: 0 } });
    warm.addEventListener("open", () => resolve(warm.close()));
    warm.addEventListener("error", () => resolve(warm.close()));
  });
  const before = memory();
  let events = 0;
  /** @type {any[]} */
  const all = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((resolve, reject) => {
    let done = 0;
    for (let i = 0; i < SOURCES; i++) {
      const source = new EventSource(url, { ...options, reconnect: { maxAttempts: 0 } });
      all.push(source);
      let mine = 0;
      source.addEventListener("error", (/** @type {any} */ e) => reject(new Error(`source ${i}: ${e.message}`)));
      // Not `break` at the last event: that would close the source, and what an open one holds
      // is measured below. The loop ends at close().
      (async () => {
        for await (const batch of source.batches()) {
          mine += batch.length;
          events += batch.length;
          if (mine === PER_SOURCE && ++done === SOURCES) resolve(undefined);
        }
      })().catch(reject);
    }
  });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  // The sources stay open, their connections idle: what they hold.
  const after = memory();
  const per = (/** @type {number} */ bytes) => Math.round(bytes / SOURCES);
  process.send?.({
    ms,
    cpuUs: cpu.user + cpu.system,
    events,
    heapPerSource: per(after.heap - before.heap),
    externalPerSource: per(after.external - before.external),
    rssPerSource: per(after.rss - before.rss),
  });
  for (const source of all) source.close();
} catch (error) {
  process.send?.({ error: String(/** @type {Error} */ (error)?.stack ?? error) });
}
process.on("disconnect", () => process.exit(0));
