// Turns the three benches' JSON into bench/RESULTS.md (tables, targets MET/MISSED) and
// bench/ratios.svg (a hand-written bar chart of ratios to eventsource-parser).

import { chunkLabel, fmt, fmtBytes, fmtRatio, idleMemoryTable, largeMemoryTable, mdTable } from "./common.mjs";

/**
 * @typedef {{ name: string, verdict: "MET" | "MISSED" | "NOT MEASURED", figure: string }} Target
 */

/**
 * @param {any} parse
 * @param {string} workload
 * @param {number} chunkSize
 * @param {string} impl
 */
function parseResult(parse, workload, chunkSize, impl) {
  const c = parse?.cases.find((/** @type {any} */ x) => x.workload === workload && x.chunkSize === chunkSize);
  return c?.results.find((/** @type {any} */ r) => r.impl === impl);
}

/** @param {boolean} ok */
const verdict = (ok) => (ok ? "MET" : "MISSED");

/**
 * Every target of the issue, judged on ratios measured in the same run.
 * @param {any} parse @param {any} e2e @param {any} memory
 * @returns {Target[]}
 */
export function judgeTargets(parse, e2e, memory) {
  /** @type {Target[]} */
  const targets = [];
  const hasWasm = parse?.impls.some((/** @type {any} */ i) => i.id === "wasm");
  const hasJs = parse?.impls.some((/** @type {any} */ i) => i.id === "js");

  for (const [chunk, want] of /** @type {const} */ ([[65536, 3], [64, 2.2]])) {
    const name = `parser, market ticks, ${chunkLabel(chunk)} chunks: WASM ≥ ${want}x eventsource-parser events/s`;
    const r = parseResult(parse, "market-ticks", chunk, "wasm");
    targets.push(
      r
        ? { name, verdict: verdict(r.ratio >= want), figure: `${fmtRatio(r.ratio)} (${fmt(r.eventsPerSec)} events/s)` }
        : { name, verdict: "NOT MEASURED", figure: "WASM engine not available" },
    );
  }

  /**
   * @param {string} name
   * @param {string} a impl that must be ahead
   * @param {string} b impl it is compared with
   * @param {boolean} orEqual
   * @param {boolean} available
   */
  const everyCase = (name, a, b, orEqual, available) => {
    if (!parse || !available) return targets.push({ name, verdict: "NOT MEASURED", figure: "engine not available" });
    const misses = [];
    let worst = Infinity;
    let worstAt = "";
    for (const c of parse.cases) {
      const ra = c.results.find((/** @type {any} */ r) => r.impl === a);
      const rb = c.results.find((/** @type {any} */ r) => r.impl === b);
      if (!ra || !rb) continue;
      const x = rb.medianMs / ra.medianMs;
      if (x < worst) {
        worst = x;
        worstAt = `${c.workload} @ ${chunkLabel(c.chunkSize)}`;
      }
      if (orEqual ? x < 1 : x <= 1) misses.push(`${c.workload} @ ${chunkLabel(c.chunkSize)} (${fmtRatio(x)})`);
    }
    targets.push({
      name,
      verdict: verdict(misses.length === 0),
      figure: misses.length ? `behind in ${misses.length}/${parse.cases.length}: ${misses.join(", ")}` : `lowest ${fmtRatio(worst)} (${worstAt})`,
    });
  };
  everyCase("parser, every workload and chunk size: WASM ahead of eventsource-parser", "wasm", "eventsource-parser", false, hasWasm);
  everyCase("parser, every workload and chunk size: WASM ahead of our TS engine", "wasm", "js", false, hasWasm && hasJs);
  everyCase("parser, every workload and chunk size: TS engine ≥ eventsource-parser", "js", "eventsource-parser", true, hasJs);

  // Issue 11: the batch path and the DOM path, each client in its own process.
  const e2eRow = (/** @type {string} */ id) => e2e?.results.find((/** @type {any} */ r) => r.impl === id);
  /**
   * @param {string} name @param {string} id @param {string} peer @param {number} want
   * @param {boolean} cpuToo also at no more CPU per event than the peer
   */
  const e2eTarget = (name, id, peer, want, cpuToo) => {
    const r = e2eRow(id);
    const v = r?.vs?.[peer];
    if (!r || r.skipped || !v) {
      targets.push({ name, verdict: "NOT MEASURED", figure: r?.skipped ?? (r ? `${peer} not measured` : `${id} not measured`) });
      return;
    }
    const ok = v.speed.ratio >= want && (!cpuToo || v.cpu.ratio <= 1);
    const cpu = `CPU per event ${fmtRatio(v.cpu.ratio)} theirs (${Math.round(r.cpuNsPerEvent)} vs ${Math.round(e2eRow(peer).cpuNsPerEvent)} ns)`;
    targets.push({
      name,
      verdict: verdict(ok),
      figure: `${fmtRatio(v.speed.ratio)} events/s (per round ${v.speed.min.toFixed(2)}-${v.speed.max.toFixed(2)}); ${cpu}`,
    });
  };
  e2eTarget("e2e batch path: `source.batches()` ≥ 3x `eventsource` events/s", "batches", "eventsource", 3, false);
  e2eTarget("e2e batch path: `source.batches()` ≥ 1.3x node:http + eventsource-parser events/s, at no more CPU per event", "batches", "http-esp", 1.3, true);
  e2eTarget("e2e DOM path: listeners (WASM) ≥ 2.2x `eventsource` events/s", "wasm", "eventsource", 2.2, false);
  e2eTarget("e2e DOM path: `for await (source.events())` ≥ 2.2x `eventsource` events/s", "iter", "eventsource", 2.2, false);

  for (const engine of ["wasm", "js"]) {
    const label = engine === "wasm" ? "WASM" : "TS";
    const rows = memory?.large.filter((/** @type {any} */ r) => r.impl === engine) ?? [];
    const held = `large payloads, ${label} engine: parser-held peak ≤ 2x the largest event`;
    const streaming = `large payloads, ${label} engine: peak heap delta while streaming (no forced GC) ≤ 2x the largest event`;
    if (rows.length === 0) {
      targets.push({ name: held, verdict: "NOT MEASURED", figure: "engine not available" });
      targets.push({ name: streaming, verdict: "NOT MEASURED", figure: "engine not available" });
      continue;
    }
    targets.push({
      name: held,
      verdict: verdict(rows.every((/** @type {any} */ r) => r.peakLive <= 2 * r.largestEvent)),
      figure: rows.map((/** @type {any} */ r) => `${fmtBytes(r.peakLive)} = ${(r.peakLive / r.largestEvent).toFixed(2)}x @ ${chunkLabel(r.chunkSize)}`).join("; ") + ` (largest event ${fmtBytes(rows[0].largestEvent)})`,
    });
    const peers = memory.large.filter((/** @type {any} */ r) => !r.ours);
    targets.push({
      name: streaming,
      verdict: verdict(rows.every((/** @type {any} */ r) => r.peakHeap <= 2 * r.largestEvent)),
      figure:
        rows.map((/** @type {any} */ r) => `heap ${fmtBytes(r.peakHeap)} = ${(r.peakHeap / r.largestEvent).toFixed(0)}x, RSS ${fmtBytes(r.peakRss)} @ ${chunkLabel(r.chunkSize)}`).join("; ") +
        (peers.length ? ` (peers: heap ${peers.map((/** @type {any} */ r) => fmtBytes(r.peakHeap)).join(", ")}; young-generation garbage, not parser state)` : ""),
    });
  }
  return targets;
}

