#!/usr/bin/env node
// Long-run check of the built package (dist/): one EventSource against a local feed that sends
// as fast as the client reads and cuts the connection every ~5 s at a random byte offset.
// Every sequence number must arrive exactly once, with its exact data, across the
// reconnections. Prints events/s, reconnections and RSS each minute, then a summary; exits 1
// on any loss, repetition or corruption.
//
//   npm run build && npm run soak -- --minutes 10 [--drop-seconds 5] [--engine auto|wasm|js]
//   npm run soak -- --big-line [256]     one line of 256 MiB with no line end, then one event
//   npm run soak -- --ingest [--events 100000] [--feeds 4] [--workers 3] [--drop-seconds 1]
//        the NATS ingest (dist/cli.js workers, a nats-server -js on 127.0.0.1) at full speed
//        with every fault at once: feeds cut at random bytes, a worker SIGKILLed, NATS
//        restarted; then every Sse-Id of every feed must be in the stream exactly once.
//
// The feed runs in a child process (this file with --serve), so that the client's RSS is its
// own and the two sides do not share a core's event loop.
import { fork, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { tickData } from "../examples/feed-server.mjs";

const { values, positionals } = parseArgs({
  options: {
    minutes: { type: "string", default: "1" },
    "drop-seconds": { type: "string", default: "5" },
    "report-seconds": { type: "string", default: "60" },
    engine: { type: "string", default: "auto" },
    "big-line": { type: "boolean", default: false },
    ingest: { type: "boolean", default: false },
    events: { type: "string", default: "100000" },
    feeds: { type: "string", default: "4" },
    workers: { type: "string", default: "3" },
    serve: { type: "boolean", default: false },
    seed: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
  allowPositionals: true,
});

// 4,096 distinct tick payloads; event `seq` carries DATA[seq & MASK], so the client can check
// every event's data with one string comparison, and the server resumes at any seq for free.
const MASK = 4095;
const DATA = Array.from({ length: MASK + 1 }, (_, i) => tickData(i + 1));
const MiB = 1024 * 1024;

// ------------------------------------------------------------------------------ the feed

/**
 * GET /feed[?events=N]: ticks from Last-Event-ID + 1 on (up to N, then quiet), flat out
 * (waiting for 'drain' only), cut after a
 * random 4-6 s (or `drop` ms) inside a random byte of the next write: anywhere in an `id:`,
 * `event:` or `data:` line, or between the two line ends of a blank line. Line ends are LF on
 * even connections and CRLF on odd ones, so a cut also falls between a CR and its LF.
 * GET /big?mib=N: one `data:` line of N MiB, its line end, then one small event.
 */
function serve() {
  const rng = mulberry32(Number(values.seed ?? Date.now()) >>> 0);
  const stats = { connections: 0, drops: 0, eventsSent: 0, bytesSent: 0 };
  const dropMs = Number(values["drop-seconds"]) * 1000;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname === "/big") return big(res, Number(url.searchParams.get("mib")));
    const connection = stats.connections++;
    const limit = Number(url.searchParams.get("events")) || Infinity;
    const eol = connection % 2 === 0 ? "\n" : "\r\n";
    let seq = Number(req.headers["last-event-id"] ?? 0) + 1;
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
    let cut = false;
    let closed = false;
    const timer = setTimeout(() => (cut = true), dropMs * (0.8 + 0.4 * rng()));
    res.on("close", () => {
      closed = true;
      clearTimeout(timer);
    });
    const pump = () => {
      while (!closed) {
        let out = "";
        const from = seq;
        for (let k = 0; k < 512 && seq <= limit; k++, seq++) {
          out += `id: ${seq}${eol}event: tick${eol}data: ${DATA[seq & MASK]}${eol}${eol}`;
        }
        if (out === "") return; // the last tick is sent: the connection stays open, quiet
        if (cut) {
          // Counted as sent up to the cut; the client cannot tell, the check is on its side.
          const at = Math.floor(rng() * out.length);
          stats.bytesSent += at;
          stats.eventsSent += out.slice(0, at).split(`${eol}${eol}`).length - 1;
          stats.drops++;
          res.write(out.slice(0, at));
          // A hard cut, with no end of the chunked body: the client sees a network error.
          res.socket?.end(() => res.destroy());
          closed = true;
          return;
        }
        stats.eventsSent += seq - from;
        stats.bytesSent += out.length;
        if (!res.write(out)) {
          res.once("drain", pump);
          return;
        }
        // Let timers (the cut) and the IPC channel have their turn.
        if ((seq >> 9) % 16 === 0) return void setImmediate(pump);
      }
    };
    pump();
  });

  function big(res, mib) {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
    res.write("retry: 60000\ndata: ");
    const block = Buffer.alloc(MiB, "x");
    let left = mib;
    const pump = () => {
      while (left > 0) {
        left--;
        if (!res.write(block)) return void res.once("drain", pump);
      }
      res.write("\n\nid: after\ndata: the event after the big line\n\n");
    };
    pump();
  }

  server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
  process.on("message", (m) => {
    if (m === "stats") process.send({ stats });
  });
  process.on("disconnect", () => process.exit(0));
}

