// What the feeds features cost end to end: one child-process server streams N market ticks
// over loopback HTTP; each client runs in its own child process (a fresh heap and JIT each
// time), clients take turns, one warm-up stream then a timed one per turn; median events/s
// and client CPU per event over the turns.
//
//   node bench/features.bench.mjs            (after `npm run build`: ours is loaded from dist/)
//   env: BENCH_SMOKE=1, BENCH_FEATURES_EVENTS=<N>, BENCH_FEATURES_TRIALS=<n>,
//        BENCH_FEATURES_CLIENTS=listener,batches (a subset),
//        BENCH_BASE_DIST=<dir>/dist/index.js: also run "listener" and "events" against an
//        earlier build (say, the commit before the feeds features) as "listener@base" and
//        "events@base", to show what the features cost users who don't use them.
//
// Clients: our EventSource as today's users run it (a "tick" listener), the same with the
// feeds features on (lifecycle hooks, `stats` read every 10 ms, a retry policy), `events()`,
// `batches()`, `batches()` with latest-by-key; `eventsource` 4 and node:http +
// eventsource-parser 3 as peers (the bodies are lib/clients.mjs, shared with the e2e bench).
// Ratios are to the listener client in the same run.

import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { batches, httpParser, iterate, listen } from "./lib/clients.mjs";

const SMOKE = process.env.BENCH_SMOKE === "1";
const N = Number(process.env.BENCH_FEATURES_EVENTS) || (SMOKE ? 2000 : 1_000_000);
const TRIALS = Number(process.env.BENCH_FEATURES_TRIALS) || (SMOKE ? 1 : 5);
const SELF = fileURLToPath(import.meta.url);
const DIST = new URL("../dist/index.js", import.meta.url).href;
const BASE = process.env.BENCH_BASE_DIST ? new URL(process.env.BENCH_BASE_DIST, `file://${process.cwd()}/`).href : null;
/** Set in the child: the build that "ours" clients import. */
let dist = DIST;

/** @type {Record<string, (url: string, n: number) => Promise<unknown>>} */
const CLIENTS = {
  async listener(url, n) {
    const { EventSource } = await import(dist);
    return listen(new EventSource(url), n);
  },
  async "listener+features"(url, n) {
    const { EventSource } = await import(dist);
    const s = new EventSource(url, {
      reconnect: { retryStatuses: [502, 503], shouldRetry: (c) => c.retry, resetAfter: 1000 },
      on: { open() {}, reconnect() {}, giveUp() {} },
    });
    let polls = 0;
    const timer = setInterval(() => (polls += s.stats.events > 0 ? 1 : 0), 10);
    const tally = await listen(s, n);
    clearInterval(timer);
    return { ...tally, polls };
  },
  async events(url, n) {
    const { EventSource } = await import(dist);
    return iterate(new EventSource(url), n);
  },
  async batches(url, n) {
    const { EventSource } = await import(dist);
    return batches(new EventSource(url), n);
  },
  async "batches latest-by-key"(url, n) {
    const { EventSource } = await import(dist);
    const s = new EventSource(url);
    let sum = 0;
    // Conflation drops events, so count what was parsed (the feed ends at N).
    for await (const batch of s.batches({ overflow: "latest-by-key", key: (r) => r.data.slice(6, 10) })) {
      for (const r of batch) sum += r.data.length;
      if (s.stats.events >= n) break;
    }
    return sum;
  },
  async eventsource4(url, n) {
    const { EventSource } = await import("eventsource");
    return listen(new EventSource(url), n);
  },
  async "node:http+eventsource-parser"(url) {
    const { createParser } = await import("eventsource-parser");
    return httpParser(url, createParser);
  },
};

async function child() {
  const [id, url, n] = process.argv.slice(3);
  const [name, which] = id.split("@");
  if (which === "base") dist = BASE;
  const run = CLIENTS[name];
  await run(url, Number(n)); // warm-up stream
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run(url, Number(n));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const result = { eventsPerSec: Number(n) / seconds, cpuNsPerEvent: ((cpu.user + cpu.system) * 1000) / Number(n) };
  if (process.send) process.send(result);
  else console.log(JSON.stringify(result));
  process.exit(0);
}

function once(name, url) {
  return new Promise((resolve, reject) => {
    const p = fork(SELF, ["--child", name, url, String(N)], { env: { ...process.env, BENCH_BASE_DIST: BASE ?? "" } });
    p.once("message", resolve);
    p.once("exit", (code) => code !== 0 && reject(new Error(`${name} exited with ${code}`)));
  });
}

async function main() {
  const server = fork(fileURLToPath(new URL("./lib/sse-server.mjs", import.meta.url)), [String(N)]);
  const info = await new Promise((r) => server.once("message", r));
  const url = `http://127.0.0.1:${info.port}/`;
  const only = process.env.BENCH_FEATURES_CLIENTS?.split(",");
  const names = Object.keys(CLIENTS).filter((n) => !only || only.includes(n) || n === "listener" || n === "eventsource4");
  if (BASE) names.splice(1, 0, "listener@base", ...(names.includes("events") ? ["events@base"] : []));
  /** @type {Record<string, {eventsPerSec: number, cpuNsPerEvent: number}[]>} */
  const results = Object.fromEntries(names.map((n) => [n, []]));
  for (let t = 0; t < TRIALS; t++) {
    const order = names.map((_, i) => names[(i + t) % names.length]);
    for (const name of order) results[name].push(await once(name, url));
  }
  server.kill();
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(results.listener.map((r) => r.eventsPerSec));
  const es4 = median(results.eventsource4.map((r) => r.eventsPerSec));
  console.log(`features bench: ${N} events x ${TRIALS} turns, Node ${process.version}${BASE ? `, base ${BASE}` : ""}`);
  console.log("| client | M events/s (median) | range | CPU ns/event | vs listener | vs eventsource 4 |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const name of names) {
    const eps = results[name].map((r) => r.eventsPerSec);
    const m = median(eps);
    console.log(
      `| ${name} | ${(m / 1e6).toFixed(2)} | ${(Math.min(...eps) / 1e6).toFixed(2)}-${(Math.max(...eps) / 1e6).toFixed(2)} | ${median(results[name].map((r) => r.cpuNsPerEvent)).toFixed(0)} | ${(m / base).toFixed(3)} | ${(m / es4).toFixed(2)}x |`,
    );
  }
}

if (process.argv[2] === "--child") await child();
else await main();