/** @param {{ ratio: number, min: number, max: number } | undefined} r */
const fmtRange = (r) => (r ? `${fmtRatio(r.ratio)} (${r.min.toFixed(2)}-${r.max.toFixed(2)})` : "n/a");

/**
 * The e2e table, for the console and RESULTS.md.
 * @param {any[]} results
 */
export function e2eTable(results) {
  return mdTable(
    ["client", "events/s (min-max)", "MB/s", "CPU ns/event (min-max)", "events/s vs eventsource (per round)", "vs node:http + eventsource-parser", "CPU/event vs eventsource", "CPU/event vs node:http + e-p"],
    results.map((r) =>
      r.skipped
        ? [r.label, "skipped", "", "", "", "", "", ""]
        : [
            r.label,
            `${fmt(r.eventsPerSec)} (${fmt(r.eventsPerSecMin)}-${fmt(r.eventsPerSecMax)})`,
            fmt(r.mbps),
            `${Math.round(r.cpuNsPerEvent)} (${Math.round(r.cpuNsPerEventMin)}-${Math.round(r.cpuNsPerEventMax)})`,
            fmtRange(r.vs.eventsource?.speed),
            fmtRange(r.vs["http-esp"]?.speed),
            fmtRange(r.vs.eventsource?.cpu),
            fmtRange(r.vs["http-esp"]?.cpu),
          ],
    ),
    ["l", "r", "r", "r", "r", "r", "r", "r"],
  );
}

