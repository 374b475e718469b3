#!/usr/bin/env node
// `npm start`: the live demo. Starts the deterministic tick feed on 127.0.0.1 (in this
// process), runs the real CLI (`dist/cli.js`, a child process, so client and server each
// get a core) against it with connection drops enabled, shows live throughput, and ends
// with a summary that says whether every seq arrived exactly once across the drops.
//
//   node examples/demo.mjs [--events 1000000] [--seconds 10] [--drop-every 150000]
//                          [--engine auto|wasm|js] [--rate N]
//
// Exit status: 0 when every seq that was due arrived exactly once, 1 otherwise.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startFeedServer } from "./feed-server.mjs";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "1000000" },
    seconds: { type: "string", default: "10" },
    "drop-every": { type: "string", default: "150000" },
    engine: { type: "string", default: "auto" },
    rate: { type: "string", default: "0" },
  },
});
const total = Number(values.events);
const seconds = Number(values.seconds);
const dropEvery = Number(values["drop-every"]);
const rate = Number(values.rate);

const cli = process.env.EVENTSOURCE_WASM_CLI ?? fileURLToPath(new URL("../dist/cli.js", import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write(`demo: ${cli} is missing; run "npm run build" first (npm start does).\n`);
  process.exit(1);
}

const feed = await startFeedServer({ events: total, dropEvery, rate, retryMs: 20, heartbeatMs: 1000, seed: 42 });
// --count ends the run once every tick has arrived; --retries bounds a broken run.
const cliArgs = [feed.url, "--event", "tick", "--count", String(total), "--engine", values.engine];
cliArgs.push("--stats", "--stats-interval", "250ms", "--retries", "50");
const err = process.stderr;
const tty = err.isTTY === true;
err.write(
  `demo: feed of ${total.toLocaleString("en-US")} ticks on ${feed.url}` +
    `${dropEvery > 0 ? `, connection dropped mid-event every ${dropEvery.toLocaleString("en-US")} ticks` : ""}\n` +
    `demo: eventsource-wasm ${cliArgs.join(" ")}\n`,
);

// seen[seq] counts how many times each seq was printed by the CLI.
const seen = new Uint8Array(total + 2);
let lines = 0;
let duplicates = 0;
let outOfRange = 0;
let maxSeq = 0;
let summaryLine = "";
const started = performance.now();
let lastLineAt = started;

const child = spawn(process.execPath, [cli, ...cliArgs], { stdio: ["ignore", "pipe", "pipe"] });

// Each NDJSON line ends with ,"id":"<seq>"}: read the id without a JSON.parse per line.
let partial = "";
child.stdout.setEncoding("utf8");
child.stdout.on("data", (chunk) => {
  const text = partial + chunk;
  let start = 0;
  let nl;
  while ((nl = text.indexOf("\n", start)) !== -1) {
    const idAt = text.lastIndexOf('"id":"', nl);
    const seq = Number(text.slice(idAt + 6, nl - 2));
    lines++;
    if (!Number.isInteger(seq) || seq < 1 || seq > total) outOfRange++;
    else if (seen[seq]++ > 0) duplicates++;
    if (seq > maxSeq) maxSeq = seq;
    start = nl + 1;
  }
  partial = text.slice(start);
  lastLineAt = performance.now();
});

// The CLI's --stats lines come through here: redrawn in place on a terminal; its final
// "summary:" line is kept for the report.
let errPartial = "";
child.stderr.setEncoding("utf8");
child.stderr.on("data", (chunk) => {
  const parts = (errPartial + chunk).split("\n");
  errPartial = parts.pop() ?? "";
  for (const line of parts) {
    if (line.startsWith("summary:")) summaryLine = line;
    else if (line.trim() !== "") err.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
  }
});

// Ctrl-C reaches the CLI too (same process group) and stops it cleanly; the demo stays to
// print its summary of what arrived so far.
process.on("SIGINT", () => child.kill("SIGINT"));

const timer = setTimeout(() => {
  // Time is up: SIGTERM is a clean stop for the CLI (it flushes, then exits 143).
  err.write(`${tty ? "\n" : ""}demo: ${seconds} s elapsed, stopping the client\n`);
  child.kill("SIGTERM");
}, seconds * 1000);

const code = await new Promise((resolve) => child.on("close", (c, signal) => resolve(c ?? (signal ? 128 : 1))));
clearTimeout(timer);
await feed.close();
if (tty) err.write("\r\x1b[K");

// Every seq up to the highest one received must be there exactly once: a gap means a lost
// event, a repeat means the resume after a drop replayed one.
let missing = 0;
for (let s = 1; s <= maxSeq; s++) if (seen[s] === 0) missing++;
const complete = maxSeq === total;
const exactlyOnce = missing === 0 && duplicates === 0 && outOfRange === 0;
const secs = (lastLineAt - started) / 1000;
const mb = feed.stats.bytesSent / 1e6;
const engine = /engine (\w+)/.exec(summaryLine)?.[1] ?? "?";
const n = (x) => x.toLocaleString("en-US");

const report = [
  "",
  "demo summary",
  `  events        ${n(lines)} of ${n(total)}${complete ? "" : " (stopped early)"}`,
  `  data          ${mb.toFixed(1)} MB sent by the feed`,
  `  reconnects    ${n(Math.max(0, feed.stats.connections - 1))} (the feed dropped the connection ${n(feed.stats.drops)} times, mid-event)`,
  `  engine        ${engine}`,
  `  throughput    ${n(Math.round(lines / secs))} events/s, ${(mb / secs).toFixed(1)} MB/s over ${secs.toFixed(2)} s`,
  `  exactly once  ${
    exactlyOnce
      ? `yes: every seq 1..${n(maxSeq)} arrived once, none lost or repeated across the drops`
      : `NO: ${n(missing)} missing, ${n(duplicates)} repeated, ${n(outOfRange)} unexpected`
  }`,
  `  cli           exit status ${code}${summaryLine ? `; ${summaryLine}` : ""}`,
  "",
];
process.stdout.write(report.join("\n"));
// 130 and 143: the CLI stopped by the demo's SIGINT or SIGTERM, after flushing what it read.
const clean = code === 0 || code === 130 || code === 143;
process.exit(exactlyOnce && clean && lines > 0 ? 0 : 1);
