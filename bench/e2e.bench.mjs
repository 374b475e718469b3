// End to end: a node:http server in one child process streams N market-tick events on
// 127.0.0.1; each client runs in a child process of its own (bench/lib/e2e-client.mjs) and
// receives every event. The clients take turns: a warm-up stream each, then rounds in which
// every client runs one timed stream (the order rotates from round to round), so that load
// from other processes that comes and goes touches every client alike. Per client: median
// events/s, MB/s and CPU per event (process.cpuUsage of the client's process) with their
// min-max, and ratios to `eventsource` and to node:http + eventsource-parser, per round and
// of the medians.
//
//   node bench/e2e.bench.mjs [--json out.json]
//   env: BENCH_SMOKE=1, BENCH_E2E_EVENTS=<N>, BENCH_E2E_ROUNDS=<max rounds>,
//        BENCH_E2E_BUDGET=<s: no new round after this>, BENCH_REQUIRE_OURS=1,
//        BENCH_IMPLS=wasm,iter (the two baselines and the floor are always kept),
//        BENCH_E2E_GC=1 (a full GC before each stream: the method before 2026-12-01, see
//        lib/e2e-client.mjs), BENCH_E2E_CPU_PROF=<dir> (clients run with node --cpu-prof,
//        profiles written there),
//        BENCH_BASE_DIST=<checkout>/dist/index.js (also clients "wasm@base" and "iter@base" on
//        that earlier build, to show what a change did to the speed)

import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { SMOKE, fmtRatio, machine, writeJson } from "./lib/common.mjs";
import { BASE_DIST, commitOf } from "./lib/impls.mjs";
import { e2eTable } from "./lib/report.mjs";

const N = Number(process.env.BENCH_E2E_EVENTS) || (SMOKE ? 2000 : 1_000_000);
const MAX_ROUNDS = Number(process.env.BENCH_E2E_ROUNDS) || (SMOKE ? 1 : 12);
const MIN_ROUNDS = Math.min(MAX_ROUNDS, 3);
// npm run bench:e2e must end in bounded time on a loaded 2-core machine: rounds stop once
// this much has passed (after MIN_ROUNDS), and one stream may take at most STREAM_TIMEOUT.
const BUDGET_MS = (Number(process.env.BENCH_E2E_BUDGET) || 240) * 1e3;
const STREAM_TIMEOUT_MS = SMOKE ? 60_000 : 90_000;
const FORCED_GC = process.env.BENCH_E2E_GC === "1";
const BASELINE = "eventsource";
const PEER = "http-esp";
/** Client ids, in table order. */
const CLIENTS = ["floor", "http-esp", "wasm", "js", "iter", "batches", "eventsource", "undici", ...(BASE_DIST ? ["wasm@base", "iter@base"] : [])];
const KEEP = new Set(["floor", PEER, BASELINE]);
const HERE = (/** @type {string} */ p) => fileURLToPath(new URL(p, import.meta.url));

/**
 * @typedef {{ ms: number, cpuUs: number }} Stream
 * @typedef {{ id: string, label: string, ours: boolean, floor: boolean, skip?: string,
 *   child?: import("node:child_process").ChildProcess, streams: Stream[] }} Client
 */

/** @returns {Promise<{ url: string, events: number, bytes: number, dataLength: number, stop: () => void }>} */
function startServer() {
  const child = fork(HERE("./lib/sse-server.mjs"), [String(N)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`server exited early (${code})`)));
    child.once("message", (/** @type {any} */ m) => {
      child.removeAllListeners("exit");
      resolve({ url: `http://127.0.0.1:${m.port}/feed`, events: m.events, bytes: m.bytes, dataLength: m.dataLength, stop: () => child.kill() });
    });
  });
}

/**
 * @param {string} id
 * @param {{ url: string, events: number, dataLength: number }} server
 * @returns {Promise<Client>}
 */
function startClient(id, server) {
  const execArgv = ["--expose-gc", "--no-warnings"];
  const profDir = process.env.BENCH_E2E_CPU_PROF;
  if (profDir) execArgv.push("--cpu-prof", "--cpu-prof-dir", profDir, "--cpu-prof-name", `${id}.cpuprofile`);
  const onBase = id.endsWith("@base");
  const child = fork(HERE("./lib/e2e-client.mjs"), [id.replace("@base", ""), server.url, String(server.events), String(server.dataLength)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    execArgv,
    env: onBase ? { ...process.env, BENCH_DIST: /** @type {string} */ (BASE_DIST) } : process.env,
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`client ${id} exited before it was ready (${code})`)));
    child.once("message", (/** @type {any} */ m) => {
      child.removeAllListeners("exit");
      if (onBase) m.label = `${m.label}, at ${commitOf(/** @type {string} */ (BASE_DIST))}`;
      if (m.skip !== undefined) {
        child.disconnect();
        resolve({ id, label: m.label, ours: m.ours, floor: false, skip: m.skip, streams: [] });
      } else {
        resolve({ id, label: m.label, ours: m.ours, floor: m.floor, child, streams: [] });
      }
    });
  });
}

/**
 * One stream on one client; checks what it received.
 * @param {Client} client
 * @param {{ bytes: number }} server
 * @returns {Promise<Stream>}
 */
