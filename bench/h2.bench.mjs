// HTTP/1.1 against HTTP/2 on the Node transport (issue 20), what `http2: "auto"` is chosen from.
// Servers (lib/sse-server.mjs, one child process per protocol, the test certificate of
// test/fixtures/tls on TLS): node:http, node:https, node:http2 h2c and node:http2 over TLS.
//
// 1. One source: ours, source.batches() (the path where the transport's cost shows most), each
//    configuration in a client process of its own (lib/e2e-client.mjs) reading N ~57 B ticks;
//    a warm-up stream each, then rounds in a rotating order, as e2e.bench.mjs does. Median
//    events/s and CPU per event, HTTP/1.1 vs h2 on TLS and plain http vs h2c.
// 2. Many sources from one origin (lib/fanout-client.mjs, a fresh process per run, turns
//    taken): SOURCES sources at once, PER_SOURCE events each, the responses left open; the
//    time and CPU until every event is in, then the memory per open source (heap, external
//    and RSS after a full GC, less what the process held before).
//
// With BENCH_H2_RTT=<ms>, part 1 goes through a proxy (in this process) that holds every chunk
// RTT/2 ms each way: a network's round trip, where flow-control windows count.
//
//   node bench/h2.bench.mjs [--json out.json]
//   env: BENCH_SMOKE=1, BENCH_E2E_EVENTS=<N>, BENCH_E2E_ROUNDS=<rounds>, BENCH_H2_CLIENT=batches|wasm,
//        BENCH_FANOUT_SOURCES=<n> (1000), BENCH_FANOUT_EVENTS=<per source> (1000),
//        BENCH_FANOUT_ROUNDS=<rounds> (3), BENCH_H2_ONLY=single|fanout, BENCH_H2_RTT=<ms>

import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { SMOKE, fmt, fmtRatio, machine, mdTable, writeJson } from "./lib/common.mjs";

const N = Number(process.env.BENCH_E2E_EVENTS) || (SMOKE ? 2000 : 1_000_000);
const ROUNDS = Number(process.env.BENCH_E2E_ROUNDS) || (SMOKE ? 1 : 8);
const CLIENT = process.env.BENCH_H2_CLIENT ?? "batches";
const SOURCES = Number(process.env.BENCH_FANOUT_SOURCES) || (SMOKE ? 20 : 1000);
const PER_SOURCE = Number(process.env.BENCH_FANOUT_EVENTS) || (SMOKE ? 10 : 1000);
const FANOUT_ROUNDS = Number(process.env.BENCH_FANOUT_ROUNDS) || (SMOKE ? 1 : 3);
const ONLY = process.env.BENCH_H2_ONLY;
const RTT = Number(process.env.BENCH_H2_RTT) || 0;
const STREAM_TIMEOUT_MS = 180_000;
const HERE = (/** @type {string} */ p) => fileURLToPath(new URL(p, import.meta.url));
const ca = readFileSync(HERE("../test/fixtures/tls/cert.pem"), "utf8");

/** [label, server protocol, our options] in table order: each pair is HTTP/1.1 then h2. */
const CONFIGS = /** @type {const} */ ([
  ["HTTP/1.1, http", "http", { http2: false }],
  ["h2c (http2: true), http", "h2c", { http2: true }],
  ["HTTP/1.1, https", "https", { http2: false, tls: { ca } }],
  ["h2, https", "h2", { http2: true, tls: { ca } }],
]);

/**
 * @param {string} proto @param {number} events @param {boolean} keepOpen
 * @returns {Promise<{ url: string, events: number, bytes: number, dataLength: number, stop: () => void }>}
 */
function startServer(proto, events, keepOpen) {
  const child = fork(HERE("./lib/sse-server.mjs"), [String(events), "plain", "short"], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env: { ...process.env, BENCH_SSE_PROTO: proto, BENCH_SSE_KEEP_OPEN: keepOpen ? "1" : "0" },
  });
  const scheme = proto === "https" || proto === "h2" ? "https" : "http";
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`${proto} server exited early (${code})`)));
    child.once("message", (/** @type {any} */ m) => {
      child.removeAllListeners("exit");
      resolve({ ...m, url: `${scheme}://127.0.0.1:${m.port}/feed`, stop: () => child.kill() });
    });
  });
}

