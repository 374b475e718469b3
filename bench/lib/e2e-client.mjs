// One end-to-end client, in a process of its own (forked by bench/e2e.bench.mjs with
// --expose-gc): so that no other client's heap, JIT state or garbage is billed to it, and
// process.cpuUsage() is this client's CPU alone (the server runs in yet another process).
//
//   fork("bench/lib/e2e-client.mjs", [clientId, url, events, dataLength])
//   -> { ready: true, label, ours } | { skip: reason, label }
//   <- { run: true }  -> { ms, cpuUs, events, dataLength, bytes } | { error }
//
// Each run is one whole stream: open, receive every event (touching its type, data and last
// event ID, as a user would), close at the last one. By default nothing comes between runs, as
// in a process that keeps receiving: what is measured is the warmed-up steady state. With
// BENCH_E2E_GC=1 a full GC comes before each run (outside the timed span), the method before
// 2026-12-01: it keeps one stream's garbage off the next one's clock, but it also frees the
// last stream's source and sockets, and V8 then drops the optimized code that embedded them
// ("weak objects" in --trace-deopt), so each stream re-optimizes its whole path (46-64
// functions a stream against 2 without, --trace-opt) and regrows a young generation shrunk
// to its minimum. That cost every client, the bytes-only floor included (92 -> 156 ns of CPU
// per event at ea3503c, 25 rounds each way), and no long-lived feed consumer ever pays it.

import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { batches, get, httpParser, iterate, listen } from "./clients.mjs";
import { DIST, loadDist } from "./impls.mjs";

const require = createRequire(import.meta.url);
const [id, url, eventsArg, dataLengthArg] = process.argv.slice(2);
const N = Number(eventsArg);
const DATA_LENGTH = Number(dataLengthArg);
// More options for our EventSource (bench/h2.bench.mjs: `http2`, `tls`), as JSON.
const EXTRA = JSON.parse(process.env.BENCH_SOURCE_OPTIONS ?? "{}");

/**
 * @typedef {import("./clients.mjs").Tally} Tally
 * @typedef {{ label: string, ours: boolean, floor?: boolean, skip?: string, run?: () => Promise<Tally> }} Client
 */

/** @returns {Promise<Client>} */
async function load() {
  const major = (/** @type {string} */ pkg) => require(`${pkg}/package.json`).version.split(".")[0];
  switch (id) {
    case "floor":
      return {
        label: "floor: node:http, bytes only",
        ours: false,
        floor: true,
        run: async () => {
          let bytes = 0;
          await get(url, (chunk) => (bytes += chunk.length), true);
          return { events: NaN, dataLength: NaN, touched: 0, bytes };
        },
      };
    case "http-esp": {
      const { createParser } = await import("eventsource-parser");
      const label = `node:http${process.env.BENCH_FEED_GZIP === "1" ? " + createGunzip()" : ""} + eventsource-parser ${major("eventsource-parser")}`;
      return { label, ours: false, run: () => httpParser(url, createParser) };
    }
    case "eventsource": {
      const { EventSource } = await import("eventsource");
      return { label: `eventsource ${major("eventsource")} (npm)`, ours: false, run: () => listen(new EventSource(url), N) };
    }
    case "undici": {
      const { EventSource } = require("undici");
      return { label: `undici ${major("undici")} EventSource`, ours: false, run: () => listen(new EventSource(url), N) };
    }
  }
  const labels = /** @type {Record<string, string>} */ ({
    wasm: "ours EventSource, listeners (WASM)",
    js: "ours EventSource, listeners (TS)",
    iter: "ours for await (source.events()) (WASM)",
    batches: "ours source.batches() (WASM)",
  });
  const label = labels[id];
  if (label === undefined) throw new Error(`unknown client ${id}`);
  const dist = await loadDist();
  if (!dist) return { label, ours: true, skip: `${DIST} is missing (run \`npm run build\`)` };
  const { EventSource } = dist;
  const engine = id === "js" ? "js" : "wasm";
  const probe = new EventSource("http://127.0.0.1:9/", { engine });
  probe.close();
  if (probe.engine !== engine) throw new Error(`${label}: asked for engine ${engine}, got ${probe.engine}`);
  if (id === "wasm" || id === "js") return { label, ours: true, run: () => listen(new EventSource(url, { engine, ...EXTRA }), N) };
  if (id === "iter") return { label, ours: true, run: () => iterate(new EventSource(url, { engine, ...EXTRA }), N) };
  // id === "batches"
  if (typeof probe.batches !== "function") {
    return { label, ours: true, skip: "source.batches is not a function in dist/ (not built yet): not measured" };
  }
  return { label, ours: true, run: () => batches(new EventSource(url, { engine, ...EXTRA }), N) };
}

const client = await load();
const gc = process.env.BENCH_E2E_GC === "1" ? /** @type {(() => void) | undefined} */ (/** @type {any} */ (globalThis).gc) : undefined;
if (process.env.BENCH_E2E_GC === "1" && gc === undefined) throw new Error("BENCH_E2E_GC=1 needs node --expose-gc");
if (client.skip !== undefined || client.run === undefined) {
  process.send?.({ skip: client.skip, label: client.label, ours: client.ours });
} else {
  const run = client.run;
  process.send?.({ ready: true, label: client.label, ours: client.ours, floor: Boolean(client.floor), dist: pathToFileURL(DIST).href });
  process.on("message", async (/** @type {any} */ message) => {
    if (!message?.run) return;
    try {
      gc?.();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const tally = await run();
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      if (!client.floor && (tally.events !== N || tally.dataLength !== DATA_LENGTH)) {
        throw new Error(`${client.label}: ${tally.events} events / ${tally.dataLength} data chars, expected ${N} / ${DATA_LENGTH}`);
      }
      process.send?.({ ms, cpuUs: cpu.user + cpu.system, events: tally.events, dataLength: tally.dataLength, bytes: tally.bytes });
    } catch (error) {
      process.send?.({ error: String(/** @type {Error} */ (error)?.stack ?? error) });
    }
  });
}
process.on("disconnect", () => process.exit(0));
