// Ingest into NATS JetStream, against the engine's own limit: `eventsource-wasm ingest`
// workers (the built CLI, each its own process) and, in the same run on the same
// nats-server, a baseline publisher that stores the same messages the fastest acknowledged,
// deduplicated way we know with this client: core publish with a reply subject and
// Nats-Msg-Id, acks matched in order on one subscription, 4,096 in flight per feed, no SSE.
//
//   node bench/ingest.bench.mjs [--json out.json]
//   env: BENCH_SMOKE=1, BENCH_INGEST_EVENTS=<events for 1 feed> (default 100000; each of
//        8 feeds gets a fifth of it), BENCH_INGEST_TURNS=<turns per configuration> (default 3),
//        BENCH_INGEST_CLI=<another build's dist/cli.js, to measure it instead>,
//        BENCH_INGEST_PROFILE=<dir>: each worker writes a --cpu-prof profile there,
//        BENCH_INGEST_ONLY=1x1,1x8,2x8: only these configurations (workers x feeds)
//   arguments after `--` are passed to every ingest worker (e.g. -- --max-unacked 1000)
//
// Needs nats-server (2.9+) on PATH and a built dist/ (`npm run build`). Configurations:
// 1 feed, 8 feeds, 2 workers x 8 feeds (the baseline: 2 publishers with 4 feeds each).
// Each turn runs the baseline and the ingest once, in alternating order; the table gives
// medians. Rates and CPU are counted from the first stored message to the last (the stream
// polled every 20 ms), so process start, connection and the first lease round are left
// out; CPU is user + system time from /proc/<pid>/stat over that window, per 100k events,
// for the publishing processes and for nats-server. Every process here (nats-server with
// its file store, the feed server, the workers, this one polling) shares the machine's
// cores: on a 2-core machine the figures say what the stack does when they compete.
//
// The feeds come from a feed server in its own process that writes precomputed bytes
// (the demo's market ticks, examples/feed-server.mjs) in 64 KiB writes, resuming after
// Last-Event-ID, so that its own cost stays small and the bench measures the ingest.

import { fork, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { connect, createInbox, headers } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { tickData } from "../examples/feed-server.mjs";
import { SMOKE, fmt, machine, mdTable, writeJson } from "./lib/common.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const ONE_FEED = Number(process.env.BENCH_INGEST_EVENTS) || (SMOKE ? 5000 : 100_000);
const TURNS = Number(process.env.BENCH_INGEST_TURNS) || (SMOKE ? 1 : 3);
const CLI = process.env.BENCH_INGEST_CLI || join(ROOT, "dist/cli.js");
const PROFILE = process.env.BENCH_INGEST_PROFILE ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_INGEST_PROFILE] : [];
const WINDOW = 4096;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
// The payload, headers and ids the ingest stores for tick `seq` of feed `name` (seed i + 1).
const eventBlock = (seq, seed) => `id: ${seq}\nevent: tick\ndata: ${tickData(seq, seed)}\n\n`;

// ------------------------------------------------------------------------------ processes

/** user + system CPU seconds of a process so far (Linux /proc; clock ticks of 10 ms). */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function startNats() {
  const port = await freePort();
  const store = mkdtempSync(join(tmpdir(), "bench-nats-"));
  const child = spawn("nats-server", ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", store], { stdio: "ignore" });
  const url = `nats://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      const nc = await connect({ servers: url, reconnect: false });
      await nc.close();
      break;
    } catch (e) {
      if (i > 100) throw e;
      await sleep(50);
    }
  }
  return {
    url,
    pid: child.pid,
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      rmSync(store, { recursive: true, force: true });
    },
  };
}

/** This file in another role (--role ...), started with IPC; resolves at its first message. */
function role(args) {
  const child = fork(SELF, args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const first = new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code}`)));
  });
  return { child, first };
}

function stopChild(child, signal = "SIGTERM") {
  if (child.connected) child.disconnect();
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((r) => child.once("exit", r));
  child.kill(signal);
  return exited;
}

// ------------------------------------------------------------------------------ the feeds

/** GET /f<i>?events=N&seed=S: ticks 1..N after Last-Event-ID, then an open, quiet connection. */
function serveFeeds() {
  const bodies = new Map();
  const body = (events, seed) => {
    const key = `${events}/${seed}`;
    let b = bodies.get(key);
    if (!b) {
      const offsets = new Int32Array(events + 1);
      const parts = [];
      let at = 0;
      for (let seq = 1; seq <= events; seq++) {
        offsets[seq - 1] = at;
        const block = eventBlock(seq, seed);
        parts.push(block);
        at += block.length; // ASCII
      }
      offsets[events] = at;
      b = { bytes: Buffer.from(parts.join(""), "latin1"), offsets };
      bodies.set(key, b);
    }
    return b;
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const { bytes, offsets } = body(Number(url.searchParams.get("events")), Number(url.searchParams.get("seed")));
    const after = Math.min(Number(req.headers["last-event-id"] ?? 0) || 0, offsets.length - 1);
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
    let at = offsets[after];
    const pump = () => {
      while (at < bytes.length) {
        const end = Math.min(at + 65536, bytes.length);
        const more = res.write(bytes.subarray(at, end));
        at = end;
        if (!more) return void res.once("drain", pump);
      }
    };
    pump();
  });
  server.listen(0, "127.0.0.1", () => process.send({ url: `http://127.0.0.1:${server.address().port}` }));
  process.on("disconnect", () => process.exit(0));
}