/**
 * A TCP proxy to `port` that forwards each chunk RTT/2 ms after it came, both ways (no limit on
 * what it holds: TCP's own window, which grows on a real path, is not what is measured).
 * @param {string} url @returns {Promise<string>} the URL through the proxy
 */
async function delayed(url) {
  const target = new URL(url);
  const port = Number(target.port);
  const proxy = net.createServer((client) => {
    const upstream = net.connect(port, "127.0.0.1");
    const pipe = (/** @type {net.Socket} */ from, /** @type {net.Socket} */ to) =>
      from.on("data", (chunk) => setTimeout(() => to.write(chunk), RTT / 2));
    pipe(client, upstream);
    pipe(upstream, client);
    for (const [a, b] of [[client, upstream], [upstream, client]]) {
      a.on("error", () => b.destroy());
      a.on("close", () => setTimeout(() => b.destroy(), RTT / 2));
    }
  });
  proxy.unref();
  await new Promise((resolve) => proxy.listen(0, "127.0.0.1", () => resolve(undefined)));
  target.port = String(/** @type {net.AddressInfo} */ (proxy.address()).port);
  return target.href;
}

/**
 * A forked child's one answer.
 * @param {import("node:child_process").ChildProcess} child @param {string} what
 * @returns {Promise<any>}
 */
