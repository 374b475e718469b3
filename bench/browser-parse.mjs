// Parse speed in browsers: our two engines ("js", the TS engine; "wasm") and
// eventsource-parser, in Chromium, Firefox and WebKit (the drivers of the browser suite,
// test/browsers/drivers.mjs), on the same pre-cut corpora as parse.bench.mjs. A page on
// 127.0.0.1 runs every implementation in turn and posts its per-pass times; this prints the
// medians and each one's ratio to eventsource-parser in the same browser (above 1: faster).
//
//   node bench/browser-parse.mjs [--browsers chromium,firefox,webkit] [--chunks 65536,1460,64]
//     [--workloads market-ticks,short-ticks] [--size 1048576] [--turns 7] [--min-ms 100]
//     [--write]   (puts the table in bench/RESULTS.md, between its browser-parse markers)
//     [--cpu]     (times each turn by the CPU time of the page's process, read from Linux's
//                  /proc, instead of the clock: on a machine shared with other work, the
//                  clock counts the time the page waited for a core too)
//
// Needs a built dist/ (npm run build) and the browsers the browser suite uses. Every step is
// bounded in time: a browser that does not start or answer is reported and skipped.

import { createServer } from "node:http";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { WORKLOADS } from "./fixtures.mjs";
import { bounded, puppeteerBrowser, webkitBrowser } from "../test/browsers/drivers.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const { values } = parseArgs({
  options: {
    browsers: { type: "string", default: "chromium,firefox,webkit" },
    chunks: { type: "string", default: "65536,1460,64" },
    workloads: { type: "string", default: "market-ticks,short-ticks" },
    impls: { type: "string", default: "js,wasm,eventsource-parser" },
    size: { type: "string", default: String(1024 * 1024) },
    turns: { type: "string", default: "7" },
    "min-ms": { type: "string", default: "100" },
    write: { type: "boolean", default: false },
    cpu: { type: "boolean", default: false },
    // Another build (say, an earlier commit's) in place of dist/browser.js, the one pages get.
    dist: { type: "string", default: `${ROOT}dist/browser.js` },
  },
});
if (!existsSync(values.dist)) throw new Error(`no ${values.dist}: run npm run build first`);

const corpora = values.workloads.split(",").map((name) => {
  const w = WORKLOADS.find((x) => x.name === name);
  if (!w) throw new Error(`unknown workload ${name}`);
  return w.generate({ size: Number(values.size) });
});
const plan = {
  workloads: corpora.map((c) => ({ workload: c.name, events: c.events })),
  chunks: values.chunks.split(",").map(Number),
  impls: values.impls.split(","),
  turns: Number(values.turns),
  minMs: Number(values["min-ms"]),
  warmup: 3,
  cpu: values.cpu,
};
// Bound on one browser's whole run: every turn of every implementation takes about minMs
// (more when a pass is slower), plus warm-up; generous, for a loaded machine.
const RUN_MS = 60_000 + plan.workloads.length * plan.chunks.length * plan.impls.length * (plan.turns * plan.minMs * 4 + 5_000);

const bundle = await build({
  entryPoints: [`${ROOT}bench/browser/page.mjs`],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  write: false,
  logLevel: "silent",
  plugins: [{ name: "ours", setup: (b) => b.onResolve({ filter: /^eventsource-wasm$/ }, () => ({ path: resolve(values.dist) })) }],
});
const pageJs = bundle.outputFiles[0].text;
const html = `<!doctype html><meta charset="utf-8"><title>parse bench</title><script type="module" src="/page.js"></script>`;

let deliver = () => {};
const server = createServer((req, res) => {
  // Cross-origin isolated, so that Firefox and WebKit time with fine performance.now().
  const headers = { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp", "cache-control": "no-store" };
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  if (req.method === "POST" && url.pathname === "/cpu") {
    res.writeHead(200, { ...headers, "content-type": "text/plain" }).end(String(cpuMark()));
    return;
  }
  if (req.method === "POST" && url.pathname === "/results") {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      res.writeHead(204, headers).end();
      deliver(JSON.parse(body));
    });
    return;
  }
  const corpus = corpora.find((c) => url.pathname === `/corpus/${c.name}`);
  if (url.pathname === "/") res.writeHead(200, { ...headers, "content-type": "text/html" }).end(html);
  else if (url.pathname === "/page.js") res.writeHead(200, { ...headers, "content-type": "text/javascript" }).end(pageJs);
  else if (url.pathname === "/plan") res.writeHead(200, { ...headers, "content-type": "application/json" }).end(JSON.stringify(plan));
  else if (corpus) res.writeHead(200, { ...headers, "content-type": "application/octet-stream" }).end(corpus.bytes);
  else res.writeHead(404, headers).end();
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));

