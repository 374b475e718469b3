// End-to-end client cost in instructions: bench/lib/e2e-client.mjs (the e2e bench's client
// process) run under valgrind's callgrind, one client at a time, against the e2e bench's server
// (bench/lib/sse-server.mjs, not under valgrind). Each client reads one whole stream to warm
// up, switches counting on for itself, then reads `streams` more. What it counts is the client
// process's user-space instructions (the kernel's socket work is not in it): the figure to judge
// a change to the client path by on a loaded machine, where CPU time per event moves by up to
// 2x; the timed e2e bench remains the one to report speed with. Unlike the timed bench, it runs
// a full GC before each stream (BENCH_E2E_GC=1), as when the counts in bench/README.md and the
// README were taken: so its counts include each stream's re-optimization (see lib/e2e-client.mjs).
//
//   node bench/callgrind-e2e.mjs [--events 200000] [--streams 2] [--clients wasm,iter,eventsource] [--keep DIR]
//                                [--feed plain|gzip] [--short]
//
// --feed gzip serves the stream gzipped (flushed every 64 KiB, see lib/sse-server.mjs): the
// decoder's work (zlib's threads included) is in the count. --short: ~55 B ticks instead of
// the ~115 B market ticks (the gzip bench's feed).
//
// --keep DIR keeps each client's callgrind file there (<client>.callgrind), for
// `callgrind_annotate` (builtins and C++ by name; JIT code shows as "???").
//
// env: BENCH_BASE_DIST=<checkout>/dist/index.js adds "wasm@base" and "iter@base" (as in
// e2e.bench.mjs). Needs valgrind (`apt-get install valgrind`) and a built dist/.

import { execFileSync, fork, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "200000" },
    streams: { type: "string", default: "2" },
    warmup: { type: "string", default: "2" },
    clients: { type: "string", default: "floor,http-esp,wasm,iter,batches,eventsource" },
    keep: { type: "string" },
    feed: { type: "string", default: "plain" },
    short: { type: "boolean", default: false },
  },
});
const events = Number(values.events);
const streams = Number(values.streams);
const warmup = Number(values.warmup);
const here = (/** @type {string} */ p) => fileURLToPath(new URL(p, import.meta.url));

/** @returns {Promise<{ child: import("node:child_process").ChildProcess, url: string, dataLength: number }>} */
function startServer() {
  const args = [String(events), values.feed, ...(values.short ? ["short"] : [])];
  const child = fork(here("./lib/sse-server.mjs"), args, { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("message", (/** @type {any} */ m) => resolve({ child, url: `http://127.0.0.1:${m.port}/`, dataLength: m.dataLength }));
  });
}

/**
 * Instructions per event of one client's measured streams.
 * @param {string} id @param {string} url @param {number} dataLength @param {string} dir
 */
async function count(id, url, dataLength, dir) {
  const out = join(dir, `${id.replace("@", "-")}.callgrind`);
  // A full GC before each stream (see lib/e2e-client.mjs), as when the counts in bench/README.md
  // were taken: they stay comparable.
  const env = { ...process.env, BENCH_E2E_GC: "1" };
  const client = id.endsWith("@base") ? id.slice(0, -"@base".length) : id;
  if (id.endsWith("@base")) env.BENCH_DIST = env.BENCH_BASE_DIST;
  const child = spawn(
    "valgrind",
    ["--tool=callgrind", "--instr-atstart=no", `--callgrind-out-file=${out}`, process.execPath, "--single-threaded", "--expose-gc",
      here("./lib/e2e-client.mjs"), client, url, String(events), String(dataLength)],
    { stdio: ["ignore", "ignore", "pipe", "ipc"], env: { ...env, BENCH_FEED_GZIP: values.feed === "gzip" ? "1" : "0" } },
  );
  let stderr = "";
  child.stderr?.on("data", (d) => (stderr += d));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const next = () =>
    new Promise((resolve, reject) => {
      child.once("message", (/** @type {any} */ m) => (m.error || m.skip ? reject(new Error(`${id}: ${m.error ?? m.skip}`)) : resolve(m)));
      exited.then((code) => reject(new Error(`${id}: valgrind exited ${code}\n${stderr.slice(-2000)}`)));
    });
  const ready = /** @type {any} */ (await next());
  // Warm-up streams. Each stream still re-optimizes the dispatch path (--trace-deopt: the GC
  // before it frees the last stream's source, and code that embedded objects of it is dropped,
  // "weak objects"; close()'s abort makes a trusted Event that deoptimizes Event's constructor),
  // and under --single-threaded TurboFan runs on this thread, in the count: a third of it at
  // 50,000 events a stream, a sixth at 200,000. A long-lived source pays that once.
  for (let i = 0; i < warmup; i++) {
    child.send({ run: true });
    await next();
  }
  execFileSync("callgrind_control", ["-i", "on", String(child.pid)], { stdio: "ignore" });
  for (let i = 0; i < streams; i++) {
    child.send({ run: true });
    await next();
  }
  child.disconnect();
  await exited;
  const totals = /^(?:totals|summary): (\d+)/m.exec(readFileSync(out, "utf8"));
  if (!totals) throw new Error(`${id}: no totals in ${out}`);
  return { label: /** @type {string} */ (ready.label), perEvent: Number(totals[1]) / (streams * events) };
}

const ids = values.clients.split(",");
if (process.env.BENCH_BASE_DIST) ids.push(...["wasm", "iter"].filter((c) => ids.includes(c)).map((c) => `${c}@base`));
const server = await startServer();
const dir = values.keep ?? mkdtempSync(join(tmpdir(), "callgrind-e2e-"));
try {
  console.log(`${events.toLocaleString("en-US")} ${values.short ? "short ticks" : "market ticks"} per stream (${values.feed}), ${streams} measured streams after ${warmup} warm-up ones; client instructions per event (user space, GC included)`);
  /** @type {Map<string, { label: string, perEvent: number }>} */
  const results = new Map();
  // One at a time: valgrind is single-threaded, and the counts do not depend on the load.
  for (const id of ids) results.set(id, await count(id, server.url, server.dataLength, dir));
  const es = results.get("eventsource")?.perEvent;
  const esp = results.get("http-esp")?.perEvent;
  for (const [id, r] of results) {
    const label = `${r.label}${id.endsWith("@base") ? " (BENCH_BASE_DIST)" : ""}`;
    const vs = [es ? `${(es / r.perEvent).toFixed(2)}x eventsource` : "", esp ? `${(esp / r.perEvent).toFixed(2)}x http-esp` : ""];
    console.log(`${label.padEnd(58)} ${String(Math.round(r.perEvent)).padStart(6)}  ${vs.join("  ")}`);
  }
} finally {
  server.child.kill();
  if (values.keep === undefined) rmSync(dir, { recursive: true, force: true });
}
