// Memory, per implementation, each measurement in a fresh child process started with
// --expose-gc (so one measurement's heap does not leak into the next):
//
// 1. Large payloads (16 KiB single-line events), fed in 1460 B and 64 KiB chunks. Deltas over
//    a baseline taken after the corpus and its chunks exist and a full GC:
//    - peak RSS and peak heap (heapUsed + external, which includes ArrayBuffers and so WASM
//      memory), sampled after every chunk with no forced GC: what the process really saw,
//      garbage included;
//    - parser-held peak: heap per parser (averaged over 200 of them, after a full GC) when it
//      holds the most: one 16 KiB event read but not yet dispatched.
//    Compared with the largest event block in the stream (target: within 2x).
// 2. Idle parsers: 10,000 alive at once, each holding a small partial event, ASCII or not
//    (the TS engine holds the unfinished line of a non-ASCII chunk as bytes); heap and RSS
//    delta per parser after a full GC.
//
//   node bench/memory.bench.mjs [--json out.json]      (it starts its own --expose-gc children)
//   env: BENCH_SMOKE=1, BENCH_REQUIRE_OURS=1

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { largePayloads, cutChunks } from "./fixtures.mjs";
import { loadImpls } from "./lib/impls.mjs";
import { SMOKE, fmtBytes, idleMemoryTable, largeMemoryTable, machine, writeJson } from "./lib/common.mjs";

const SELF = fileURLToPath(import.meta.url);
const LARGE_SIZE = SMOKE ? 256 * 1024 : 8 * 1024 * 1024;
const HELD_PARSERS = SMOKE ? 20 : 200; // parsers holding a nearly complete large event
const IDLE_PARSERS = SMOKE ? 500 : 10_000;
const LARGE_CHUNKS = [1460, 64 * 1024];
const PARTIALS = {
  ascii: Buffer.from('id: 1234567\nevent: tick\ndata: {"s":"AAPL","b":187.23,"a":18'),
  "non-ASCII": Buffer.from('id: 1234567\nevent: tick\ndata: {"s":"日経","b":187.23,"a":18'),
};

/**
 * A fresh, unpooled copy of a chunk, as a socket read hands one over: a parser that keeps a
 * chunk (or a view of it) alive pays for it here, as it would in real use.
 * @param {Buffer} view
 */
function socketChunk(view) {
  const copy = Buffer.allocUnsafeSlow(view.length);
  view.copy(copy);
  return copy;
}

function gc() {
  const g = /** @type {any} */ (globalThis).gc;
  if (typeof g !== "function") throw new Error("run memory children with --expose-gc");
  g();
  g();
}

function usage() {
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.external };
}

/**
 * @param {import("./lib/impls.mjs").Impl} impl
 * @param {number} chunkSize
 */
function heldCase(impl, chunkSize) {
  const corpus = largePayloads({ size: 256 * 1024 });
  // Warm the implementation up, so the JIT's code is in the baseline.
  impl.run(cutChunks(largePayloads({ size: 64 * 1024, seed: 7 }).bytes, chunkSize));

  // (a) what the parser holds at its fullest: HELD_PARSERS parsers, each fed (in socket
  // chunks) one whole event and then the next event up to just before its end, either with
  // the 16 KiB data line still unterminated or with it terminated but not yet dispatched;
  // then a full GC. Averaging over many parsers keeps GC noise out of the figure.
  const firstEnd = corpus.bytes.indexOf("\n\n") + 2;
  const secondEnd = corpus.bytes.indexOf("\n\n", firstEnd) + 2;
  let peakLive = 0;
  for (const cut of [secondEnd - 2, secondEnd - 1]) {
    const prefix = cutChunks(corpus.bytes.subarray(0, cut), chunkSize);
    gc();
    const before = usage().heap;
    const held = [];
    let events = 0;
    for (let i = 0; i < HELD_PARSERS; i++) {
      const parser = impl.open(() => events++);
      for (const chunk of prefix) parser.feed(socketChunk(chunk));
      held.push(parser);
    }
    gc();
    const perParser = (usage().heap - before) / HELD_PARSERS;
    if (events !== HELD_PARSERS) throw new Error(`${impl.label}: ${events} events, expected ${HELD_PARSERS}`);
    peakLive = Math.max(peakLive, perParser);
    for (const parser of held) parser.end();
  }
  return { largestEvent: secondEnd - firstEnd, peakLive };
}

/**
 * (b) peak RSS and heap over the whole stream, no forced GC; in its own process, so that
 * pages left over from other measurements do not hide growth.
 * @param {import("./lib/impls.mjs").Impl} impl
 * @param {number} chunkSize
 */
