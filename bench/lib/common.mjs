// Small helpers shared by the bench scripts: smoke mode, machine info, number formatting,
// markdown tables, and the JSON hand-off to bench/run.mjs.

import os from "node:os";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** BENCH_SMOKE=1: tiny sizes and time budgets, so the whole suite runs in seconds. */
export const SMOKE = process.env.BENCH_SMOKE === "1";

/** The commit measured, and whether src/ or assembly/ had uncommitted changes. */
function commit() {
  const cwd = fileURLToPath(new URL("../../", import.meta.url));
  try {
    const git = (/** @type {string[]} */ ...args) => execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = git("status", "--porcelain", "--", "src", "assembly") !== "";
    return `${git("rev-parse", "--short", "HEAD")}${dirty ? " + uncommitted changes in src/ or assembly/" : ""}`;
  } catch {
    return "unknown";
  }
}

/** @returns {{ date: string, node: string, v8: string, cpu: string, cores: number, load: number[], platform: string, smoke: boolean, commit: string }} */
export function machine() {
  const cpus = os.cpus();
  return {
    commit: commit(),
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    cpu: cpus[0]?.model?.trim() ?? "unknown",
    cores: cpus.length,
    load: os.loadavg().map((x) => Math.round(x * 100) / 100),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    smoke: SMOKE,
  };
}

/** `--json <file>` on the command line: where to write the results for run.mjs. */
export function jsonOutPath() {
  const i = process.argv.indexOf("--json");
  return i >= 0 ? process.argv[i + 1] : null;
}

/**
 * @param {unknown} results
 */
export function writeJson(results) {
  const path = jsonOutPath();
  if (path) writeFileSync(path, JSON.stringify(results, null, 2) + "\n");
}

/**
 * Number with 3 significant digits (no exponent below 1e9).
 * @param {number} x
 */
export function fmt(x) {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  const abs = Math.abs(x);
  if (abs >= 1000) return Math.round(x).toLocaleString("en-US");
  return x.toPrecision(3);
}

/** @param {number} x ratio */
export function fmtRatio(x) {
  return Number.isFinite(x) ? `${x.toFixed(2)}x` : "n/a";
}

/** @param {number} bytes */
export function fmtBytes(bytes) {
  const abs = Math.abs(bytes);
  if (abs >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  if (abs >= 1 << 10) return `${(bytes / (1 << 10)).toFixed(1)} KiB`;
  return `${Math.round(bytes)} B`;
}

/**
 * A GitHub-flavoured markdown table.
 * @param {string[]} head
 * @param {(string | number)[][]} rows
 * @param {("l" | "r")[]} [align]
 */
export function mdTable(head, rows, align = []) {
  const sep = head.map((_, i) => (align[i] === "r" ? "---:" : "---"));
  const line = (/** @type {(string | number)[]} */ cells) => `| ${cells.join(" | ")} |`;
  return [line(head), line(sep), ...rows.map(line)].join("\n");
}

/** @param {number} bytes @param {number} ms */
export function mbPerSec(bytes, ms) {
  return bytes / 1e6 / (ms / 1e3);
}

/** Chunk sizes of the parse bench: a big read, one TCP segment's payload, a tiny write. */
export const CHUNK_SIZES = [64 * 1024, 1460, 64];

/** @param {number} size */
export function chunkLabel(size) {
  return size >= 1024 && size % 1024 === 0 ? `${size / 1024} KiB` : `${size} B`;
}

/**
 * The large-payload memory table (console and RESULTS.md alike).
 * @param {Array<any>} rows results of memory.bench.mjs's "large" cases
 */
export function largeMemoryTable(rows) {
  return mdTable(
    ["implementation", "chunk", "largest event", "parser-held peak", "x event", "peak heap (no GC)", "x event", "peak RSS (no GC)", "RSS baseline"],
    rows.map((r) => [
      r.label,
      chunkLabel(r.chunkSize),
      fmtBytes(r.largestEvent),
      fmtBytes(r.peakLive),
      (r.peakLive / r.largestEvent).toFixed(2),
      fmtBytes(r.peakHeap),
      (r.peakHeap / r.largestEvent).toFixed(0),
      fmtBytes(r.peakRss),
      fmtBytes(r.baseRss),
    ]),
    ["l", "r", "r", "r", "r", "r", "r", "r", "r"],
  );
}

/**
 * The idle-parser memory table (console and RESULTS.md alike).
 * @param {Array<any>} rows results of memory.bench.mjs's "idle" cases
 * @param {number} parsers how many were alive
 */
export function idleMemoryTable(rows, parsers) {
  return mdTable(
    ["implementation", "partial event", "heap per parser", "RSS per parser", `heap for ${parsers.toLocaleString("en-US")}`],
    // (Results from before the non-ASCII case have no `partial`: theirs was ASCII.)
    rows.map((r) => [r.label, r.partial ?? "ascii", fmtBytes(r.perParser.heap), fmtBytes(r.perParser.rss), fmtBytes(r.perParser.heap * r.parsers)]),
    ["l", "l", "r", "r", "r"],
  );
}