/** A small seeded PRNG, so that a failing run can be replayed with --seed. */
function mulberry32(a) {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function startFeed(extra = []) {
  const child = fork(fileURLToPath(import.meta.url), ["--serve", ...extra], { stdio: "inherit" });
  const { port } = await new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`the feed exited with ${code}`)));
  });
  child.removeAllListeners("exit");
  return {
    url: `http://127.0.0.1:${port}/`,
    stats: () =>
      new Promise((resolve) => {
        child.once("message", (m) => resolve(m.stats));
        child.send("stats");
      }),
    stop: () => child.disconnect(),
  };
}

async function loadClient() {
  try {
    return await import("eventsource-wasm");
  } catch (error) {
    process.stderr.write(`soak: cannot load the built package (run npm run build first): ${error.message}\n`);
    process.exit(2);
  }
}

const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
const log = (line) => process.stdout.write(`${line}\n`);

// ------------------------------------------------------------------------------ the soak

async function soak() {
  const minutes = Number(values.minutes);
  const reportMs = Number(values["report-seconds"]) * 1000;
  if (!(minutes > 0) || !(reportMs > 0)) {
    process.stderr.write("soak: --minutes and --report-seconds must be positive numbers\n");
    process.exit(2);
  }
  const seed = Number(values.seed ?? Date.now() % 1e9);
  const { EventSource } = await loadClient();
  const feed = await startFeed(["--seed", String(seed), "--drop-seconds", values["drop-seconds"]]);
  log(
    `soak: ${minutes} min against ${feed.url}feed (cut every ~${values["drop-seconds"]} s at a random byte, ` +
      `seed ${seed}), Node ${process.version}, pid ${process.pid}`,
  );

  const source = new EventSource(`${feed.url}feed`, {
    engine: values.engine,
    reconnect: { initialDelay: 100, factor: 2, maxDelay: 2000, jitter: 0.2, maxAttempts: 20 },
  });
  let expected = 1;
  let received = 0;
  let lost = 0;
  let repeated = 0;
  let corrupt = 0;
  const problems = [];
  const errors = {};
  const note = (what) => {
    if (problems.length < 20) problems.push(what);
  };
  source.addEventListener("tick", (e) => {
    const seq = Number(e.lastEventId);
    received++;
    if (e.data !== DATA[seq & MASK]) {
      corrupt++;
      note(`seq ${seq}: data ${JSON.stringify(e.data.slice(0, 80))}`);
    }
    if (seq === expected) {
      expected++;
    } else if (seq > expected) {
      lost += seq - expected;
      note(`seq ${expected}..${seq - 1} lost (reconnection ${source.stats.reconnects})`);
      expected = seq + 1;
    } else {
      repeated++;
      note(`seq ${seq} repeated (expected ${expected})`);
    }
  });
  source.addEventListener("message", (e) => {
    corrupt++;
    note(`an event without a type: ${JSON.stringify(e.data.slice(0, 80))}`);
  });
  let failed = null;
  const ended = new Promise((resolve) => {
    source.addEventListener("error", (e) => {
      errors[e.code] = (errors[e.code] ?? 0) + 1;
      // A cut is a network error or an early end of the stream; nothing else may happen.
      if (e.code !== "NETWORK" && e.code !== "STREAM_ENDED") note(`error ${e.code}: ${e.message}`);
      if (!e.willReconnect) {
        failed = `${e.code}: ${e.message}`;
        resolve();
      }
    });
  });

  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const load0 = loadavg()[0];
  const rows = [];
  let last = { at: started, received: 0, reconnects: 0 };
  const report = () => {
    const now = performance.now();
    const { reconnects } = source.stats;
    const m = process.memoryUsage();
    const row = {
      minute: (now - started) / 60_000,
      eventsPerSecond: ((received - last.received) * 1000) / (now - last.at),
      reconnects: reconnects - last.reconnects,
      rss: m.rss,
      heap: m.heapUsed,
    };
    rows.push(row);
    log(
      `${row.minute.toFixed(2).padStart(6)} min  ${(row.eventsPerSecond / 1e6).toFixed(2)} M events/s  ` +
        `${String(row.reconnects).padStart(3)} reconnects  RSS ${mb(row.rss)}  heap ${mb(row.heap)}  ` +
        `(${received.toLocaleString("en-US")} events, ${lost} lost, ${repeated} repeated, ${corrupt} corrupt)`,
    );
    last = { at: now, received, reconnects };
  };
  const reporter = setInterval(report, reportMs);
  await Promise.race([ended, new Promise((r) => setTimeout(r, minutes * 60_000))]);
  clearInterval(reporter);
  if (performance.now() - last.at > 1000) report();
  source.close();
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const server = await feed.stats();
  feed.stop();

  const rss = rows.map((r) => r.rss);
  const ok = failed === null && lost === 0 && repeated === 0 && corrupt === 0 && received > 0 && problems.length === 0;
  log("");
  log(`summary (${ok ? "OK" : "FAILED"})`);
  log(`  events:     ${received.toLocaleString("en-US")} in ${seconds.toFixed(1)} s, ${(received / seconds / 1e6).toFixed(2)} M events/s`);
  log(`  checked:    ${lost} lost, ${repeated} repeated, ${corrupt} with wrong data (last seq ${expected - 1})`);
  log(`  reconnects: ${source.stats.reconnects} (the feed cut ${server.drops} connections; errors: ${JSON.stringify(errors)})`);
  log(`  received:   ${mb(source.stats.bytesReceived)}; the feed wrote ${mb(server.bytesSent)}`);
  log(`  RSS:        ${mb(Math.min(...rss))} .. ${mb(Math.max(...rss))} over the reports; engine ${source.engine}`);
  log(
    `  CPU:        client ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s (${((cpu.user + cpu.system) * 1000 / Math.max(received, 1)).toFixed(0)} ns/event); ` +
      `load average ${load0.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end`,
  );
  if (failed !== null) log(`  gave up:    ${failed}`);
  for (const p of problems) log(`  problem:    ${p}`);
  process.exitCode = ok ? 0 : 1;
}