/**
 * @param {{ parse: any, e2e: any, memory: any, targets: Target[], wallSeconds: number }} all
 */
export function renderMarkdown({ parse, e2e, memory, targets, wallSeconds }) {
  const m = parse?.machine ?? e2e?.machine ?? memory?.machine;
  const out = [];
  out.push("# Benchmark results", "");
  out.push(`- Date: ${m.date}`);
  if (m.commit) out.push(`- Source tree: commit ${m.commit} (\`npm run bench\` builds dist/ from it first)`);
  // A partial run (\`npm run bench:e2e\`) keeps the other benches' last figures: say which
  // commit and date each table comes from.
  const each = /** @type {[string, any][]} */ ([["parse", parse], ["e2e", e2e], ["memory", memory]]).filter(([, b]) => b?.machine);
  if (each.some(([, b]) => b.machine.commit !== m.commit || b.machine.date.slice(0, 10) !== m.date.slice(0, 10))) {
    out.push(`- Measured: ${each.map(([name, b]) => `${name} on commit ${b.machine.commit} (${b.machine.date.slice(0, 16)}Z)`).join("; ")}`);
  }
  out.push(`- Node ${m.node} (V8 ${m.v8}), ${m.platform}`);
  out.push(`- CPU: ${m.cpu}, ${m.cores} cores`);
  const loaded = [m, e2e?.machine].some((x) => x && x.load[0] > x.cores);
  out.push(
    `- Load average at start: ${m.load.join(" ")}${parse?.loadAfter ? `; after the parse bench: ${parse.loadAfter.join(" ")}` : ""}` +
      `${e2e && e2e.machine !== m ? `; at the e2e bench's start: ${e2e.machine.load.join(" ")}` : ""}${e2e?.loadAfter ? `; after it: ${e2e.loadAfter.join(" ")}` : ""}. ` +
      (loaded
        ? "**The machine was loaded (load average above its core count): figures are noisy; the e2e per-round ranges show how much.**"
        : "The machine is shared: figures can carry a few % of noise, ratios measured side by side less so."),
  );
  out.push(`- Last run of all three benches: ${Number.isFinite(wallSeconds) ? `${Math.round(wallSeconds)} s` : "not recorded"}${m.smoke ? " — SMOKE MODE: tiny sizes, figures are meaningless" : ""}`);
  out.push(`- Produced by \`npm run bench\` (bench/run.mjs); chart: [ratios.svg](ratios.svg)`);
  const notes = [...(parse?.notes ?? []), ...(e2e?.notes ?? []), ...(memory?.notes ?? [])];
  for (const note of new Set(notes)) out.push(`- NOTE: ${note}`);
  out.push("");

  out.push("## Targets", "");
  out.push(mdTable(["target", "verdict", "figure"], targets.map((t) => [t.name, `**${t.verdict}**`, t.figure])));
  out.push("");

  if (parse) {
    const impls = parse.impls;
    out.push("## Parser throughput", "");
    out.push(
      `Each corpus is ~${(parse.size / 2 ** 20).toFixed(0)} MiB, cut once into chunks that every implementation receives; ` +
        "each pass creates a parser, feeds every chunk and reads each event's type, data and last event ID. " +
        "After a warm-up, the implementations take turns, one pass each per round in a rotating order, until each case's time budget is spent (at least 5 rounds): load from other processes then touches all of them alike. Figures are the median pass; ±% is the 95% margin of error of the mean pass time. Ratios are events/s (equally MB/s) over eventsource-parser's in the same case. " +
        "eventsource-parser is fed through one streaming TextDecoder; undici's EventSourceStream is driven through its `_transform` method (no stream plumbing).",
      "",
    );
    out.push("### Ratios to eventsource-parser (events/s)", "");
    out.push(
      mdTable(
        ["workload", "chunk", ...impls.map((/** @type {any} */ i) => i.label)],
        parse.cases.map((/** @type {any} */ c) => [
          c.workload,
          chunkLabel(c.chunkSize),
          ...impls.map((/** @type {any} */ i) => fmtRatio(c.results.find((/** @type {any} */ r) => r.impl === i.id)?.ratio)),
        ]),
        ["l", "r", ...impls.map(() => /** @type {const} */ ("r"))],
      ),
      "",
    );
    out.push("### MB/s and events/s", "");
    out.push(
      mdTable(
        ["workload", "chunk", "implementation", "MB/s", "events/s", "vs eventsource-parser", "±% (samples)"],
        parse.cases.flatMap((/** @type {any} */ c) =>
          c.results.map((/** @type {any} */ r) => [c.workload, chunkLabel(c.chunkSize), r.label, fmt(r.mbps), fmt(r.eventsPerSec), fmtRatio(r.ratio), `${r.rme.toFixed(1)} (${r.samples})`]),
        ),
        ["l", "r", "l", "r", "r", "r", "r"],
      ),
      "",
    );
    out.push("Workloads:", "");
    const seen = new Set();
    for (const c of parse.cases) {
      if (seen.has(c.workload)) continue;
      seen.add(c.workload);
      out.push(`- \`${c.workload}\`: ${c.description}; ${c.events.toLocaleString("en-US")} events, ${(c.bytes / 2 ** 20).toFixed(1)} MiB`);
    }
    out.push("");
  }

  if (e2e) {
    out.push("## End to end (loopback HTTP, each client in its own process)", "");
    out.push(
      `A node:http server in a child process streams ${e2e.events.toLocaleString("en-US")} market-tick events (${(e2e.bytes / 2 ** 20).toFixed(1)} MiB, chunked, 64 KiB writes) on 127.0.0.1. ` +
        "Each client runs in a child process of its own and imports the built package (dist/) by its path; a stream is timed from the request to the last event (EventSources are closed at it). " +
        `After one warm-up stream per client, the clients take turns, one stream each per round in a rotating order: ${e2e.rounds} rounds. ` +
        "Figures are medians over the rounds, with the min-max; CPU is the client process's user+system time (`process.cpuUsage`: its own threads, GC included, not the server's). " +
        // results.json of runs before 2026-12-01 has no forcedGc: those runs all forced it.
        (e2e.forcedGc !== false
          ? "A full GC ran before each stream (BENCH_E2E_GC=1, or a run before 2026-12-01), so each stream re-optimized its path and regrew its young generation (see bench/README.md). "
          : "Nothing runs between a client's streams (no forced GC), as in a process that keeps receiving: the figures are the warmed-up steady state (see bench/README.md for the method before 2026-12-01). ") +
        "Ratios are of the medians; in brackets, the range of the same ratio taken round by round (streams of one round ran side by side). " +
        "The floor's events/s are the stream's events over the time to read its bytes.",
      "",
    );
    out.push(e2eTable(e2e.results), "");
  }

  if (memory) {
    out.push("## Memory", "");
    out.push(
      `Large payloads (${fmtBytes(memory.largeSize)} corpus of 16 KiB single-line events), each case in a fresh \`--expose-gc\` process, chunks handed over as fresh unpooled copies (as a socket does). ` +
        "*Parser-held peak*: heap (JS heap + external, which includes ArrayBuffers and WASM memory) per parser, averaged over 200 parsers that each hold a 16 KiB event read but not dispatched, after a full GC. " +
        "*Peak heap / RSS (no GC)*: the highest delta over the baseline (after a full GC), sampled after every chunk while one parser streams the whole corpus with no forced GC, in its own process: what the process really saw, garbage (dispatched strings, decoded chunks, socket chunks) included, so it mostly measures how much garbage V8's young generation lets pile up before a scavenge. " +
        "RSS deltas are coarse: V8 reuses pages it already holds (the baseline RSS is shown), so a 0 B delta means no new pages, not no allocation.",
      "",
    );
    out.push(
      largeMemoryTable(memory.large),
      "",
    );
    out.push(`### Idle parsers: ${memory.idleParsers.toLocaleString("en-US")} alive, each holding a small partial event`, "");
    out.push(idleMemoryTable(memory.idle, memory.idleParsers), "");
  }
  return out.join("\n");
}

