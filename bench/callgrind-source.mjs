// The client path's cost in instructions, without a network: EventSource.fromReadableStream
// over the same pre-cut chunks of market ticks, under valgrind's callgrind, one consumer at a
// time in a process of its own (warm-up passes, then counting switched on for the measured
// ones). It runs the source's whole path from a body chunk on (Attempt, Delivery, the parser,
// MessageEvents, listeners or iterators) and nothing of node:http, so the chunking is the
// same in every run: unlike callgrind-e2e.mjs, whose counts move by 2-4% with how a loaded
// machine cuts the network's chunks, two runs of one build agree closely. The figure to judge
// a change to the client path by, with BENCH_BASE_DIST for the earlier build in the same run.
//
//   node bench/callgrind-source.mjs [--size 8388608] [--chunk 65536] [--passes 4]
//                                   [--consumers listeners,events,batches]
//
// env: BENCH_BASE_DIST=<checkout>/dist/index.js measures that build too. Needs valgrind and a
// built dist/.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { cutChunks, marketTicks } from "./fixtures.mjs";

const { values } = parseArgs({
  options: {
    size: { type: "string", default: String(8 * 1024 * 1024) },
    chunk: { type: "string", default: "65536" },
    passes: { type: "string", default: "4" },
    consumers: { type: "string", default: "listeners,events,batches" },
    child: { type: "string" },
    dist: { type: "string" },
  },
});
const passes = Number(values.passes);

if (values.child) {
  const { EventSource } = await import(pathToFileURL(/** @type {string} */ (values.dist)).href);
  const chunks = cutChunks(marketTicks({ size: Number(values.size) }).bytes, Number(values.chunk));
  const consumer = values.child;
  /** One source over every chunk; reads each event's type, data and id, as the other benches do. */
  async function pass() {
    let i = 0;
    const stream = new ReadableStream({
      pull(controller) {
        if (i < chunks.length) controller.enqueue(chunks[i++]);
        else controller.close();
      },
    });
    const source = EventSource.fromReadableStream(stream);
    let events = 0;
    let length = 0;
    const read = (/** @type {{ type: string, data: string, lastEventId: string }} */ e) => {
      events++;
      length += e.type.length + e.data.length + e.lastEventId.length;
    };
    if (consumer === "listeners") {
      // Market ticks are named events ("tick") and plain messages.
      source.addEventListener("message", read);
      source.addEventListener("tick", read);
      await new Promise((done) => source.addEventListener("error", done));
    } else if (consumer === "events") {
      for await (const e of source.events()) read(e);
    } else {
      for await (const batch of source.batches()) for (const e of batch) read(e);
    }
    if (length === 0) throw new Error(`${consumer}: no event read`);
    return events;
  }
  for (let k = 0; k < passes; k++) await pass();
  execFileSync("callgrind_control", ["-i", "on", String(process.pid)], { stdio: "ignore" });
  let events = 0;
  for (let k = 0; k < passes; k++) events += await pass();
  process.stdout.write(String(events));
} else {
  const here = fileURLToPath(import.meta.url);
  const builds = [["ours", resolve(fileURLToPath(new URL("../dist/index.js", import.meta.url)))]];
  if (process.env.BENCH_BASE_DIST) builds.push(["base", resolve(process.env.BENCH_BASE_DIST)]);
  const dir = mkdtempSync(join(tmpdir(), "callgrind-source-"));
  console.log(`market ticks, ${(Number(values.size) / 2 ** 20).toFixed(0)} MiB in ${values.chunk} B chunks, ${passes} measured passes after ${passes} warm-up ones; instructions per event`);
  try {
    for (const consumer of values.consumers.split(",")) {
      for (const [label, dist] of builds) {
        const out = join(dir, `${consumer}-${label}.callgrind`);
        const args = ["--tool=callgrind", "--instr-atstart=no", `--callgrind-out-file=${out}`, process.execPath, "--single-threaded"];
        args.push(here, "--child", consumer, "--dist", dist, "--size", values.size, "--chunk", values.chunk, "--passes", values.passes);
        const events = Number(execFileSync("valgrind", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
        const total = Number(/^(?:summary|totals): (\d+)/m.exec(readFileSync(out, "utf8"))?.[1]);
        console.log(`${consumer.padEnd(10)} ${label.padEnd(5)} ${Math.round(total / events).toLocaleString("en-US").padStart(7)}  (${events.toLocaleString("en-US")} events)`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