// ------------------------------------------------------------------------------ the baseline

/**
 * The baseline publisher: for each feed, the same payloads and headers the ingest stores,
 * published with a reply subject of the feed's own and Nats-Msg-Id, acks matched in order on
 * one subscription, at most WINDOW in flight per feed. Payloads are made before it starts
 * (the ingest gets them from the feed); headers and ids are made per message, as the ingest
 * must. Acks that are not a stored (or duplicate) message fail the bench.
 */
async function publish({ nats, subject, feeds, events }) {
  const nc = await connect({ servers: nats });
  const inbox = createInbox();
  const states = new Map();
  let left = feeds.length;
  let finished;
  const done = new Promise((r) => (finished = r));
  const feed = feeds.map((name) => {
    const seed = Number(name.slice(1)) + 1;
    const s = {
      name,
      subject: `${subject}.${name}`,
      reply: `${inbox}.${name}`,
      payloads: Array.from({ length: events }, (_, i) => tickData(i + 1, seed)),
      next: 1,
      acked: 0,
      inflight: 0,
    };
    states.set(s.reply, s);
    return s;
  });
  const send = (s) => {
    while (s.inflight < WINDOW && s.next <= events) {
      const seq = s.next++;
      const h = headers();
      h.set("Sse-Event", "tick");
      h.set("Sse-Id", String(seq));
      h.set("Nats-Msg-Id", `${s.name}:${seq}`);
      nc.publish(s.subject, s.payloads[seq - 1], { reply: s.reply, headers: h });
      s.inflight++;
    }
  };
  nc.subscribe(`${inbox}.*`, {
    callback: (error, m) => {
      const s = states.get(m.subject);
      // {"stream":...}: stored (or a duplicate); anything else ({"error":...}, a 503) is not.
      if (error || m.data[2] !== 0x73) throw new Error(`${s?.name}: ${error ?? m.string()}`);
      s.inflight--;
      if (++s.acked === events && --left === 0) finished();
      else send(s);
    },
  });
  await nc.flush();
  process.send({ ready: true });
  await new Promise((r) => process.once("message", r));
  for (const s of feed) send(s);
  await done;
  await nc.close();
  // Alive (and its CPU readable) until the bench has seen the last message stored.
  await new Promise((r) => process.once("disconnect", r));
}

// ------------------------------------------------------------------------------ the runs

/** Poll the stream until it holds `total` messages: rate and CPU from the first to the last. */
async function measure(jsm, stream, total, pids) {
  let start = null;
  let last = { n: -1, at: Date.now() };
  for (;;) {
    const info = await jsm.streams.info(stream).catch(() => null);
    const n = info?.state.messages ?? 0;
    const now = performance.now();
    if (n > 0 && start === null) start = { n, at: now, cpu: pids.map(cpuSeconds) };
    if (n >= total) {
      const cpu = pids.map((pid, i) => cpuSeconds(pid) - start.cpu[i]);
      return { events: n, counted: n - start.n, seconds: (now - start.at) / 1000, cpu };
    }
    if (n !== last.n) last = { n, at: Date.now() };
    else if (Date.now() - last.at > 60_000) throw new Error(`${stream}: stuck at ${n} of ${total} messages`);
    await sleep(20);
  }
}

function figures(m, events) {
  const per100k = (s) => (s * 100_000) / m.counted;
  const [server, ...clients] = m.cpu;
  return {
    events,
    rate: m.counted / m.seconds,
    cpuClient: per100k(clients.reduce((a, b) => a + b, 0)),
    cpuServer: per100k(server),
  };
}

async function baselineRun(ctx, { stream, feeds, workers, perFeed }) {
  const subject = stream.toLowerCase();
  await ctx.jsm.streams.add({ name: stream, subjects: [`${subject}.>`] });
  const names = Array.from({ length: feeds }, (_, i) => `f${i}`);
  const share = Math.ceil(feeds / workers);
  const pubs = Array.from({ length: workers }, (_, w) =>
    role(["--role", "publish", "--nats", ctx.nats.url, "--subject", subject, "--events", String(perFeed), "--feeds", names.slice(w * share, (w + 1) * share).join(",")]),
  );
  try {
    await Promise.all(pubs.map((p) => p.first));
    for (const p of pubs) p.child.send("go");
    const m = await measure(ctx.jsm, stream, feeds * perFeed, [ctx.nats.pid, ...pubs.map((p) => p.child.pid)]);
    return figures(m, feeds * perFeed);
  } finally {
    await Promise.all(pubs.map((p) => stopChild(p.child)));
    await ctx.jsm.streams.delete(stream);
  }
}

