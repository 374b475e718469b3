// Where the DOM path's time goes, per event, for market ticks in 64 KiB chunks: successive
// configurations, each doing one more step than the one before, so that the difference of
// two is the cost of the step it adds. bench/PROFILE.md records a run and what it suggests.
//
// In memory (this process; the same pre-cut 64 KiB chunks for all; configurations take
// turns pass by pass; median CPU ns per event of a pass, process.cpuUsage: on a loaded
// machine wall time measures the other processes too):
//   copy          the chunk copied into the WASM module's memory (no parse)
//   scan          + the module's feed() (records written, none read)
//   parse         createParser({ engine: "wasm" }) with a no-op onEvent: + the record walk,
//                 the strings (type, data, last event ID) and the parsed-event object
//   message       + `new MessageEvent(type, { data, origin, lastEventId })` per event
//   dispatch      + `dispatchEvent` of it on a plain EventTarget with one listener (which
//                 reads `data`)
//   stream        a ReadableStream of the chunks read to the end (per-chunk plumbing only)
//   eventsource   our EventSource fed the same chunks by a `fetch` option returning that
//                 ReadableStream, one `tick` listener (which reads `data`)
//   iterator      the same source read with `for await (source.events())` instead
//   So: eventsource - dispatch - stream = our EventSource's own per-chunk and per-event work,
//   less what its MessageEvent saves over `new MessageEvent` (src/client/message-event.ts).
//
// Over loopback (a server child process as in e2e.bench.mjs; each client in its own process;
// CPU ns per event from process.cpuUsage, median of the timed streams):
//   floor (node:http, bytes only), ours EventSource listeners (WASM), node:http +
//   eventsource-parser for reference.
//
// Then `node --cpu-prof` on our EventSource client over loopback: self and total time per
// function, mapped through dist/index.js.map to src/ files and lines when the build made one.
//
//   node bench/profile-steps.mjs [--no-mem] [--no-net] [--no-prof]
//   env: PROFILE_EVENTS=<in-memory corpus events>, PROFILE_NET_EVENTS=<per stream>,
//        PROFILE_STEPS=dispatch,eventsource (in-memory configurations to run; the table then
//        shows n/a for the others), BENCH_DIST=<index.js of another build, e.g. a patched copy>

import { fork } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { SourceMap } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { marketTicks, cutChunks } from "./fixtures.mjs";
import { DIST, ROOT, loadDist } from "./lib/impls.mjs";
import { machine, mdTable } from "./lib/common.mjs";

const EVENTS = Number(process.env.PROFILE_EVENTS) || 100_000;
const NET_EVENTS = Number(process.env.PROFILE_NET_EVENTS) || 300_000;
const CHUNK = 64 * 1024;
const ROUNDS = 25;
const WARMUP_ROUNDS = 5;
const HERE = (/** @type {string} */ p) => fileURLToPath(new URL(p, import.meta.url));

const dist = await loadDist();
if (!dist) throw new Error(`${DIST} is missing: run npm run build`);
const corpus = marketTicks({ events: EVENTS });
const chunks = cutChunks(corpus.bytes, CHUNK);
const ORIGIN = "http://127.0.0.1:8080";

/** @param {number[]} xs */
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// ------------------------------------------------------------------ raw module access

/** assembly/abi.ts is plain `export const NAME = number;` lines: read them as data. */
function abi() {
  /** @type {Record<string, number>} */
  const out = {};
  for (const m of readFileSync(join(ROOT, "assembly/abi.ts"), "utf8").matchAll(/^export const (\w+) = (0x[0-9a-f]+|\d+);/gim)) {
    out[m[1]] = Number(m[2]);
  }
  return out;
}

/** The SIMD build of the module, as src/parser/wasm.ts loads it (where the runtime has SIMD). */
function rawModule() {
  // asc's output, else the copy that the build puts in dist/ (for workerd).
  const built = join(ROOT, "build/parser-simd.wasm");
  const bytes = readFileSync(existsSync(built) ? built : join(ROOT, "dist/parser.wasm"));
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  const A = abi();
  const e = /** @type {any} */ (exports);
  const arena = e.arena.value;
  const state = e.state.value;
  const PAUSED = 1 << 30;
  let u8 = new Uint8Array(e.memory.buffer);
  const reset = () => {
    u8 = new Uint8Array(e.memory.buffer);
    u8.fill(0, state, state + A.STATE_WORDS * 4);
    const i32 = new Int32Array(e.memory.buffer);
    i32[(state >> 2) + A.S_MAX_EVENT_SIZE] = 16 * 1024 * 1024;
    i32[(state >> 2) + A.S_LOAD] = 1;
  };
  return {
    /** @param {Uint8Array[]} cs */
    copy(cs) {
      reset();
      for (const c of cs) u8.set(c, arena - c.length);
    },
    /** @param {Uint8Array[]} cs */
    scan(cs) {
      reset();
      for (const c of cs) {
        if (u8.length === 0) u8 = new Uint8Array(e.memory.buffer);
        u8.set(c, arena - c.length);
        let words = e.feed(c.length);
        while ((words & PAUSED) !== 0) words = e.resume();
      }
    },
  };
}

