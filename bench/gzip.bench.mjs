// End to end on a gzipped feed (issue 20): a stream of ~57 B ticks (BENCH_GZIP_CORPUS=ticks:
// the e2e bench's ~115 B market ticks), served once
// with `Content-Encoding: gzip` (flushed every 64 KiB of events) and once as it is, by two
// server processes; each client runs in a process of its own (lib/e2e-client.mjs) on one of
// the two feeds. Rounds as in e2e.bench.mjs: a warm-up stream each, then every client once
// per round in a rotating order. Reported: median events/s and CPU per event, and the ratios
// the targets are about, per round (min-max) and of the medians:
//   - ours, listeners (the DOM path), gzip, vs `eventsource` 4, gzip: >= 3x events/s;
//   - ours, batches(), gzip, vs node:http + createGunzip() + eventsource-parser: >= 1.5x
//     events/s at less CPU per event;
//   - ours, batches(), gzip, vs ours, batches(), uncompressed: >= 0.7x events/s.
//
//   node bench/gzip.bench.mjs [--json out.json]
//   env: BENCH_SMOKE=1, BENCH_E2E_EVENTS=<N>, BENCH_E2E_ROUNDS=<max rounds>, BENCH_E2E_BUDGET=<s>,
//        BENCH_GZIP_CORPUS=ticks

import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { SMOKE, fmtRatio, machine, writeJson } from "./lib/common.mjs";

const N = Number(process.env.BENCH_E2E_EVENTS) || (SMOKE ? 2000 : 1_000_000);
const MAX_ROUNDS = Number(process.env.BENCH_E2E_ROUNDS) || (SMOKE ? 1 : 8);
const MIN_ROUNDS = Math.min(MAX_ROUNDS, 3);
const BUDGET_MS = (Number(process.env.BENCH_E2E_BUDGET) || 240) * 1e3;
const STREAM_TIMEOUT_MS = SMOKE ? 60_000 : 120_000;
const HERE = (/** @type {string} */ p) => fileURLToPath(new URL(p, import.meta.url));

/** [client id of lib/e2e-client.mjs, feed] in table order. */
const CLIENTS = /** @type {const} */ ([
  ["http-esp", "gzip"],
  ["eventsource", "gzip"],
  ["wasm", "gzip"],
  ["batches", "gzip"],
  ["http-esp", "plain"],
  ["eventsource", "plain"],
  ["wasm", "plain"],
  ["batches", "plain"],
]);

/**
 * @typedef {{ port: number, events: number, bytes: number, wireBytes: number, dataLength: number }} Feed
 * @typedef {{ key: string, label: string, feed: string, child: import("node:child_process").ChildProcess, streams: { ms: number, cpuUs: number }[] }} Client
 */

/** @param {string} mode @returns {Promise<Feed & { stop: () => void }>} */
function startServer(mode) {
  const corpus = process.env.BENCH_GZIP_CORPUS === "ticks" ? [] : ["short"];
  const child = fork(HERE("./lib/sse-server.mjs"), [String(N), mode, ...corpus], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`server exited early (${code})`)));
    child.once("message", (/** @type {any} */ m) => {
      child.removeAllListeners("exit");
      resolve({ ...m, stop: () => child.kill() });
    });
  });
}

/** @param {string} id @param {string} feed @param {Feed} server @returns {Promise<Client>} */
function startClient(id, feed, server) {
  const url = `http://127.0.0.1:${server.port}/feed`;
  const child = fork(HERE("./lib/e2e-client.mjs"), [id, url, String(server.events), String(server.dataLength)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    execArgv: ["--no-warnings"],
    env: { ...process.env, BENCH_FEED_GZIP: feed === "gzip" ? "1" : "0" },
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`client ${id} exited before it was ready (${code})`)));
    child.once("message", (/** @type {any} */ m) => {
      child.removeAllListeners("exit");
      if (m.skip !== undefined) reject(new Error(`${m.label}: ${m.skip}`));
      else resolve({ key: `${id}/${feed}`, label: `${m.label}, ${feed}`, feed, child, streams: [] });
    });
  });
}

