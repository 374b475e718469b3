// Parser cost in instructions, not time: each implementation runs under valgrind's callgrind in
// a process of its own, warms up (so JIT compilation is outside the count), switches counting
// on for itself, then parses the same pre-cut corpus `passes` times. Instruction counts do not
// move with the machine's load, which on a shared 2-core machine moves wall-clock figures by
// up to 2x; use this to judge a change to a parser, and the timed benches to report speed.
//
//   node bench/callgrind.mjs [--workload market-ticks] [--chunk 64] [--size 2097152]
//                            [--passes 5] [--impls wasm,js,eventsource-parser]
//
// Needs valgrind (`apt-get install valgrind`) and a built dist/. Node runs with
// --single-threaded so that no background compiler thread's work lands in the count. As in
// parse.bench.mjs, each pass makes a fresh parser and reads every event's type, data and id;
// the count includes that set-up and garbage collection in the measured passes, so on small
// corpora with large chunks the set-up weighs more than in the timed bench's 24 MiB.

import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { WORKLOADS, cutChunks } from "./fixtures.mjs";
import { loadImpls } from "./lib/impls.mjs";

const { values } = parseArgs({
  options: {
    workload: { type: "string", default: "market-ticks" },
    chunk: { type: "string", default: "64" },
    size: { type: "string", default: String(2 * 1024 * 1024) },
    passes: { type: "string", default: "5" },
    impls: { type: "string", default: "wasm,js,eventsource-parser" },
    child: { type: "string" },
  },
});
const workload = WORKLOADS.find((w) => w.name === values.workload);
if (!workload) throw new Error(`unknown workload ${values.workload}: ${WORKLOADS.map((w) => w.name).join(", ")}`);
const passes = Number(values.passes);

if (values.child) {
  // In valgrind: warm up, turn counting on for this process, measure, exit.
  const { impls } = await loadImpls();
  const impl = impls.find((i) => i.id === values.child);
  if (!impl) throw new Error(`no implementation ${values.child}`);
  const corpus = workload.generate({ size: Number(values.size) });
  const chunks = cutChunks(corpus.bytes, Number(values.chunk));
  const pass = () => {
    const tally = impl.run(chunks);
    if (tally.events !== corpus.events) throw new Error(`${impl.label}: ${tally.events} events, expected ${corpus.events}`);
  };
  for (let i = 0; i < 8; i++) pass();
  execFileSync("callgrind_control", ["-i", "on", String(process.pid)], { stdio: "ignore" });
  for (let i = 0; i < passes; i++) pass();
  process.exit(0);
}

/** Instructions counted in one implementation's measured passes. */
function count(/** @type {string} */ id, /** @type {string} */ dir) {
  const out = join(dir, `${id}.callgrind`);
  const args = [
    "--tool=callgrind",
    "--instr-atstart=no",
    `--callgrind-out-file=${out}`,
    process.execPath,
    "--single-threaded",
    fileURLToPath(import.meta.url),
    ...process.argv.slice(2).filter((a) => !a.startsWith("--child")),
    "--child",
    id,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn("valgrind", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`${id}: valgrind exited ${code}\n${stderr.slice(-2000)}`));
      const totals = /^(?:totals|summary): (\d+)/m.exec(readFileSync(out, "utf8"));
      if (!totals) return reject(new Error(`${id}: no totals in ${out}`));
      resolve(Number(totals[1]));
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), "callgrind-"));
try {
  const ids = values.impls.split(",");
  const base = "eventsource-parser";
  /** @type {Map<string, number>} */
  const perPass = new Map();
  // One at a time: valgrind is single-threaded and counts are independent of load anyway.
  for (const id of ids) perPass.set(id, (await count(id, dir)) / passes);
  console.log(`${workload.name} @ ${values.chunk} B chunks, ${(Number(values.size) / 2 ** 20).toFixed(2)} MiB corpus, ${passes} measured passes, instructions per pass (GC included)`);
  for (const [id, ir] of perPass) {
    const vs = perPass.has(base) ? `  ${(/** @type {number} */ (perPass.get(base)) / ir).toFixed(2)}x ${base}` : "";
    console.log(`${id.padEnd(20)} ${(ir / 1e6).toFixed(2)}M${vs}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