// ------------------------------------------------------------------ in-memory steps

const raw = rawModule();
const { createParser, EventSource } = dist;

/** @type {Record<string, () => number | Promise<number>>} each returns the events it saw (or -1: not counted) */
const steps = {
  copy() {
    raw.copy(chunks);
    return -1;
  },
  scan() {
    raw.scan(chunks);
    return -1;
  },
  parse() {
    let n = 0;
    const p = createParser({ onEvent() { n++; } }, { engine: "wasm" });
    for (const c of chunks) p.feed(c);
    return n;
  },
  message() {
    let n = 0;
    const p = createParser(
      {
        onEvent(e) {
          const m = new MessageEvent(e.type, { data: e.data, origin: ORIGIN, lastEventId: e.lastEventId });
          if (m !== null) n++;
        },
      },
      { engine: "wasm" },
    );
    for (const c of chunks) p.feed(c);
    return n;
  },
  dispatch() {
    let n = 0;
    let len = 0;
    const target = new EventTarget();
    target.addEventListener("tick", (/** @type {any} */ m) => {
      n++;
      len += m.data.length;
    });
    const p = createParser(
      { onEvent: (e) => target.dispatchEvent(new MessageEvent(e.type, { data: e.data, origin: ORIGIN, lastEventId: e.lastEventId })) },
      { engine: "wasm" },
    );
    for (const c of chunks) p.feed(c);
    return len === corpus.dataLength ? n : -2;
  },
  async stream() {
    const reader = chunkStream().getReader();
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.length;
    }
    return bytes === corpus.bytes.length ? -1 : -2;
  },
  eventsource() {
    return new Promise((resolve, reject) => {
      let n = 0;
      let len = 0;
      const fetch = async () => ({ status: 200, statusText: "OK", headers: new Headers({ "content-type": "text/event-stream" }), body: chunkStream() });
      const source = new EventSource(ORIGIN, { engine: "wasm", fetch });
      source.addEventListener("tick", (/** @type {any} */ m) => {
        n++;
        len += m.data.length;
        if (n === corpus.events) {
          source.close();
          resolve(len === corpus.dataLength ? n : -2);
        }
      });
      source.addEventListener("error", () => {
        source.close();
        reject(new Error(`error after ${n} events`));
      });
    });
  },
  async iterator() {
    let n = 0;
    let len = 0;
    const fetch = async () => ({ status: 200, statusText: "OK", headers: new Headers({ "content-type": "text/event-stream" }), body: chunkStream() });
    for await (const m of new EventSource(ORIGIN, { engine: "wasm", fetch }).events()) {
      n++;
      len += m.data.length;
      if (n === corpus.events) break;
    }
    return len === corpus.dataLength ? n : -2;
  },
};

/** The chunks as a byte stream, one chunk per read. */
function chunkStream() {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]);
      else controller.close();
    },
  });
}

async function inMemory() {
  const only = process.env.PROFILE_STEPS?.split(",");
  const names = Object.keys(steps).filter((n) => !only || only.includes(n));
  /** @type {Record<string, number[]>} */
  const ns = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = -WARMUP_ROUNDS; round < ROUNDS; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + Math.max(round, 0)) % names.length];
      const cpu0 = process.cpuUsage();
      const got = await steps[name]();
      const cpu = process.cpuUsage(cpu0);
      const ms = (cpu.user + cpu.system) / 1e3;
      if (got !== -1 && got !== corpus.events) throw new Error(`${name}: ${got} events, expected ${corpus.events}`);
      if (round >= 0) ns[name].push((ms * 1e6) / corpus.events);
    }
  }
  return {
    median: Object.fromEntries(names.map((n) => [n, median(ns[n])])),
    // Interference from other processes only ever adds time: on a loaded machine the fastest
    // pass is the better estimate of a configuration's own cost.
    min: Object.fromEntries(names.map((n) => [n, Math.min(...ns[n])])),
  };
}

// ------------------------------------------------------------------ loopback, per process