/** @param {Client} client @returns {Promise<{ ms: number, cpuUs: number }>} */
function stream(client) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${client.label}: no end of stream after ${STREAM_TIMEOUT_MS / 1e3} s`)), STREAM_TIMEOUT_MS);
    client.child.once("message", (/** @type {any} */ m) => {
      clearTimeout(timer);
      if (m.error) reject(new Error(m.error));
      else resolve({ ms: m.ms, cpuUs: m.cpuUs });
    });
    client.child.send({ run: true });
  });
}

const median = (/** @type {number[]} */ xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = (s.length - 1) / 2;
  return (s[Math.floor(m)] + s[Math.ceil(m)]) / 2;
};

/** Ratio of a's and b's medians, with the min-max of the same ratio round by round. */
function ratio(/** @type {number[]} */ a, /** @type {number[]} */ b) {
  const per = a.map((x, i) => x / b[i]);
  return { ratio: median(a) / median(b), min: Math.min(...per), max: Math.max(...per) };
}
const fmt = (/** @type {{ ratio: number, min: number, max: number }} */ r) => `${fmtRatio(r.ratio)} (${fmtRatio(r.min)}-${fmtRatio(r.max)})`;

const t0 = performance.now();
const info = machine();
console.log(`# gzip e2e bench  ${info.date}  commit ${info.commit}  Node ${info.node}  ${info.cpu} x${info.cores}  load ${info.load.join(" ")}`);
const servers = { gzip: await startServer("gzip"), plain: await startServer("plain") };
/** @type {Client[]} */
const clients = [];
try {
  for (const [id, feed] of CLIENTS) clients.push(await startClient(id, feed, servers[feed]));
  const g = servers.gzip;
  console.log(
    `${g.events.toLocaleString("en-US")} events, ${(g.bytes / g.events).toFixed(0)} B each: ${(g.bytes / 2 ** 20).toFixed(1)} MiB, ` +
      `${(g.wireBytes / 2 ** 20).toFixed(1)} MiB gzipped (${(g.bytes / g.wireBytes).toFixed(1)}x); ${clients.length} clients, each in its own process`,
  );
  for (const c of clients) await stream(c);
  let rounds = 0;
  while (rounds < MAX_ROUNDS && (rounds < MIN_ROUNDS || performance.now() - t0 < BUDGET_MS)) {
    for (let k = 0; k < clients.length; k++) {
      const c = clients[(k + rounds) % clients.length];
      c.streams.push(await stream(c));
    }
    rounds++;
    console.log(`round ${rounds} (${Math.round((performance.now() - t0) / 1e3)} s)`);
  }
  const by = new Map(clients.map((c) => [c.key, c]));
  const rate = (/** @type {string} */ key) => by.get(key).streams.map((s) => N / (s.ms / 1e3));
  const cpu = (/** @type {string} */ key) => by.get(key).streams.map((s) => (s.cpuUs * 1e3) / N);
  console.log("\n| client | events/s (median, min-max) | CPU ns/event (median) |\n|---|---|---|");
  for (const c of clients) {
    const r = rate(c.key);
    console.log(`| ${c.label} | ${(median(r) / 1e6).toFixed(2)} M (${(Math.min(...r) / 1e6).toFixed(2)}-${(Math.max(...r) / 1e6).toFixed(2)}) | ${median(cpu(c.key)).toFixed(0)} |`);
  }
  const targets = [
    ["listeners, gzip vs eventsource 4, gzip: events/s (>= 3x)", ratio(rate("wasm/gzip"), rate("eventsource/gzip"))],
    ["batches(), gzip vs node:http + createGunzip() + eventsource-parser: events/s (>= 1.5x)", ratio(rate("batches/gzip"), rate("http-esp/gzip"))],
    ["batches(), gzip vs node:http + createGunzip() + eventsource-parser: CPU per event (< 1x)", ratio(cpu("batches/gzip"), cpu("http-esp/gzip"))],
    ["batches(), gzip vs batches(), uncompressed: events/s (>= 0.7x)", ratio(rate("batches/gzip"), rate("batches/plain"))],
    ["listeners, gzip vs listeners, uncompressed: events/s", ratio(rate("wasm/gzip"), rate("wasm/plain"))],
    ["node:http + eventsource-parser, gzip vs uncompressed: events/s", ratio(rate("http-esp/gzip"), rate("http-esp/plain"))],
  ];
  console.log(`\n${rounds} rounds; ratios of the medians (min-max of the per-round ratios):`);
  for (const [what, r] of targets) console.log(`- ${what}: ${fmt(/** @type {any} */ (r))}`);
  writeJson({
    kind: "gzip-e2e",
    machine: info,
    loadAfter: machine().load,
    events: N,
    bytes: g.bytes,
    gzipBytes: g.wireBytes,
    rounds,
    results: clients.map((c) => ({ key: c.key, label: c.label, eventsPerSec: median(rate(c.key)), cpuNsPerEvent: median(cpu(c.key)), streams: c.streams })),
    targets: targets.map(([what, r]) => ({ what, ...(/** @type {any} */ (r)) })),
  });
} finally {
  for (const c of clients) if (c.child.connected) c.child.disconnect();
  servers.gzip.stop();
  servers.plain.stop();
}
