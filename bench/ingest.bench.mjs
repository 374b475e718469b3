// Ingest into NATS JetStream: events/s stored by `eventsource-wasm ingest` workers (the built
// CLI, each its own process), against a floor that publishes the same messages with the
// same window and no SSE at all.
//
//   node bench/ingest.bench.mjs [--json out.json]
//   env: BENCH_SMOKE=1, BENCH_INGEST_EVENTS=<events per feed> (default 40000)
//
// Needs nats-server (2.9+) on PATH and a built dist/ (`npm run build`). Every process here
// (nats-server with its file store, the feed server, the workers, this one polling) shares
// the machine's cores: on a 2-core machine, the figures say what the stack does when the
// broker and the workers compete for two cores, not what a worker does alone.
//
// Rates are measured from the first stored message to the last one (polled every 20 ms
// with a stream-info request), so process start, connection and the first lease round
// (a quarter of the TTL) are left out.

import { spawn, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, headers } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { SMOKE, fmt, machine, mdTable, writeJson } from "./lib/common.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PER_FEED = Number(process.env.BENCH_INGEST_EVENTS) || (SMOKE ? 2000 : 40_000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      rmSync(store, { recursive: true, force: true });
    },
  };
}

/** The demo feed server (examples/feed-server.mjs) in its own process. */
async function startFeeds() {
  const child = fork(join(ROOT, "examples/feed-server.mjs"), ["--port", "0", "--heartbeat", "0"], { stdio: ["ignore", "pipe", "pipe", "ipc"] });
  const url = await new Promise((resolve, reject) => {
    let out = "";
    // It says where it listens on stderr.
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding("utf8").on("data", (d) => {
        out += d;
        const m = /http:\/\/127\.0\.0\.1:\d+/.exec(out);
        if (m) resolve(m[0]);
      });
    }
    child.once("exit", () => reject(new Error(`feed server exited: ${out}`)));
  });
  return { url, stop: () => child.kill("SIGTERM") };
}

/** Poll the stream until it holds `total` messages; the rate from first to last. */
async function measure(natsUrl, stream, total) {
  const nc = await connect({ servers: natsUrl });
  const jsm = await jetstreamManager(nc);
  let first = null;
  let firstCount = 0;
  const deadline = Date.now() + 300_000;
  try {
    for (;;) {
      const info = await jsm.streams.info(stream).catch(() => null);
      const n = info?.state.messages ?? 0;
      const now = performance.now();
      if (n > 0 && first === null) {
        first = now;
        firstCount = n;
      }
      if (n >= total) return { events: n, rate: ((n - firstCount) * 1000) / (now - first) };
      if (Date.now() > deadline) throw new Error(`${stream}: ${n} of ${total} after 300 s`);
      await sleep(20);
    }
  } finally {
    await nc.close();
  }
}

async function ingestRun(natsUrl, feedUrl, { stream, feeds, workers }) {
  const args = ["--nats", natsUrl, "--stream", stream, "--subject", stream.toLowerCase(), "--lease-ttl", "2s"];
  for (let i = 0; i < feeds; i++) args.push("--feed", `f${i}=${feedUrl}/f${i}?events=${PER_FEED}&seed=${i + 1}`);
  const children = Array.from({ length: workers }, (_, i) =>
    spawn(process.execPath, [join(ROOT, "dist/cli.js"), "ingest", "--worker-id", `w${i}`, ...args], { stdio: "ignore" }),
  );
  try {
    return await measure(natsUrl, stream, feeds * PER_FEED);
  } finally {
    await Promise.all(
      children.map((c) => {
        const exited = new Promise((r) => c.once("exit", r));
        c.kill("SIGTERM");
        return exited;
      }),
    );
  }
}

/** The floor: the same messages (payload, headers, msg ids) published with a 1000-message window. */
async function publishFloor(natsUrl, stream, total) {
  const nc = await connect({ servers: natsUrl });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [`${stream.toLowerCase()}.>`] });
  const js = jetstream(nc);
  const payload = `{"s":"AAPL","p":189.52,"q":1200,"b":189.50,"a":189.54,"x":"XNAS","t":1767364200010}`;
  const t0 = performance.now();
  let inflight = 0;
  let wake = null;
  for (let i = 1; i <= total; i++) {
    while (inflight >= 1000) await new Promise((r) => (wake = r));
    const h = headers();
    h.set("Sse-Event", "tick");
    h.set("Sse-Id", String(i));
    inflight++;
    js.publish(`${stream.toLowerCase()}.f0`, payload, { msgID: `f0:${i}`, headers: h }).then(() => {
      inflight--;
      wake?.();
      wake = null;
    });
  }
  while (inflight > 0) await new Promise((r) => (wake = r));
  const rate = (total * 1000) / (performance.now() - t0);
  await nc.close();
  return { events: total, rate };
}

const nats = await startNats();
const feeds = await startFeeds();
const rows = [];
try {
  const floor = await publishFloor(nats.url, "FLOOR", PER_FEED);
  rows.push({ id: "publish-floor", label: "floor: js.publish only, 1 feed's messages, window 1000", workers: 1, feeds: 1, ...floor });
  const one = await ingestRun(nats.url, feeds.url, { stream: "ONE", feeds: 1, workers: 1 });
  rows.push({ id: "ingest-1x1", label: "ingest, 1 worker, 1 feed", workers: 1, feeds: 1, ...one });
  for (const workers of [1, 2, 4]) {
    const r = await ingestRun(nats.url, feeds.url, { stream: `EIGHT${workers}`, feeds: 8, workers });
    rows.push({ id: `ingest-${workers}x8`, label: `ingest, ${workers} worker${workers > 1 ? "s" : ""}, 8 feeds`, workers, feeds: 8, ...r });
  }
} finally {
  feeds.stop();
  await nats.stop();
}

const floorRate = rows[0].rate;
const m = machine();
console.log(`\nIngest into JetStream: ${PER_FEED} events per feed; ${m.cores} cores (${m.cpu}), load ${m.load.join(" ")}, node ${m.node}, commit ${m.commit}\n`);
console.log(
  mdTable(
    ["run", "events", "events/s", "vs floor"],
    rows.map((r) => [r.label, String(r.events), fmt(r.rate), `${(r.rate / floorRate).toFixed(2)}x`]),
    ["l", "r", "r", "r"],
  ),
);
writeJson({ perFeed: PER_FEED, machine: machine(), rows });