function stream(client, server) {
  const child = /** @type {import("node:child_process").ChildProcess} */ (client.child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${client.label}: no end of stream after ${STREAM_TIMEOUT_MS / 1e3} s`));
    }, STREAM_TIMEOUT_MS);
    const onExit = (/** @type {number | null} */ code) => {
      cleanup();
      reject(new Error(`${client.label}: process exited (${code})`));
    };
    const onMessage = (/** @type {any} */ m) => {
      cleanup();
      if (m.error) reject(new Error(m.error));
      else if (client.floor && m.bytes !== server.bytes) reject(new Error(`${client.label}: ${m.bytes} bytes, expected ${server.bytes}`));
      else resolve({ ms: m.ms, cpuUs: m.cpuUs });
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    child.on("message", onMessage);
    child.on("exit", onExit);
    child.send({ run: true });
  });
}

/** @param {number[]} xs @param {number} q in [0, 1] */
function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (at - lo);
}
const median = (/** @type {number[]} */ xs) => quantile(xs, 0.5);

/**
 * Ratio of the medians of a's and b's per-stream figures, with the range of the same
 * ratio taken round by round (each round's streams ran side by side).
 * @param {number[]} a @param {number[]} b
 */
function ratio(a, b) {
  const n = Math.min(a.length, b.length);
  const perRound = Array.from({ length: n }, (_, i) => a[i] / b[i]);
  return { ratio: median(a) / median(b), min: Math.min(...perRound), max: Math.max(...perRound) };
}

export async function main() {
  const t0 = performance.now();
  const elapsed = () => `${Math.round((performance.now() - t0) / 1e3)} s`;
  const info = machine();
  console.log(`# e2e bench  ${info.date}  commit ${info.commit}  Node ${info.node}  ${info.cpu} x${info.cores}  load ${info.load.join(" ")}`);
  const server = await startServer();
  const only = process.env.BENCH_IMPLS?.split(",");
  /** @type {string[]} */
  const notes = [];
  const ids = only ? CLIENTS.filter((id) => only.includes(id) || KEEP.has(id)) : CLIENTS;
  if (only && ids.length < CLIENTS.length) notes.push(`BENCH_IMPLS: left out ${CLIENTS.filter((id) => !ids.includes(id)).join(", ")}`);
  /** @type {Client[]} */
  const clients = [];
  try {
    for (const id of ids) clients.push(await startClient(id, server));
    for (const c of clients) if (c.skip) notes.push(`${c.label}: ${c.skip}`);
    if (process.env.BENCH_REQUIRE_OURS === "1") {
      const missing = clients.filter((c) => c.skip && (c.id === "wasm" || c.id === "js" || c.id === "iter"));
      if (missing.length) throw new Error(notes.join("; "));
    }
    const live = clients.filter((c) => !c.skip);
    console.log(
      `${server.events.toLocaleString("en-US")} market-tick events (${(server.bytes / 2 ** 20).toFixed(1)} MiB) per stream; ` +
        `${live.length} clients, each in its own process; a warm-up stream each, then up to ${MAX_ROUNDS} rounds (at least ${MIN_ROUNDS}, none started after ${BUDGET_MS / 1e3} s)` +
        `${FORCED_GC ? "; a full GC before each stream (BENCH_E2E_GC=1)" : ""}${SMOKE ? " (SMOKE)" : ""}`,
    );
    for (const note of notes) console.log(`NOTE: ${note}`);

    for (const c of live) await stream(c, server);
    console.log(`warm-up done (${elapsed()})`);
    let rounds = 0;
    while (rounds < MAX_ROUNDS && (rounds < MIN_ROUNDS || performance.now() - t0 < BUDGET_MS)) {
      // Rotating order: no client always runs right after the same one.
      for (let k = 0; k < live.length; k++) {
        const c = live[(k + rounds) % live.length];
        c.streams.push(await stream(c, server));
      }
      rounds++;
      const base = live.find((c) => c.id === BASELINE);
      const last = live
        .filter((c) => c !== base)
        .map((c) => `${c.id} ${fmtRatio(base ? base.streams[rounds - 1].ms / c.streams[rounds - 1].ms : NaN)}`)
        .join(", ");
      console.log(`round ${rounds}/${MAX_ROUNDS} (${elapsed()}): events/s vs eventsource ${last}`);
    }

    const byId = new Map(live.map((c) => [c.id, c]));
    const rate = (/** @type {Client} */ c) => c.streams.map((s) => server.events / (s.ms / 1e3));
    const cpu = (/** @type {Client} */ c) => c.streams.map((s) => (s.cpuUs * 1e3) / server.events);
    const results = clients.map((c) => {
      if (c.skip) return { impl: c.id, label: c.label, ours: c.ours, floor: false, skipped: c.skip };
      const eps = rate(c);
      const ns = cpu(c);
      /** @type {Record<string, any>} */
      const vs = {};
      for (const peer of [BASELINE, PEER]) {
        const p = byId.get(peer);
        if (!p) continue;
        vs[peer] = { speed: ratio(eps, rate(p)), cpu: ratio(ns, cpu(p)) };
      }
      return {
        impl: c.id,
        label: c.label,
        ours: c.ours,
        floor: c.floor,
        eventsPerSec: median(eps),
        eventsPerSecMin: Math.min(...eps),
        eventsPerSecMax: Math.max(...eps),
        mbps: (median(eps) * server.bytes) / server.events / 1e6,
        cpuNsPerEvent: median(ns),
        cpuNsPerEventMin: Math.min(...ns),
        cpuNsPerEventMax: Math.max(...ns),
        cpuOverWall: median(c.streams.map((s) => s.cpuUs / 1e3 / s.ms)),
        vs,
        streams: c.streams,
      };
    });
    console.log("");
    console.log(e2eTable(results) + "\n");
    const out = { kind: "e2e", machine: info, loadAfter: machine().load, events: server.events, bytes: server.bytes, rounds, forcedGc: FORCED_GC, wallSeconds: (performance.now() - t0) / 1e3, notes, results };
    writeJson(out);
    return out;
  } finally {
    for (const c of clients) if (c.child?.connected) c.child.disconnect();
    server.stop();
  }
}

await main();