/** @param {number} events */
function startServer(events) {
  const child = fork(HERE("./lib/sse-server.mjs"), [String(events)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((resolve) => {
    child.once("message", (/** @type {any} */ m) => resolve({ ...m, url: `http://127.0.0.1:${m.port}/feed`, stop: () => child.kill() }));
  });
}

/**
 * CPU ns per event of one client (its own process): median of `streams` after a warm-up.
 * @param {any} server @param {string} id @param {number} streams @param {string[]} [extraArgs]
 */
async function clientCpu(server, id, streams, extraArgs = []) {
  const child = fork(HERE("./lib/e2e-client.mjs"), [id, server.url, String(server.events), String(server.dataLength)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    // A profiled client gets no forced GC, even with BENCH_E2E_GC=1: its GC figure is then the
    // streams' own.
    env: extraArgs.includes("--cpu-prof") ? { ...process.env, BENCH_E2E_GC: "0" } : process.env,
    execArgv: ["--expose-gc", "--no-warnings", ...extraArgs],
  });
  const next = () => new Promise((resolve, reject) => child.once("message", (/** @type {any} */ m) => (m.error || m.skip ? reject(new Error(m.error ?? m.skip)) : resolve(m))));
  await next();
  /** @type {number[]} */
  const cpu = [];
  for (let i = -1; i < streams; i++) {
    child.send({ run: true });
    const m = /** @type {any} */ (await next());
    if (i >= 0) cpu.push((m.cpuUs * 1e3) / server.events);
  }
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.disconnect();
  await exited;
  return median(cpu);
}

// ------------------------------------------------------------------ --cpu-prof

/**
 * Self and total time per function, from a .cpuprofile, with dist/ positions mapped to src/.
 * @param {string} file
 */
function analyzeProfile(file) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  // The build makes no source map (tsup.config.ts says why); its dist/ is unminified, so
  // dist/ lines are readable too. Build with `npx tsup --sourcemap` to see src/ lines.
  const map = existsSync(`${DIST}.map`) ? new SourceMap(JSON.parse(readFileSync(`${DIST}.map`, "utf8"))) : undefined;
  /** @type {Map<number, any>} */
  const nodes = new Map(profile.nodes.map((/** @type {any} */ n) => [n.id, n]));
  /** @type {Map<number, number>} */
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /** @type {Map<number, number>} self µs per node */
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  /** @param {any} n */
  const keyOf = (n) => {
    const f = n.callFrame;
    let where = f.url ? f.url.replace(/^file:\/\//, "").replace(ROOT, "") : "(native)";
    if (map && f.url && f.url.endsWith("dist/index.js") && f.lineNumber >= 0) {
      const entry = /** @type {any} */ (map.findEntry(f.lineNumber, f.columnNumber));
      if (entry?.originalSource) where = `${entry.originalSource.replace(/^.*?src\//, "src/")}:${entry.originalLine + 1}`;
    } else if (f.url) {
      where += `:${f.lineNumber + 1}`;
    }
    return `${f.functionName || "(anonymous)"}  ${where}`;
  };
  /** @type {Map<string, { self: number, total: number }>} */
  const byKey = new Map();
  for (const [id, us] of self) {
    const key = keyOf(nodes.get(id));
    const row = byKey.get(key) ?? { self: 0, total: 0 };
    row.self += us;
    byKey.set(key, row);
    // Total: this sample counts once for every distinct function on its stack.
    const seen = new Set();
    for (let at = /** @type {number | undefined} */ (id); at !== undefined; at = parent.get(at)) {
      const k = keyOf(nodes.get(at));
      if (seen.has(k)) continue;
      seen.add(k);
      const r = byKey.get(k) ?? { self: 0, total: 0 };
      r.total += us;
      byKey.set(k, r);
    }
  }
  return { total, rows: [...byKey].map(([key, v]) => ({ key, ...v })) };
}

// ------------------------------------------------------------------ main

const info = machine();
console.log(`# profile-steps  ${info.date}  commit ${info.commit}  Node ${info.node}  ${info.cpu} x${info.cores}  load ${info.load.join(" ")}`);
console.log(`in memory: ${corpus.events.toLocaleString("en-US")} market ticks, ${chunks.length} chunks of 64 KiB, ${ROUNDS} rounds\n`);
const { median: med, min: m } = process.argv.includes("--no-mem") ? { median: {}, min: {} } : await inMemory();
const ns1 = (/** @type {unknown} */ x) => (Number.isFinite(x) ? Number(x).toFixed(1) : "n/a");
const rows = [
  ["copy into the module", "copy", m.copy],
  ["scan (feed)", "scan", m.scan - m.copy],
  ["records to strings, parsed-event object, onEvent call", "parse", m.parse - m.scan],
  ["new MessageEvent", "message", m.message - m.parse],
  ["dispatchEvent, one listener reading data", "dispatch", m.dispatch - m.message],
  ["ReadableStream plumbing (fetch transport, per chunk)", "stream", m.stream],
  ["our EventSource's own work (eventsource - dispatch - stream; reads low by its cheaper MessageEvent)", "eventsource", m.eventsource - m.dispatch - m.stream],
  ["for await (source.events()) instead of a listener (iterator - eventsource)", "iterator", m.iterator - m.eventsource],
];
console.log(
  mdTable(
    ["step", "configuration ns/event, median", "configuration, fastest pass", "step ns/event (fastest passes)"],
    rows.map(([label, key, step]) => [String(label), ns1(med[key]), ns1(m[key]), ns1(step)]),
    ["l", "r", "r", "r"],
  ),
);

const noNet = process.argv.includes("--no-net");
const noProf = process.argv.includes("--no-prof");
if (!noNet || !noProf) {
  const server = /** @type {any} */ (await startServer(NET_EVENTS));
  try {
    if (!noNet) {
      console.log(`\nloopback: ${server.events.toLocaleString("en-US")} events per stream, CPU ns per event (client process), median of 5 streams after a warm-up\n`);
      /** @type {[string, number][]} */
      const net = [];
      for (const id of ["floor", "wasm", "iter", "http-esp"]) net.push([id, await clientCpu(server, id, 5)]);
      console.log(mdTable(["client", "CPU ns/event"], net.map(([id, ns]) => [id, ns.toFixed(1)]), ["l", "r"]));
      const floor = net[0][1];
      const ours = net[1][1];
      console.log(`\nours (WASM, listeners) - floor = ${(ours - floor).toFixed(1)} ns/event; in memory, our EventSource = ${m.eventsource.toFixed(1)} ns/event`);
    }
    if (!noProf) {
      /** @param {string} id */
      const profileOf = async (id) => {
        const dir = mkdtempSync(join(tmpdir(), `profile-steps-${id}-`));
        await clientCpu(server, id, 3, ["--cpu-prof", "--cpu-prof-dir", dir, "--cpu-prof-interval", "100"]);
        const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
        if (!file) throw new Error(`no .cpuprofile in ${dir}`);
        return { file: join(dir, file), ...analyzeProfile(join(dir, file)) };
      };
      const streamsEvents = 4 * server.events;
      const floorProf = await profileOf("floor");
      const gc = (/** @type {{ rows: { key: string, self: number }[] }} */ p) => p.rows.find((r) => r.key.startsWith("(garbage collector)"))?.self ?? 0;
      const busy = (/** @type {{ total: number, rows: { key: string, self: number }[] }} */ p) => p.total - (p.rows.find((r) => r.key.startsWith("(idle)"))?.self ?? 0);
      const { file, total, rows: prof } = await profileOf("wasm");
      console.log(
        `\nmain thread, not idle, per event: floor ${((busy(floorProf) * 1e3) / streamsEvents).toFixed(0)} ns, of which GC ${((gc(floorProf) * 1e3) / streamsEvents).toFixed(0)} ns; ` +
          `ours (WASM, listeners) ${((busy({ total, rows: prof }) * 1e3) / streamsEvents).toFixed(0)} ns, of which GC ${((gc({ total, rows: prof }) * 1e3) / streamsEvents).toFixed(0)} ns`,
      );
      const perEvent = (/** @type {number} */ us) => ((us * 1e3) / streamsEvents).toFixed(1);
      console.log(`\n--cpu-prof of ours (WASM, listeners), 4 streams (1 warm-up): ${(total / 1e3).toFixed(0)} ms sampled; ns/event over ${streamsEvents.toLocaleString("en-US")} events\n`);
      console.log("Self time, top 25:\n");
      console.log(mdTable(["function  where", "self %", "self ns/event"], prof.sort((a, b) => b.self - a.self).slice(0, 25).map((r) => [r.key, ((100 * r.self) / total).toFixed(1), perEvent(r.self)]), ["l", "r", "r"]));
      console.log("\nTotal (inclusive) time, functions in src/ and Node's event classes:\n");
      console.log(mdTable(["function  where", "total %", "total ns/event", "self ns/event"], prof.filter((r) => /src\/|dist\/|node:internal\/event_target|node:internal\/worker\/io|e2e-client|^now /.test(r.key)).sort((a, b) => b.total - a.total).slice(0, 25).map((r) => [r.key, ((100 * r.total) / total).toFixed(1), perEvent(r.total), perEvent(r.self)]), ["l", "r", "r", "r"]));
      console.log(`\nprofiles: ${floorProf.file}, ${file}`);
    }
  } finally {
    server.stop();
  }
}
