// End to end: a loopback node:http server in a child process streams N market-tick events,
// and in this process each client receives them all. Measured per client: events/s, MB/s and
// client CPU time per event (process.cpuUsage; the server's CPU is in the child).
//
//   node bench/e2e.bench.mjs [--json out.json]
//   env: BENCH_SMOKE=1, BENCH_E2E_EVENTS=<N>, BENCH_E2E_TRIALS=<n>, BENCH_REQUIRE_OURS=1,
//        BENCH_IMPLS=js,undici (the `eventsource` baseline and the floor are always kept)
//
// The EventSources reconnect when a stream ends, so each is closed at its Nth event.

import { fork } from "node:child_process";
import { createRequire } from "node:module";
import http from "node:http";
import { fileURLToPath } from "node:url";
import { EventSource as EventSourcePkg } from "eventsource";
import { loadDist } from "./lib/impls.mjs";
import { SMOKE, fmt, fmtRatio, machine, mdTable, writeJson } from "./lib/common.mjs";

const require = createRequire(import.meta.url);
const N = Number(process.env.BENCH_E2E_EVENTS) || (SMOKE ? 2000 : 1_000_000);
const TRIALS = Number(process.env.BENCH_E2E_TRIALS) || (SMOKE ? 1 : 7);
const BASELINE = "eventsource";

/**
 * @typedef {{ events: number, dataLength: number, bytes: number }} Expect
 * @typedef {{ id: string, label: string, ours: boolean, floor?: boolean,
 *   run: (url: string, expect: Expect) => Promise<{ events: number, dataLength: number, bytes?: number }> }} Client
 */

/**
 * Runs one WHATWG-style EventSource until its Nth `tick` event, then closes it.
 * @param {(url: string) => any} open
 * @returns {Client["run"]}
 */
function eventSourceRun(open) {
  return (url, expect) =>
    new Promise((resolve, reject) => {
      let events = 0;
      let dataLength = 0;
      let touched = 0;
      const source = open(url);
      source.addEventListener("tick", (/** @type {MessageEvent} */ event) => {
        events++;
        dataLength += event.data.length;
        touched += event.type.length + event.lastEventId.length;
        if (events === expect.events) {
          source.close();
          resolve({ events, dataLength, touched });
        }
      });
      source.addEventListener("error", (/** @type {any} */ event) => {
        if (events < expect.events) {
          source.close();
          reject(new Error(`error event after ${events}/${expect.events} events: ${event?.message ?? event?.error ?? ""}`));
        }
      });
    });
}

/** @returns {Promise<{ clients: Client[], notes: string[] }>} */
async function loadClients() {
  /** @type {Client[]} */
  const clients = [];
  /** @type {string[]} */
  const notes = [];
  const dist = await loadDist();
  if (!dist) notes.push("dist/index.js is missing (run `npm run build`): our EventSource was not measured");
  else if (typeof dist.EventSource !== "function") notes.push("dist/index.js does not export EventSource yet: ours was not measured");
  else {
    for (const engine of ["wasm", "js"]) {
      try {
        const probe = new dist.EventSource("http://127.0.0.1:9/", { engine });
        probe.close();
        if ("engine" in probe && probe.engine !== engine) throw new Error(`asked for ${engine}, got ${probe.engine}`);
        clients.push({
          id: engine,
          label: `ours EventSource (${engine === "wasm" ? "WASM" : "TS"})`,
          ours: true,
          run: eventSourceRun((url) => new dist.EventSource(url, { engine })),
        });
      } catch (error) {
        notes.push(`our EventSource with engine ${engine} failed to construct: ${/** @type {Error} */ (error).message}`);
      }
    }
  }
  if (process.env.BENCH_REQUIRE_OURS === "1" && clients.length < 2) throw new Error(notes.join("; "));
  const pkgVersion = require("eventsource/package.json").version;
  clients.push({
    id: "eventsource",
    label: `eventsource ${pkgVersion.split(".")[0]} (npm)`,
    ours: false,
    run: eventSourceRun((url) => new EventSourcePkg(url)),
  });
  try {
    const { EventSource: UndiciEventSource } = require("undici");
    const version = require("undici/package.json").version;
    clients.push({
      id: "undici",
      label: `undici ${version.split(".")[0]} EventSource`,
      ours: false,
      run: eventSourceRun((url) => new UndiciEventSource(url)),
    });
  } catch (error) {
    notes.push(`undici's EventSource could not be loaded: ${error}`);
  }
  clients.push({
    id: "raw",
    label: "floor: node:http GET, count bytes",
    ours: false,
    floor: true,
    run: (url) =>
      new Promise((resolve, reject) => {
        let bytes = 0;
        http
          .get(url, { agent: false }, (res) => {
            res.on("data", (chunk) => (bytes += chunk.length));
            res.on("end", () => resolve({ events: NaN, dataLength: NaN, bytes }));
            res.on("error", reject);
          })
          .on("error", reject);
      }),
  });
  const only = process.env.BENCH_IMPLS?.split(",");
  if (only) {
    const keep = (/** @type {Client} */ c) => only.includes(c.id) || c.id === BASELINE || c.floor;
    const dropped = clients.filter((c) => !keep(c));
    if (dropped.length) notes.push(`BENCH_IMPLS: left out ${dropped.map((c) => c.label).join(", ")}`);
    return { clients: clients.filter(keep), notes };
  }
  return { clients, notes };
}