const COLORS = {
  wasm: "#2563eb",
  js: "#16a34a",
  iter: "#0891b2",
  batches: "#7c3aed",
  "eventsource-parser": "#9ca3af",
  "http-esp": "#9ca3af",
  undici: "#f59e0b",
  eventsource: "#57534e",
  floor: "#d1d5db",
};

/** @param {string} s */
const esc = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * A horizontal bar chart: one group per workload x chunk size (plus e2e), one bar per
 * implementation, length = ratio to eventsource-parser (or to `eventsource` for e2e).
 * @param {any} parse @param {any} e2e
 */
export function renderSvg(parse, e2e) {
  /** @type {{ title: string, bars: { id: string, label: string, ratio: number }[] }[]} */
  const groups = [];
  for (const c of parse?.cases ?? []) {
    groups.push({
      title: `${c.workload} @ ${chunkLabel(c.chunkSize)}`,
      bars: c.results.map((/** @type {any} */ r) => ({ id: r.impl, label: r.label, ratio: r.ratio })),
    });
  }
  if (e2e) {
    groups.push({
      title: "e2e: events/s vs eventsource",
      bars: e2e.results.filter((/** @type {any} */ r) => !r.skipped).map((/** @type {any} */ r) => ({ id: r.impl, label: r.label, ratio: r.vs.eventsource?.speed.ratio })),
    });
    groups.push({
      title: "e2e: vs node:http + e-parser",
      bars: e2e.results.filter((/** @type {any} */ r) => !r.skipped).map((/** @type {any} */ r) => ({ id: r.impl, label: r.label, ratio: r.vs["http-esp"]?.speed.ratio })),
    });
  }
  // An earlier build run beside (BENCH_BASE_DIST) is in the tables, not on the chart.
  for (const g of groups) g.bars = g.bars.filter((b) => !b.id.endsWith("@base"));
  const legend = new Map();
  for (const g of groups) for (const b of g.bars) if (!legend.has(b.id)) legend.set(b.id, b.label);

  const left = 190;
  const right = 70;
  const plot = 560;
  const barH = 11;
  const gap = 2;
  const groupGap = 10;
  const top = 84;
  const max = Math.max(1, ...groups.flatMap((g) => g.bars.map((b) => (Number.isFinite(b.ratio) ? b.ratio : 0))));
  const scale = Math.ceil(max);
  const x = (/** @type {number} */ r) => left + (Math.min(r, scale) / scale) * plot;
  let y = top;
  const body = [];
  for (const g of groups) {
    const h = g.bars.length * (barH + gap) - gap;
    body.push(`<text x="${left - 8}" y="${y + h / 2 + 4}" text-anchor="end" class="g">${esc(g.title)}</text>`);
    for (const b of g.bars) {
      const w = Number.isFinite(b.ratio) ? x(b.ratio) - left : 0;
      const color = /** @type {Record<string, string>} */ (COLORS)[b.id] ?? "#a855f7";
      body.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color}"><title>${esc(b.label)}: ${fmtRatio(b.ratio)}</title></rect>`);
      body.push(`<text x="${(left + w + 4).toFixed(1)}" y="${y + barH - 2}" class="v">${fmtRatio(b.ratio)}</text>`);
      y += barH + gap;
    }
    y += groupGap;
  }
  const height = y + 30;
  const width = left + plot + right;
  const grid = [];
  for (let t = 0; t <= scale; t++) {
    grid.push(`<line x1="${x(t)}" y1="${top - 6}" x2="${x(t)}" y2="${y - groupGap}" class="${t === 1 ? "one" : "grid"}"/>`);
    grid.push(`<text x="${x(t)}" y="${y + 6}" text-anchor="middle" class="v">${t}x</text>`);
  }
  let lx = 10;
  let ly = 30;
  const legendItems = [];
  for (const [id, label] of legend) {
    const w = 24 + label.length * 5.6;
    if (lx + w > width - 10) {
      lx = 10;
      ly += 16;
    }
    const color = /** @type {Record<string, string>} */ (COLORS)[id] ?? "#a855f7";
    legendItems.push(`<rect x="${lx}" y="${ly}" width="10" height="10" fill="${color}"/><text x="${lx + 14}" y="${ly + 9}" class="v">${esc(label)}</text>`);
    lx += w;
  }
  const m = parse?.machine ?? e2e?.machine;
  const title = `Ratio to eventsource-parser (events/s, same run) — ${m ? `${m.date.slice(0, 10)}, commit ${[...new Set([parse?.machine?.commit, e2e?.machine?.commit].filter(Boolean))].join(" / ")}, Node ${m.node}, ${m.cpu}` : ""}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">`,
    `<style>.g{font-size:11px;fill:#111}.v{font-size:10px;fill:#333}.t{font-size:13px;font-weight:600;fill:#111}.grid{stroke:#e5e7eb}.one{stroke:#111;stroke-dasharray:3 2}</style>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" class="t">${esc(title)}</text>`,
    ...legendItems,
    ...grid,
    ...body,
    `<text x="${left}" y="${height - 6}" class="v">dashed line: 1x = eventsource-parser (parser groups) / the eventsource package and node:http + eventsource-parser (e2e groups); longer is faster</text>`,
    `</svg>`,
    "",
  ].join("\n");
}