function streamCase(impl, chunkSize) {
  const corpus = largePayloads({ size: LARGE_SIZE });
  const chunks = cutChunks(corpus.bytes, chunkSize);
  impl.run(cutChunks(largePayloads({ size: 64 * 1024, seed: 7 }).bytes, chunkSize));
  gc();
  const base = usage();
  let peakRss = 0;
  let peakHeap = 0;
  let events = 0;
  const parser = impl.open(() => events++);
  for (const chunk of chunks) {
    parser.feed(socketChunk(chunk));
    const u = usage();
    if (u.rss - base.rss > peakRss) peakRss = u.rss - base.rss;
    if (u.heap - base.heap > peakHeap) peakHeap = u.heap - base.heap;
  }
  parser.end();
  if (events !== corpus.events) throw new Error(`${impl.label}: ${events} events, expected ${corpus.events}`);
  return { largestEvent: corpus.largestEvent, events, peakRss, peakHeap, baseRss: base.rss, baseHeap: base.heap };
}

/**
 * @param {import("./lib/impls.mjs").Impl} impl
 * @param {Buffer} partial
 */
function idleCase(impl, partial) {
  impl.open(() => {}).feed(partial); // load and warm its code before the baseline
  gc();
  const base = usage();
  const parsers = new Array(IDLE_PARSERS);
  for (let i = 0; i < IDLE_PARSERS; i++) {
    const p = impl.open(() => {});
    // Each gets its own copy of the bytes, as each stream's socket would hand it.
    p.feed(socketChunk(partial));
    parsers[i] = p;
  }
  gc();
  const after = usage();
  const perParser = { rss: (after.rss - base.rss) / IDLE_PARSERS, heap: (after.heap - base.heap) / IDLE_PARSERS };
  // Keep them alive until after the measurement.
  if (parsers.length !== IDLE_PARSERS) throw new Error("unreachable");
  return { parsers: IDLE_PARSERS, partialBytes: partial.length, perParser };
}

async function child() {
  const { what, impl: id, chunkSize, partial } = JSON.parse(process.argv[process.argv.indexOf("--child") + 1]);
  const { impls } = await loadImpls();
  const impl = impls.find((i) => i.id === id);
  if (!impl) throw new Error(`no implementation ${id}`);
  const result = what === "held" ? heldCase(impl, chunkSize) : what === "stream" ? streamCase(impl, chunkSize) : idleCase(impl, PARTIALS[partial]);
  process.stdout.write(JSON.stringify(result));
}

/** @param {object} spec */
function inChild(spec) {
  const out = execFileSync(process.execPath, ["--expose-gc", SELF, "--child", JSON.stringify(spec)], {
    encoding: "utf8",
    env: process.env,
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out);
}

export async function main() {
  const { impls, notes } = await loadImpls({ requireOurs: process.env.BENCH_REQUIRE_OURS === "1" });
  const info = machine();
  console.log(`# memory bench  ${info.date}  Node ${info.node}  ${info.cpu} x${info.cores}${SMOKE ? "  (SMOKE)" : ""}`);
  for (const note of notes) console.log(`NOTE: ${note}`);

  const large = [];
  for (const chunkSize of LARGE_CHUNKS) {
    for (const impl of impls) {
      const held = inChild({ what: "held", impl: impl.id, chunkSize });
      const stream = inChild({ what: "stream", impl: impl.id, chunkSize });
      large.push({
        impl: impl.id,
        label: impl.label,
        ours: impl.ours,
        chunkSize,
        ...stream,
        largestEvent: Math.max(held.largestEvent, stream.largestEvent),
        peakLive: held.peakLive,
      });
    }
  }
  console.log(`## large payloads (${fmtBytes(LARGE_SIZE)} corpus), deltas over baseline`);
  console.log(
    largeMemoryTable(large) + "\n",
  );

  const idle = [];
  for (const partial of Object.keys(PARTIALS)) {
    for (const impl of impls) {
      const r = inChild({ what: "idle", impl: impl.id, partial });
      idle.push({ impl: impl.id, label: impl.label, ours: impl.ours, partial, ...r });
    }
  }
  console.log(`## idle parsers: ${IDLE_PARSERS.toLocaleString("en-US")} alive, each holding a partial event of about ${PARTIALS.ascii.length} B`);
  console.log(idleMemoryTable(idle, IDLE_PARSERS) + "\n");
  const out = { kind: "memory", machine: info, largeSize: LARGE_SIZE, notes, large, idle, idleParsers: IDLE_PARSERS };
  writeJson(out);
  return out;
}

if (process.argv.includes("--child")) await child();
else await main();