// --cpu: the page's process is the browser process (a descendant of this one) that spent the
// most CPU time in the first timed turn; from then on each pair of marks gives the
// milliseconds of CPU time, all its threads, between them.
let pageProcess = null;
let candidates = null;
let markedAt = null;
function cpuNs(pid) {
  try {
    const tasks = readdirSync(`/proc/${pid}/task`);
    return tasks.reduce((sum, t) => sum + Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]), 0);
  } catch {
    return 0;
  }
}
function browserProcesses() {
  const parent = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      parent.set(d, readFileSync(`/proc/${d}/stat`, "utf8").split(") ")[1].split(" ")[1]);
    } catch {}
  }
  const out = [];
  const queue = [String(process.pid)];
  while (queue.length > 0) {
    const p = queue.shift();
    for (const [child, of] of parent) if (of === p) out.push(child), queue.push(child);
  }
  // Chromium's renderers (not its own UI's), Firefox's content processes, WebKit's web process.
  return out.filter((pid) => {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      return !cmd.includes("top-chrome-webui") && /--type=renderer|-contentproc|WebKitWebProcess/.test(cmd);
    } catch {
      return false;
    }
  });
}
function cpuMark() {
  if (pageProcess === null) {
    if (candidates === null) {
      candidates = new Map(browserProcesses().map((pid) => [pid, cpuNs(pid)]));
      if (candidates.size === 0) throw new Error("--cpu: no browser page process found in /proc");
      return 0;
    }
    let spent = -1;
    for (const [pid, at] of candidates) {
      const d = cpuNs(pid) - at;
      if (d > spent) [spent, pageProcess] = [d, pid];
    }
    candidates = null;
    return spent / 1e6;
  }
  const now = cpuNs(pageProcess);
  if (markedAt === null) {
    markedAt = now;
    return 0;
  }
  const spent = now - markedAt;
  markedAt = null;
  return spent / 1e6;
}
const origin = `http://127.0.0.1:${server.address().port}`;

const LAUNCHERS = { chromium: () => puppeteerBrowser("chromium"), firefox: () => puppeteerBrowser("firefox"), webkit: () => webkitBrowser() };
/** @type {{ browser: string, version: string, results?: any[], error?: string }[]} */
const runs = [];
for (const name of values.browsers.split(",")) {
  const launch = LAUNCHERS[name];
  if (!launch) throw new Error(`unknown browser ${name}`);
  process.stderr.write(`${name}: starting\n`);
  let browser;
  pageProcess = candidates = markedAt = null;
  try {
    browser = await bounded(launch(), 90_000, `${name} launch`);
    const got = new Promise((ok) => (deliver = ok));
    await browser.open(`${origin}/`);
    const answer = await bounded(got, RUN_MS, `${name} bench`);
    if (!answer.ok) throw new Error(answer.error);
    runs.push({ browser: name, version: browser.version, results: answer.results });
    process.stderr.write(`${name}: done\n`);
  } catch (error) {
    runs.push({ browser: name, version: browser?.version ?? "?", error: String(error?.message ?? error).split("\n")[0] });
    process.stderr.write(`${name}: ${error?.message ?? error}\n`);
  } finally {
    await browser?.close().catch(() => {});
  }
}
server.close();

const ratio = (r, base) => (base ? (base.msPerPass / r.msPerPass).toFixed(2) : "?");
const lines = [];
lines.push(`Corpora of ${(Number(values.size) / 1048576).toFixed(0)} MiB; median of ${plan.turns} turns (each at least ${plan.minMs} ms of whole passes${plan.cpu ? ", timed by the CPU time of the page's process" : ""}); ratio = eventsource-parser's time / ours (above 1.00: ours faster).`);
lines.push("");
lines.push("| browser | workload | chunk | TS engine MiB/s | WASM MiB/s | eventsource-parser MiB/s | TS / e-p | WASM / e-p |");
lines.push("|---|---|---:|---:|---:|---:|---:|---:|");
for (const run of runs) {
  if (run.error) {
    lines.push(`| ${run.browser} | not measured: ${run.error.replace(/\|/g, "/")} | | | | | | |`);
    continue;
  }
  for (const { workload } of plan.workloads) {
    for (const chunk of plan.chunks) {
      const at = (id) => run.results.find((r) => r.workload === workload && r.chunk === chunk && r.impl === id);
      const [js, wasm, ep] = [at("js"), at("wasm"), at("eventsource-parser")];
      const speed = (r) => (r ? (r.mib / (r.msPerPass / 1000)).toFixed(0) : "-");
      lines.push(`| ${run.version} | ${workload} | ${chunk} | ${speed(js)} | ${speed(wasm)} | ${speed(ep)} | ${js ? ratio(js, ep) : "-"} | ${wasm ? ratio(wasm, ep) : "-"} |`);
    }
  }
}
const table = lines.join("\n");
console.log(table);

if (values.write) {
  const path = `${ROOT}bench/RESULTS.md`;
  const START = "<!-- browser-parse:start -->";
  const END = "<!-- browser-parse:end -->";
  const text = readFileSync(path, "utf8");
  const block = `${START}\n${table}\n${END}`;
  const i = text.indexOf(START);
  const j = text.indexOf(END);
  writeFileSync(path, i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + END.length) : `${text.trimEnd()}\n\n## Parsing in browsers\n\n${block}\n`);
  console.log(`written to ${path}`);
}