// ------------------------------------------------------------------------------ one big line

async function bigLine(mib) {
  const { EventSource } = await loadClient();
  const feed = await startFeed();
  log(`big line: one data line of ${mib} MiB with no line end in it, then one event (maxEventSize: the default)`);
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const started = performance.now();
  const source = new EventSource(`${feed.url}big?mib=${mib}`, { engine: values.engine });
  const tooLarge = [];
  const others = [];
  const outcome = await new Promise((resolve) => {
    const timeout = setTimeout(() => resolve("timed out after 120 s"), 120_000);
    source.addEventListener("error", (e) => {
      if (e.code === "EVENT_TOO_LARGE") tooLarge.push(e.message);
      else others.push(`${e.code}: ${e.message}`);
    });
    source.addEventListener("message", (e) => {
      clearTimeout(timeout);
      resolve(e.data === "the event after the big line" && e.lastEventId === "after" ? "delivered" : `wrong event: ${e.data.slice(0, 80)}`);
    });
  });
  clearInterval(sampler);
  const rssAfter = process.memoryUsage().rss;
  peak = Math.max(peak, rssAfter);
  const seconds = (performance.now() - started) / 1000;
  const received = source.stats.bytesReceived;
  source.close();
  feed.stop();
  const ok = outcome === "delivered" && tooLarge.length === 1 && others.length === 0;
  log(`  ${mb(received)} received in ${seconds.toFixed(1)} s; engine ${source.engine}`);
  log(`  EVENT_TOO_LARGE errors: ${tooLarge.length}${tooLarge.length ? ` (${tooLarge[0]})` : ""}; other errors: ${others.length ? others.join("; ") : "none"}`);
  log(`  next event: ${outcome}`);
  log(`  RSS: ${mb(rss0)} before, ${mb(peak)} at the peak (+${mb(peak - rss0)}), ${mb(rssAfter)} once the next event arrived`);
  log(ok ? "OK" : "FAILED");
  process.exitCode = ok ? 0 : 1;
}

// ------------------------------------------------------------------------------ the ingest

