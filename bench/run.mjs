// `npm run bench`: runs the parse, e2e and memory benches (each in its own process, one
// after the other), prints their tables, then writes RESULTS.md and ratios.svg.
//
//   node bench/run.mjs [parse] [e2e] [memory]     (default: all three)
//   node bench/run.mjs --report                   (write RESULTS.md and ratios.svg again from results.json)
//   env: BENCH_SMOKE=1   tiny sizes, seconds; output goes to a temp dir unless BENCH_OUT is set
//        BENCH_OUT=<dir> where RESULTS.md and ratios.svg go (default: bench/)
//        and the per-bench variables (see each file's header)

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SMOKE } from "./lib/common.mjs";
import { judgeTargets, renderMarkdown, renderSvg } from "./lib/report.mjs";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const outDir = process.env.BENCH_OUT ?? (SMOKE ? mkdtempSync(join(tmpdir(), "bench-smoke-")) : HERE);
mkdirSync(outDir, { recursive: true });
const jsonDir = mkdtempSync(join(tmpdir(), "bench-json-"));

const all = ["parse", "e2e", "memory"];
const asked = process.argv.slice(2).filter((a) => all.includes(a));
const which = asked.length ? asked : all;

// --report: no bench, only RESULTS.md and ratios.svg written again from results.json (after a
// change to the report's layout).
const reportOnly = process.argv.includes("--report");
const t0 = performance.now();
/** @type {Record<string, any>} */
const results = {};
for (const name of reportOnly ? [] : which) {
  const json = join(jsonDir, `${name}.json`);
  // A failing bench (e.g. implementations that disagree on a corpus) fails the whole run.
  execFileSync(process.execPath, [join(HERE, `${name}.bench.mjs`), "--json", json], { stdio: "inherit", env: process.env });
  results[name] = JSON.parse(readFileSync(json, "utf8"));
}
// A partial run keeps the other benches' figures from the last full run, if there are any.
const previous = join(outDir, "results.json");
const old = (asked.length || reportOnly) && existsSync(previous) ? JSON.parse(readFileSync(previous, "utf8")) : {};
for (const name of all) if (!results[name] && old[name]) results[name] = old[name];
// The time of a run of all three; a partial run keeps the last one's.
const full = !reportOnly && which.length === all.length;
const wallSeconds = full ? (performance.now() - t0) / 1e3 : old.wallSeconds ?? NaN;
results.wallSeconds = wallSeconds;

const { parse, e2e, memory } = results;
const targets = judgeTargets(parse, e2e, memory);
// The benches run apart (ingest, gzip, HTTP/2) keep their hand-written sections, after KEPT.
const KEPT = "<!-- Sections below are written by hand from benches run apart; bench/run.mjs keeps them. -->";
const resultsFile = join(outDir, "RESULTS.md");
const existing = existsSync(resultsFile) ? readFileSync(resultsFile, "utf8") : "";
const kept = existing.includes(KEPT) ? existing.slice(existing.indexOf(KEPT)) : "";
writeFileSync(resultsFile, renderMarkdown({ parse, e2e, memory, targets, wallSeconds }) + "\n" + (kept ? `\n${kept}` : ""));
writeFileSync(join(outDir, "ratios.svg"), renderSvg(parse, e2e));
writeFileSync(previous, JSON.stringify(results) + "\n");

console.log("## Targets");
for (const t of targets) console.log(`${t.verdict.padEnd(12)} ${t.name}: ${t.figure}`);
console.log(`\nwrote ${join(outDir, "RESULTS.md")} and ratios.svg${reportOnly ? "" : ` (${Math.round((performance.now() - t0) / 1e3)} s)`}`);