function answer(child, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${what}: no answer after ${STREAM_TIMEOUT_MS / 1e3} s`)), STREAM_TIMEOUT_MS);
    const onExit = (/** @type {number | null} */ code) => done(new Error(`${what}: exited (${code})`));
    const onMessage = (/** @type {any} */ m) => done(m.error ? new Error(`${what}: ${m.error}`) : null, m);
    const done = (/** @type {Error | null} */ error, /** @type {any} */ m = undefined) => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
      if (error) reject(error);
      else resolve(m);
    };
    child.on("message", onMessage);
    child.on("exit", onExit);
  });
}

const median = (/** @type {number[]} */ xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const range = (/** @type {number[]} */ xs) => `${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}`;

async function single() {
  const servers = await Promise.all(CONFIGS.map(([, proto]) => startServer(proto, N, false)));
  const clients = [];
  try {
    for (let i = 0; i < CONFIGS.length; i++) {
      const [label, , options] = CONFIGS[i];
      const server = servers[i];
      const url = RTT ? await delayed(server.url) : server.url;
      const child = fork(HERE("./lib/e2e-client.mjs"), [CLIENT, url, String(server.events), String(server.dataLength)], {
        stdio: ["ignore", "inherit", "inherit", "ipc"],
        execArgv: ["--no-warnings"],
        env: { ...process.env, BENCH_SOURCE_OPTIONS: JSON.stringify(options) },
      });
      const ready = await answer(child, label);
      if (ready.skip) throw new Error(`${label}: ${ready.skip}`);
      clients.push({ label, child, streams: /** @type {{ ms: number, cpuUs: number }[]} */ ([]) });
    }
    const run = async (/** @type {(typeof clients)[number]} */ c) => {
      c.child.send({ run: true });
      return answer(c.child, c.label);
    };
    for (const c of clients) await run(c);
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < clients.length; k++) {
        const c = clients[(k + r) % clients.length];
        c.streams.push(await run(c));
      }
      console.log(`round ${r + 1}/${ROUNDS}`);
    }
  } finally {
    for (const c of clients) c.child.kill();
    for (const s of servers) s.stop();
  }
  const rows = clients.map((c) => {
    const eps = c.streams.map((s) => N / (s.ms / 1e3));
    const ns = c.streams.map((s) => (s.cpuUs * 1e3) / N);
    return { label: c.label, eventsPerSec: median(eps), eventsPerSecRange: range(eps), cpuNsPerEvent: median(ns), cpuNsRange: range(ns), perRound: { eps, ns } };
  });
  // h2 over HTTP/1.1, per round (the pairs ran in the same round) and of the medians.
  for (const [h1, h2] of [[0, 1], [2, 3]]) {
    const a = rows[h1].perRound;
    const b = rows[h2].perRound;
    const perRound = a.eps.map((x, i) => b.eps[i] / x);
    rows[h2].vsH1 = { eps: rows[h2].eventsPerSec / rows[h1].eventsPerSec, min: Math.min(...perRound), max: Math.max(...perRound), cpu: rows[h2].cpuNsPerEvent / rows[h1].cpuNsPerEvent };
  }
  return rows;
}

async function fanout() {
  const pairs = /** @type {const} */ ([CONFIGS[2], CONFIGS[3], CONFIGS[0], CONFIGS[1]]);
  const servers = await Promise.all(pairs.map(([, proto]) => startServer(proto, PER_SOURCE, true)));
  /** @type {any[][]} */
  const runs = pairs.map(() => []);
  try {
    for (let r = 0; r < FANOUT_ROUNDS; r++) {
      for (let k = 0; k < pairs.length; k++) {
        const i = (k + r) % pairs.length;
        const [label, , options] = pairs[i];
        const child = fork(HERE("./lib/fanout-client.mjs"), [servers[i].url, String(SOURCES), String(PER_SOURCE), JSON.stringify(options)], {
          stdio: ["ignore", "inherit", "inherit", "ipc"],
          execArgv: ["--expose-gc", "--no-warnings"],
        });
        try {
          const m = await answer(child, `${label} x${SOURCES}`);
          if (m.events !== SOURCES * PER_SOURCE) throw new Error(`${label}: ${m.events} events, expected ${SOURCES * PER_SOURCE}`);
          runs[i].push(m);
        } finally {
          child.kill();
        }
      }
      console.log(`fan-out round ${r + 1}/${FANOUT_ROUNDS}`);
    }
  } finally {
    for (const s of servers) s.stop();
  }
  const total = SOURCES * PER_SOURCE;
  return pairs.map(([label], i) => ({
    label,
    eventsPerSec: median(runs[i].map((m) => total / (m.ms / 1e3))),
    eventsPerSecRange: range(runs[i].map((m) => total / (m.ms / 1e3))),
    cpuNsPerEvent: median(runs[i].map((m) => (m.cpuUs * 1e3) / total)),
    heapPerSource: median(runs[i].map((m) => m.heapPerSource)),
    externalPerSource: median(runs[i].map((m) => m.externalPerSource)),
    rssPerSource: median(runs[i].map((m) => m.rssPerSource)),
  }));
}

const info = machine();
console.log(`# h2 bench  ${info.date}  commit ${info.commit}  Node ${info.node}  ${info.cpu} x${info.cores}  load ${info.load.join(" ")}`);
/** @type {Record<string, any>} */
const out = { machine: info, rttMs: RTT };
if (ONLY !== "fanout") {
  console.log(`## One source: ${N.toLocaleString("en-US")} ~57 B ticks a stream, ours ${CLIENT}, a warm-up then ${ROUNDS} rounds${RTT ? `, through a ${RTT} ms RTT` : ""}`);
  out.single = await single();
  console.log(
    mdTable(
      ["transport", "events/s (median)", "min-max", "CPU ns/event", "min-max", "h2 / HTTP/1.1 events/s (per round)", "h2 / HTTP/1.1 CPU"],
      out.single.map((/** @type {any} */ r) => [
        r.label,
        fmt(r.eventsPerSec),
        r.eventsPerSecRange,
        fmt(r.cpuNsPerEvent),
        r.cpuNsRange,
        r.vsH1 ? `${fmtRatio(r.vsH1.eps)} (${fmtRatio(r.vsH1.min)}-${fmtRatio(r.vsH1.max)})` : "",
        r.vsH1 ? fmtRatio(r.vsH1.cpu) : "",
      ]),
    ),
  );
}
if (ONLY !== "single") {
  console.log(`## ${SOURCES} sources from one origin, ${PER_SOURCE} events each, ${FANOUT_ROUNDS} rounds (a fresh process per run)`);
  out.fanout = await fanout();
  console.log(
    mdTable(
      ["transport", "events/s (all sources)", "min-max", "CPU ns/event", "heap / source", "external / source", "RSS / source"],
      out.fanout.map((/** @type {any} */ r) => [r.label, fmt(r.eventsPerSec), r.eventsPerSecRange, fmt(r.cpuNsPerEvent), `${fmt(r.heapPerSource / 1024)} KiB`, `${fmt(r.externalPerSource / 1024)} KiB`, `${fmt(r.rssPerSource / 1024)} KiB`]),
    ),
  );
}
console.log(`load at the end: ${machine().load.join(" ")}`);
writeJson(out);