/** @returns {Promise<{ url: string, expect: Expect, stop: () => void }>} */
function startServer() {
  const child = fork(fileURLToPath(new URL("./lib/sse-server.mjs", import.meta.url)), [String(N)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`server exited early (${code})`)));
    child.once("message", (/** @type {any} */ m) => {
      child.removeAllListeners("exit");
      resolve({
        url: `http://127.0.0.1:${m.port}/feed`,
        expect: { events: m.events, dataLength: m.dataLength, bytes: m.bytes },
        stop: () => child.kill(),
      });
    });
  });
}

/**
 * @param {Client} client
 * @param {string} url
 * @param {Expect} expect
 */
async function trial(client, url, expect) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const got = await client.run(url, expect);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (client.floor) {
    if (got.bytes !== expect.bytes) throw new Error(`${client.label}: ${got.bytes} bytes, expected ${expect.bytes}`);
  } else if (got.events !== expect.events || got.dataLength !== expect.dataLength) {
    throw new Error(`${client.label}: ${got.events} events / ${got.dataLength} data chars, expected ${expect.events} / ${expect.dataLength}`);
  }
  return { ms, cpuMs: (cpu.user + cpu.system) / 1e3 };
}

/** @param {number[]} xs */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export async function main() {
  const { clients, notes } = await loadClients();
  const info = machine();
  const server = await startServer();
  const { url, expect } = server;
  console.log(`# e2e bench  ${info.date}  Node ${info.node}  ${info.cpu} x${info.cores}  load ${info.load.join(" ")}`);
  console.log(`${expect.events.toLocaleString("en-US")} market-tick events (${(expect.bytes / 2 ** 20).toFixed(1)} MiB) per connection, ${TRIALS} trials per client, median${SMOKE ? " (SMOKE)" : ""}`);
  for (const note of notes) console.log(`NOTE: ${note}`);
  try {
    // Warm-up: one whole stream per client (JIT, sockets, the server's first response).
    for (const client of clients) await trial(client, url, expect);
    /** @type {Map<string, { ms: number, cpuMs: number }[]>} */
    const trials = new Map(clients.map((c) => [c.id, []]));
    // Round-robin, so that drift in machine load touches every client alike.
    for (let t = 0; t < TRIALS; t++) {
      for (const client of clients) trials.get(client.id)?.push(await trial(client, url, expect));
    }
    const results = clients.map((client) => {
      const ts = trials.get(client.id) ?? [];
      const ms = median(ts.map((x) => x.ms));
      const cpuMs = median(ts.map((x) => x.cpuMs));
      return {
        impl: client.id,
        label: client.label,
        ours: client.ours,
        floor: Boolean(client.floor),
        ms,
        cpuMs,
        eventsPerSec: expect.events / (ms / 1e3),
        mbps: expect.bytes / 1e6 / (ms / 1e3),
        cpuUsPerEvent: (cpuMs * 1e3) / expect.events,
        cpuOverWall: cpuMs / ms,
        trials: ts,
        ratio: NaN,
        cpuRatio: NaN,
      };
    });
    const base = results.find((r) => r.impl === BASELINE);
    for (const r of results) {
      r.ratio = base ? base.ms / r.ms : NaN;
      r.cpuRatio = base ? r.cpuUsPerEvent / base.cpuUsPerEvent : NaN;
    }
    console.log(
      mdTable(
        ["client", "events/s", "MB/s", "CPU µs/event", "CPU/wall", "events/s vs eventsource", "CPU/event vs eventsource"],
        results.map((r) => [r.label, fmt(r.eventsPerSec), fmt(r.mbps), r.cpuUsPerEvent.toFixed(3), r.cpuOverWall.toFixed(2), fmtRatio(r.ratio), fmtRatio(r.cpuRatio)]),
        ["l", "r", "r", "r", "r", "r", "r"],
      ) + "\n",
    );
    const out = { kind: "e2e", machine: info, loadAfter: machine().load, events: expect.events, bytes: expect.bytes, trials: TRIALS, notes, results };
    writeJson(out);
    return out;
  } finally {
    server.stop();
  }
}

await main();