async function ingestRun(ctx, { stream, feeds, workers, perFeed }) {
  const subject = stream.toLowerCase();
  await ctx.jsm.streams.add({ name: stream, subjects: [`${subject}.>`] });
  const args = ["--nats", ctx.nats.url, "--stream", stream, "--subject", subject, ...ctx.ingestArgs];
  for (let i = 0; i < feeds; i++) args.push("--feed", `f${i}=${ctx.feeds}/f${i}?events=${perFeed}&seed=${i + 1}`);
  const children = Array.from({ length: workers }, (_, i) =>
    spawn(process.execPath, [...PROFILE, CLI, "ingest", "--worker-id", `w${i}`, ...args], { stdio: "ignore" }),
  );
  try {
    const m = await measure(ctx.jsm, stream, feeds * perFeed, [ctx.nats.pid, ...children.map((c) => c.pid)]);
    return figures(m, feeds * perFeed);
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
    await ctx.jsm.streams.delete(stream);
    await ctx.jsm.streams.delete(`KV_${stream}_leases`).catch(() => {});
  }
}

async function main() {
  const ingestArgs = process.argv.slice(2).includes("--") ? process.argv.slice(process.argv.indexOf("--") + 1) : [];
  const nats = await startNats();
  const feedServer = role(["--role", "feeds"]);
  const nc = await connect({ servers: nats.url });
  const ctx = { nats, jsm: await jetstreamManager(nc), feeds: (await feedServer.first).url, ingestArgs };
  const configs = [
    { id: "1x1", label: "1 feed", feeds: 1, workers: 1, perFeed: ONE_FEED },
    { id: "1x8", label: "8 feeds", feeds: 8, workers: 1, perFeed: Math.round(ONE_FEED / 5) },
    { id: "2x8", label: "2 workers x 8 feeds", feeds: 8, workers: 2, perFeed: Math.round(ONE_FEED / 5) },
  ];
  const only = process.env.BENCH_INGEST_ONLY?.split(",");
  const rows = [];
  let run = 0;
  try {
    for (const config of configs.filter((c) => !only || only.includes(c.id))) {
      const turns = { baseline: [], ingest: [] };
      for (let t = 0; t < TURNS; t++) {
        const order = t % 2 === 0 ? ["baseline", "ingest"] : ["ingest", "baseline"];
        for (const path of order) {
          const stream = `B${++run}`;
          const r = path === "baseline" ? await baselineRun(ctx, { ...config, stream }) : await ingestRun(ctx, { ...config, stream });
          turns[path].push(r);
          process.stderr.write(
            `${config.label}, turn ${t + 1}, ${path}: ${fmt(r.rate)} events/s, CPU per 100k ${r.cpuClient.toFixed(2)} s (nats-server ${r.cpuServer.toFixed(2)} s)\n`,
          );
        }
      }
      const med = (path) => ({
        rate: median(turns[path].map((r) => r.rate)),
        cpuClient: median(turns[path].map((r) => r.cpuClient)),
        cpuServer: median(turns[path].map((r) => r.cpuServer)),
      });
      rows.push({ ...config, events: config.feeds * config.perFeed, baseline: med("baseline"), ingest: med("ingest"), turns });
    }
  } finally {
    await nc.close();
    feedServer.child.disconnect();
    await nats.stop();
  }
  const m = machine();
  console.log(
    `\nIngest into JetStream against the baseline publisher (reply subject + Nats-Msg-Id, ${WINDOW} in flight per feed): ` +
      `medians of ${TURNS} turns; ${m.cores} cores (${m.cpu}), load ${m.load.join(" ")}, node ${m.node}, commit ${m.commit}` +
      `${ingestArgs.length ? `; ingest ${ingestArgs.join(" ")}` : ""}\n`,
  );
  console.log(
    mdTable(
      ["configuration", "events", "baseline events/s", "ingest events/s", "ratio", "CPU s / 100k: baseline", "ingest", "ratio", "nats-server: baseline", "ingest"],
      rows.map((r) => [
        r.label,
        r.events.toLocaleString("en-US"),
        fmt(r.baseline.rate),
        fmt(r.ingest.rate),
        `${(r.ingest.rate / r.baseline.rate).toFixed(2)}x`,
        r.baseline.cpuClient.toFixed(2),
        r.ingest.cpuClient.toFixed(2),
        `${(r.ingest.cpuClient / r.baseline.cpuClient).toFixed(2)}x`,
        r.baseline.cpuServer.toFixed(2),
        r.ingest.cpuServer.toFixed(2),
      ]),
      ["l", "r", "r", "r", "r", "r", "r", "r", "r", "r"],
    ),
  );
  writeJson({ turns: TURNS, window: WINDOW, machine: m, rows });
}

const { values } = parseArgs({
  options: {
    role: { type: "string" },
    nats: { type: "string" },
    subject: { type: "string" },
    events: { type: "string" },
    feeds: { type: "string" },
    json: { type: "string" },
  },
  allowPositionals: true,
  strict: false,
});
if (values.role === "feeds") serveFeeds();
else if (values.role === "publish") {
  await publish({ nats: values.nats, subject: values.subject, feeds: values.feeds.split(","), events: Number(values.events) });
} else await main();
