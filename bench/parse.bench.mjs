// Parser throughput: every workload x chunk size x implementation, in one process and one
// run, so the ratios to eventsource-parser compare like with like.
//
//   node bench/parse.bench.mjs [--json out.json]
//   env: BENCH_SMOKE=1 (tiny), BENCH_SIZE=<bytes per corpus>, BENCH_TIME=<ms per case>,
//        BENCH_WORKLOADS=market-ticks,utf8   BENCH_CHUNKS=65536,64   BENCH_REQUIRE_OURS=1
//        BENCH_IMPLS=wasm,js (eventsource-parser, the baseline, is always kept)

import { Bench } from "tinybench";
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
const time = Number(process.env.BENCH_TIME) || (SMOKE ? 5 : 1200);
const workloadFilter = process.env.BENCH_WORKLOADS?.split(",");
const chunkSizes = process.env.BENCH_CHUNKS?.split(",").map(Number) ?? CHUNK_SIZES;
const BASELINE = "eventsource-parser";

/**
 * @typedef {object} CaseResult
 * @property {string} impl
 * @property {string} label
 * @property {boolean} ours
 * @property {number} medianMs  median time of one pass over the corpus
 * @property {number} rme       relative margin of error of the mean, %
 * @property {number} samples
 * @property {number} mbps
 * @property {number} eventsPerSec
 * @property {number} ratio     events/s (= MB/s) relative to eventsource-parser
 */

export async function main() {
  const { impls, notes } = await loadImpls({ requireOurs: process.env.BENCH_REQUIRE_OURS === "1" });
  const info = machine();
  console.log(`# parse bench  ${info.date}  Node ${info.node}  ${info.cpu} x${info.cores}  load ${info.load.join(" ")}`);
  console.log(`corpus ~${(size / 2 ** 20).toFixed(2)} MiB per workload, ${time} ms per case${SMOKE ? " (SMOKE)" : ""}`);
  for (const note of notes) console.log(`NOTE: ${note}`);
  console.log(`implementations: ${impls.map((i) => i.label).join(", ")}\n`);

  const cases = [];
  for (const workload of WORKLOADS) {
    if (workloadFilter && !workloadFilter.includes(workload.name)) continue;
    const corpus = workload.generate({ size });
    for (const chunkSize of chunkSizes) {
      const chunks = cutChunks(corpus.bytes, chunkSize);
      const where = `${corpus.name} @ ${chunkLabel(chunkSize)}`;

      // Every implementation must agree with the corpus before any figure is taken.
      for (const impl of impls) {
        const tally = impl.run(chunks);
        if (tally.events !== corpus.events || tally.dataLength !== corpus.dataLength) {
          throw new Error(
            `${impl.label} disagrees on ${where}: ${tally.events} events / ${tally.dataLength} data ` +
              `chars, expected ${corpus.events} / ${corpus.dataLength}`,
          );
        }
      }

      const bench = new Bench({
        time,
        iterations: SMOKE ? 2 : 5,
        warmupTime: SMOKE ? 1 : Math.min(300, time / 4),
        warmupIterations: SMOKE ? 1 : 2,
        throws: true,
      });
      for (const impl of impls) {
        bench.add(impl.id, () => {
          const tally = impl.run(chunks);
          if (tally.events !== corpus.events) throw new Error(`${impl.label}: wrong event count on ${where}`);
        });
      }
      await bench.run();

      /** @type {CaseResult[]} */
      const results = impls.map((impl) => {
        const task = bench.getTask(impl.id);
        const result = /** @type {any} */ (task?.result);
        if (!result || result.state !== "completed") {
          throw new Error(`${impl.label} did not complete on ${where}: ${result?.state} ${result?.error ?? ""}`);
        }
        const medianMs = result.latency.p50;
        return {
          impl: impl.id,
          label: impl.label,
          ours: impl.ours,
          medianMs,
          rme: result.latency.rme,
          samples: result.latency.samplesCount,
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
  }
  const out = { kind: "parse", machine: info, loadAfter: machine().load, size, time, notes, impls: impls.map(({ id, label, ours }) => ({ id, label, ours })), cases };
  writeJson(out);
  return out;
}

await main();