async function ingestSoak() {
  const [perFeed, feedCount, workerCount] = [values.events, values.feeds, values.workers].map(Number);
  const seed = Number(values.seed ?? Date.now() % 1e9);
  const { connect } = await import("@nats-io/transport-node");
  const { jetstream, jetstreamManager } = await import("@nats-io/jetstream");
  const root = fileURLToPath(new URL("..", import.meta.url));
  // Cut about every second unless told: at full speed a feed is sent in a few seconds.
  const drop = process.argv.some((a) => a.startsWith("--drop-seconds")) ? values["drop-seconds"] : "1";
  const feed = await startFeed(["--seed", String(seed), "--drop-seconds", drop]);
  const probe = createServer().listen(0, "127.0.0.1");
  await new Promise((r) => probe.once("listening", r));
  const port = probe.address().port;
  await new Promise((r) => probe.close(r));
  const store = mkdtempSync(join(tmpdir(), "soak-nats-"));
  const url = `nats://127.0.0.1:${port}`;
  let nats = null;
  const startNats = async () => {
    nats = spawn("nats-server", ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", store], { stdio: "ignore" });
    for (let i = 0; ; i++) {
      const nc = await connect({ servers: url, reconnect: false }).catch((e) => (i > 200 ? Promise.reject(e) : null));
      if (nc) return nc.close();
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stopNats = async () => {
    const exited = new Promise((r) => nats.once("exit", r));
    nats.kill("SIGTERM");
    await exited;
  };
  await startNats();
  const feedArgs = Array.from({ length: feedCount }, (_, i) => ["--feed", `f${i}=${feed.url}feed?events=${perFeed}`]).flat();
  let ids = 0;
  const workers = new Set();
  const startWorker = () => {
    const child = spawn(process.execPath, [join(root, "dist/cli.js"), "ingest", "--nats", url, "--stream", "SOAK", "--subject", "soak", "--lease-ttl", "2s", "--worker-id", `w${++ids}`, ...feedArgs], { stdio: "ignore" });
    workers.add(child);
    child.once("exit", () => workers.delete(child));
  };
  for (let i = 0; i < workerCount; i++) startWorker();
  const total = perFeed * feedCount;
  log(`soak --ingest: ${feedCount} feeds x ${perFeed.toLocaleString("en-US")} events, ${workerCount} workers, feeds cut every ~${drop} s (seed ${seed}), ${url}`);
  const stored = async () => {
    const nc = await connect({ servers: url, reconnect: false }).catch(() => null);
    if (!nc) return 0;
    const info = await (await jetstreamManager(nc)).streams.info("SOAK").catch(() => null);
    await nc.close();
    return info?.state.messages ?? 0;
  };
  const started = performance.now();
  const faults = [];
  let n = 0;
  for (let last = { n: 0, at: Date.now() }; n < total; await new Promise((r) => setTimeout(r, 200))) {
    n = await stored();
    if (n > last.n) last = { n, at: Date.now() };
    else if (Date.now() - last.at > 60_000) break;
    if (faults.length === 0 && n > total / 3) {
      const victim = [...workers][0];
      victim.kill("SIGKILL");
      startWorker();
      faults.push(`a worker SIGKILLed at ${n.toLocaleString("en-US")} stored`);
    } else if (faults.length === 1 && n > (total * 2) / 3) {
      await stopNats();
      await new Promise((r) => setTimeout(r, 500));
      await startNats();
      faults.push(`NATS restarted at ${n.toLocaleString("en-US")} stored`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  await Promise.all([...workers].map((w) => new Promise((r) => (w.once("exit", r), w.kill("SIGTERM")))));
  // The judge: every message in the stream, per feed, by Sse-Id.
  const nc = await connect({ servers: url });
  const seen = Array.from({ length: feedCount }, () => new Uint8Array(perFeed + 1));
  let duplicates = 0;
  let corrupt = 0;
  const info = await (await jetstreamManager(nc)).streams.info("SOAK");
  const messages = await (await jetstream(nc).consumers.get("SOAK")).consume();
  for await (const m of messages) {
    const f = Number(m.subject.slice("soak.f".length));
    const seq = Number(m.headers?.get("Sse-Id"));
    if (seen[f][seq]++ > 0) duplicates++;
    if (m.string() !== DATA[seq & MASK] || m.headers?.get("Nats-Msg-Id") !== `f${f}:${seq}`) corrupt++;
    if (m.seq >= info.state.last_seq) break;
  }
  await nc.close();
  await stopNats();
  rmSync(store, { recursive: true, force: true });
  const server = await feed.stats();
  feed.stop();
  const gaps = seen.reduce((g, s) => g + s.subarray(1).filter((c) => c === 0).length, 0);
  const ok = duplicates === 0 && gaps === 0 && corrupt === 0 && faults.length === 2;
  log(`summary (${ok ? "OK" : "FAILED"})`);
  log(`  stored:     ${info.state.messages.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} in ${seconds.toFixed(1)} s, ${Math.round(info.state.messages / seconds).toLocaleString("en-US")} events/s with the faults`);
  log(`  checked:    ${duplicates} duplicates, ${gaps} gaps, ${corrupt} with wrong data or Nats-Msg-Id (by Sse-Id, per feed)`);
  log(`  faults:     ${[...faults, `the feed cut ${server.drops} connections`].join("; ")}`);
  process.exitCode = ok ? 0 : 1;
}

// ------------------------------------------------------------------------------ main

if (values.help) {
  process.stdout.write(
    "usage: npm run soak -- [--minutes N] [--drop-seconds S] [--report-seconds S] [--engine auto|wasm|js]\n" +
      "       npm run soak -- --big-line [MiB]   (default 256)\n",
  );
} else if (values.serve) {
  serve();
} else if (values.ingest) {
  await ingestSoak();
} else if (values["big-line"]) {
  await bigLine(Number(positionals[0] ?? 256));
} else {
  await soak();
}
