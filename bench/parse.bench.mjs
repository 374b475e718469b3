// Parser throughput: every workload x chunk size x implementation, in one process and one
// run, so the ratios to eventsource-parser compare like with like.
//
//   node bench/parse.bench.mjs [--json out.json] [--corpus feed.sse.rec]
//   env: BENCH_SMOKE=1 (tiny), BENCH_SIZE=<bytes per corpus>, BENCH_TIME=<ms per case>,
//        BENCH_WORKLOADS=market-ticks,utf8   BENCH_CHUNKS=65536,64   BENCH_REQUIRE_OURS=1
//        BENCH_IMPLS=wasm,js (eventsource-parser, the baseline, is always kept)
//   --corpus (or BENCH_CORPUS): instead of the generated workloads, a recording made by
//        `eventsource-wasm record` (docs/recording.md), fed in its chunks as they were received

import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { WORKLOADS, FULL_SIZE, cutChunks } from "./fixtures.mjs";
import { loadImpls } from "./lib/impls.mjs";
import {
  SMOKE,
  CHUNK_SIZES,
  chunkLabel,
  fmt,
  fmtRatio,
  machine,
  mbPerSec,
  mdTable,
  writeJson,
} from "./lib/common.mjs";

const size = Number(process.env.BENCH_SIZE) || (SMOKE ? 96 * 1024 : FULL_SIZE);
const time = Number(process.env.BENCH_TIME) || (SMOKE ? 5 : 2000);
const workloadFilter = process.env.BENCH_WORKLOADS?.split(",");
const chunkSizes = process.env.BENCH_CHUNKS?.split(",").map(Number) ?? CHUNK_SIZES;
const BASELINE = "eventsource-parser";
const WARMUP_PASSES = SMOKE ? 1 : 2;
const WARMUP_MS = SMOKE ? 0 : 150;
const MIN_ROUNDS = SMOKE ? 2 : 5;
const MAX_ROUNDS = 500;
const corpusArg = process.argv.indexOf("--corpus");
const CORPUS = corpusArg >= 0 ? process.argv[corpusArg + 1] : process.env.BENCH_CORPUS;

/**
 * A recording's frames, read by the CLI's own reader (src/cli/recording.ts, which imports only
 * node: modules): transpiled here by esbuild, as the built CLI bundles it and exports nothing.
 * @param {string} path
 * @returns {Promise<Uint8Array[]>}
 */
