// The benchmark suite in BENCH_SMOKE mode (tiny corpora, millisecond budgets), so that it
// cannot rot: every bench runs, every implementation agrees on every corpus (the benches
// throw otherwise), and the report and chart are written. No timing is asserted here, and
// the full-size bench never runs in the test command.

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, test } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "bench-smoke-test-"));
let stdout = "";

beforeAll(() => {
  // The benches measure what users get: the built package.
  if (!existsSync(join(root, "dist", "index.js"))) {
    execFileSync("npm", ["run", "build"], { cwd: root, stdio: "ignore" });
  }
  stdout = execFileSync(process.execPath, [join(root, "bench", "run.mjs")], {
    cwd: root,
    // Both of our engines must be measurable: a bench that silently drops one has rotted.
    env: { ...process.env, BENCH_SMOKE: "1", BENCH_OUT: out, BENCH_REQUIRE_OURS: "1" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 240_000,
  });
}, 300_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

test("every bench runs and reports each implementation", () => {
  for (const heading of ["# parse bench", "# e2e bench", "# memory bench", "## Targets"]) {
    expect(stdout).toContain(heading);
  }
  for (const impl of [
    "ours (WASM)",
    "ours (TS)",
    "eventsource-parser 3",
    "undici 7 (EventSourceStream)",
    "floor: node:http, bytes only",
    "node:http + eventsource-parser 3",
    "ours EventSource, listeners (WASM)",
    "ours EventSource, listeners (TS)",
    "ours for await (source.events()) (WASM)",
    "ours source.batches() (WASM)",
    "eventsource 4 (npm)",
    "undici 7 EventSource",
  ]) {
    expect(stdout).toContain(impl);
  }
});

test("e2e: every client ran every round in its own process, with ratios to both baselines", () => {
  const { e2e } = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
  expect(e2e.rounds).toBeGreaterThanOrEqual(1);
  const ids = e2e.results.map((r: { impl: string }) => r.impl);
  expect(ids).toEqual(["floor", "http-esp", "wasm", "js", "iter", "batches", "eventsource", "undici"]);
  for (const r of e2e.results) {
    // batches() comes from another change: until dist/ has it, the client says so and is skipped.
    if (r.skipped !== undefined) {
      expect(r.impl).toBe("batches");
      expect(e2e.notes.join("\n")).toContain(r.skipped);
      continue;
    }
    expect(r.streams).toHaveLength(e2e.rounds);
    for (const s of r.streams) {
      expect(s.ms).toBeGreaterThan(0);
      expect(s.cpuUs).toBeGreaterThan(0);
    }
    expect(r.vs.eventsource.speed.ratio).toBeGreaterThan(0);
    expect(r.vs["http-esp"].cpu.ratio).toBeGreaterThan(0);
  }
});

test("RESULTS.md has the machine, the targets and every table", () => {
  const md = readFileSync(join(out, "RESULTS.md"), "utf8");
  expect(md).toContain(`Node ${process.version}`);
  expect(md).toContain("SMOKE MODE");
  for (const heading of ["## Targets", "## Parser throughput", "## End to end", "## Memory", "### Idle parsers"]) {
    expect(md).toContain(heading);
  }
  // The commit measured is part of the report (a short hash, maybe "+ uncommitted changes").
  expect(md).toMatch(/Source tree: commit [0-9a-f]{7,}/);
  for (const target of ["e2e batch path", "e2e DOM path: listeners (WASM) ≥ 2.2x", "e2e DOM path: `for await (source.events())` ≥ 2.2x"]) {
    expect(md).toMatch(new RegExp(`\\| ${target.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}[^\n]*\\*\\*(MET|MISSED|NOT MEASURED)\\*\\*`));
  }
  expect(md).toMatch(/\*\*(MET|MISSED|NOT MEASURED)\*\*/);
  for (const workload of ["market-ticks", "market-ticks-crlf", "large-payloads", "multi-line", "heartbeats", "utf8"]) {
    expect(md).toContain(`| ${workload} | 64 B |`);
  }
});

test("ratios.svg is a well-formed SVG chart", () => {
  const svg = readFileSync(join(out, "ratios.svg"), "utf8");
  expect(svg.startsWith("<svg ")).toBe(true);
  expect(svg.trim().endsWith("</svg>")).toBe(true);
  expect(svg).toContain("<rect");
  expect(svg).not.toMatch(/NaN|undefined/);
  expect(svg).toMatch(/commit [0-9a-f]{7,}/);
  expect(svg).toContain("e2e: events/s vs eventsource");
});