async function recordedChunks(path) {
  const { transform } = await import("esbuild");
  const source = readFileSync(new URL("../src/cli/recording.ts", import.meta.url), "utf8");
  const { code } = await transform(source, { loader: "ts", format: "esm", target: "node20" });
  const { readRecording } = await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`);
  const rec = readRecording(path);
  if (rec.truncatedAt !== undefined) console.log(`NOTE: ${path} is cut short at byte ${rec.truncatedAt}: its ${rec.frames.length} whole chunks are used`);
  return rec.frames.map((/** @type {{ bytes: Uint8Array }} */ f) => f.bytes);
}

/**
 * The cases to measure, one at a time (a corpus is made only when its turn comes): each
 * generated workload cut into each chunk size, or the recording's chunks as recorded.
 * @returns {AsyncGenerator<{ corpus: { name: string, description: string, bytes: Uint8Array, events?: number, dataLength?: number }, chunkSize: number | null, chunks: Uint8Array[], where: string }>}
 */
async function* inputs() {
  if (CORPUS) {
    const chunks = await recordedChunks(CORPUS);
    const name = basename(CORPUS);
    yield { corpus: { name, description: `recorded: ${CORPUS}`, bytes: Buffer.concat(chunks) }, chunkSize: null, chunks, where: `${name} @ as recorded` };
    return;
  }
  for (const workload of WORKLOADS) {
    if (workloadFilter && !workloadFilter.includes(workload.name)) continue;
    const corpus = workload.generate({ size });
    for (const chunkSize of chunkSizes) {
      yield { corpus, chunkSize, chunks: cutChunks(corpus.bytes, chunkSize), where: `${corpus.name} @ ${chunkLabel(chunkSize)}` };
    }
  }
}

/**
 * @typedef {object} CaseResult
 * @property {string} impl
 * @property {string} label
 * @property {boolean} ours
 * @property {number} medianMs  median time of one pass over the corpus
 * @property {number} rme       relative margin of error of the mean pass time, % (95%)
 * @property {number} samples
 * @property {number} mbps
 * @property {number} eventsPerSec
 * @property {number} ratio     events/s (= MB/s) relative to eventsource-parser
 */

/** @param {number[]} xs */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Relative margin of error of the mean, % (95%, normal approximation).
 * @param {number[]} xs
 */
function rme(xs) {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1));
  return (100 * 1.96 * sd) / Math.sqrt(n) / mean;
}

/**
 * Times one whole pass (fresh parser, every chunk) per sample. The implementations take
 * turns, one pass each per round, in a rotating order, rather than one after the other for
 * a whole time budget each: on a shared machine, load that comes and goes then touches every
 * implementation alike, and so the ratios stay fair. Warm-up first (JIT), then rounds until
 * the budget (time x implementations) is spent and at least MIN_ROUNDS are done.
 * @param {import("./lib/impls.mjs").Impl[]} impls
 * @param {Buffer[]} chunks
 * @param {number} events expected per pass
 * @param {string} where
 * @returns {number[][]} samples (ms) per implementation
 */
function measureInterleaved(impls, chunks, events, where) {
  const check = (/** @type {import("./lib/impls.mjs").Impl} */ impl, /** @type {{ events: number }} */ tally) => {
    if (tally.events !== events) throw new Error(`${impl.label}: ${tally.events} events on ${where}, expected ${events}`);
  };
  for (const impl of impls) {
    const t0 = performance.now();
    for (let n = 0; n < WARMUP_PASSES || performance.now() - t0 < WARMUP_MS; n++) check(impl, impl.run(chunks));
  }
  /** @type {number[][]} */
  const samples = impls.map(() => []);
  const start = performance.now();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    for (let k = 0; k < impls.length; k++) {
      const i = (round + k) % impls.length;
      const t0 = performance.now();
      const tally = impls[i].run(chunks);
      samples[i].push(performance.now() - t0);
      check(impls[i], tally);
    }
    if (round + 1 >= MIN_ROUNDS && performance.now() - start >= time * impls.length) break;
  }
  return samples;
}

export async function main() {
  const { impls, notes } = await loadImpls({ requireOurs: process.env.BENCH_REQUIRE_OURS === "1" });
  const info = machine();
  console.log(`# parse bench  ${info.date}  Node ${info.node}  ${info.cpu} x${info.cores}  load ${info.load.join(" ")}`);
  console.log(`${CORPUS ? `corpus: the recording ${CORPUS}` : `corpus ~${(size / 2 ** 20).toFixed(2)} MiB per workload`}; per case: warm-up, then interleaved rounds (one pass each) for ~${time} ms x implementations, median pass${SMOKE ? " (SMOKE)" : ""}`);
  for (const note of notes) console.log(`NOTE: ${note}`);
  console.log(`implementations: ${impls.map((i) => i.label).join(", ")}\n`);

  const cases = [];
  for await (const { corpus, chunkSize, chunks, where } of inputs()) {
    // Every implementation must agree with the corpus (a recording, whose count is not known
    // beforehand: with the baseline, eventsource-parser) before any figure is taken.
    const tallies = impls.map((impl) => impl.run(chunks));
    const reference = tallies[impls.findIndex((impl) => impl.id === BASELINE)] ?? tallies[0];
    corpus.events ??= reference.events;
    corpus.dataLength ??= reference.dataLength;
    impls.forEach((impl, i) => {
      const tally = tallies[i];
      if (tally.events !== corpus.events || tally.dataLength !== corpus.dataLength) {
        throw new Error(
          `${impl.label} disagrees on ${where}: ${tally.events} events / ${tally.dataLength} data ` +
            `chars, expected ${corpus.events} / ${corpus.dataLength}`,
        );
      }
    });

    const samples = measureInterleaved(impls, chunks, corpus.events, where);

    /** @type {CaseResult[]} */
    const results = impls.map((impl, i) => {
      const xs = samples[i];
      const medianMs = median(xs);
      return {
        impl: impl.id,
        label: impl.label,
        ours: impl.ours,
        medianMs,
        rme: rme(xs),
        samples: xs.length,
        mbps: mbPerSec(corpus.bytes.length, medianMs),
        eventsPerSec: corpus.events / (medianMs / 1e3),
        ratio: NaN,
      };
    });
    const base = results.find((r) => r.impl === BASELINE);
    for (const r of results) r.ratio = base ? base.medianMs / r.medianMs : NaN;

    console.log(`## ${where}  (${corpus.events.toLocaleString("en-US")} events, ${(corpus.bytes.length / 2 ** 20).toFixed(1)} MiB, ${chunks.length.toLocaleString("en-US")} chunks)`);
    console.log(
      mdTable(
        ["implementation", "MB/s", "events/s", "vs eventsource-parser", "±% (n)"],
        results.map((r) => [r.label, fmt(r.mbps), fmt(r.eventsPerSec), fmtRatio(r.ratio), `${r.rme.toFixed(1)} (${r.samples})`]),
        ["l", "r", "r", "r", "r"],
      ) + "\n",
    );
    cases.push({
      workload: corpus.name,
      description: corpus.description,
      chunkSize,
      bytes: corpus.bytes.length,
      events: corpus.events,
      dataLength: corpus.dataLength,
      chunks: chunks.length,
      results,
    });
  }
  const out = { kind: "parse", machine: info, loadAfter: machine().load, size, time, notes, impls: impls.map(({ id, label, ours }) => ({ id, label, ours })), cases };
  writeJson(out);
  return out;
}

await main();
