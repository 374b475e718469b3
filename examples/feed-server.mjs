#!/usr/bin/env node
// A small, deterministic Server-Sent Events feed of market ticks, for the demo, the CLI
// tests and anyone who wants to try the client without a real server.
//
//   node examples/feed-server.mjs --port 8080 [--rate 1000] [--events 100000]
//        [--drop-every 25000] [--heartbeat 5000] [--retry 1000] [--seed 42]
//
// or, from code: `const { url, close } = await startFeedServer({ events: 1000 })`.
//
// Every tick is a pure function of (seed, seq), so a client that resumes with
// Last-Event-ID gets exactly the ticks it missed, byte for byte: that is what lets the
// demo check that every seq arrived exactly once across dropped connections.
//
// The query string of a request overrides the server's defaults for that connection
// (`/?rate=10&events=100&dropEvery=20`), so one running server can serve many shapes.

import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";

const SYMBOLS = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "AVGO"];
const BASE_PRICES = [189.5, 415.2, 121.3, 181.1, 172.4, 492.9, 248.6, 1405.0];
const EXCHANGES = ["XNAS", "XNYS", "ARCX", "BATS"];
// A fixed epoch keeps `t` deterministic too: tick n is 10 ms after tick n-1.
const EPOCH_MS = Date.UTC(2026, 0, 2, 14, 30);

/** A 32-bit integer hash (splitmix-like): the same (seed, seq, k) always gives the same number. */
function hash32(seed, seq, k) {
  let x = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(seq | 0, 0x85ebca77) ^ Math.imul(k, 0xc2b2ae3d)) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The tick with sequence number `seq` (1-based), as its JSON data line. */
export function tickData(seq, seed = 1) {
  const r = hash32(seed, seq, 1);
  const i = r % SYMBOLS.length;
  // A slow drift plus noise around each symbol's base price; cents, two decimals.
  const drift = Math.sin(seq / 5000 + i) * 0.02;
  const noise = ((hash32(seed, seq, 2) % 2001) - 1000) / 100000;
  const cents = Math.round(BASE_PRICES[i] * (1 + drift + noise) * 100);
  const spread = 1 + (hash32(seed, seq, 3) % 4);
  const q = (1 + (hash32(seed, seq, 4) % 50)) * 100;
  const x = EXCHANGES[hash32(seed, seq, 5) % EXCHANGES.length];
  return (
    `{"s":"${SYMBOLS[i]}","p":${(cents / 100).toFixed(2)},"q":${q},` +
    `"b":${((cents - spread) / 100).toFixed(2)},"a":${((cents + spread) / 100).toFixed(2)},` +
    `"x":"${x}","t":${EPOCH_MS + seq * 10}}`
  );
}

/** The whole event block for tick `seq`: about 120 bytes. */
export function tickEvent(seq, seed = 1) {
  return `id: ${seq}\nevent: tick\ndata: ${tickData(seq, seed)}\n\n`;
}

function intOption(value, fallback) {
  if (value === undefined || value === null || value === "") return fallback;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : fallback;
}

/**
 * Start the feed on `host:port` (port 0: any free port).
 *
 * - `rate`: events per second per connection; 0 or omitted: as fast as the socket takes them.
 * - `events`: total number of ticks (seq 1..events); after the last one the response ends, and a
 *   client asking to resume at or past the end gets `204 No Content`, the spec's way to say
 *   "stop reconnecting". Omitted: endless.
 * - `dropEvery`: cut the connection after every N events sent on it, in the middle of the next
 *   event, so the client must discard the unfinished event and resume with Last-Event-ID.
 * - `heartbeatMs`: a `: ping` comment this often (default 5000; 0: none).
 * - `retryMs`: sent as `retry:` at the start of each response (default 1000).
 * - `seed`: the ticks' seed (default 1).
 *
 * Resolves to `{ url, port, close(), stats }`; `stats` counts connections, events and bytes sent.
 */
export async function startFeedServer({
  host = "127.0.0.1",
  port = 0,
  rate = 0,
  events = Infinity,
  dropEvery = 0,
  heartbeatMs = 5000,
  retryMs = 1000,
  seed = 1,
} = {}) {
  const defaults = { rate, events, dropEvery, heartbeatMs, retryMs, seed };
  const stats = { connections: 0, eventsSent: 0, bytesSent: 0, drops: 0, lastEventIds: [] };
  const open = new Set();

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/favicon.ico") {
      res.writeHead(404).end();
      return;
    }
    const q = url.searchParams;
    const o = {
      rate: intOption(q.get("rate"), defaults.rate),
      events: q.has("events") ? intOption(q.get("events"), defaults.events) : defaults.events,
      dropEvery: intOption(q.get("dropEvery") ?? q.get("drop"), defaults.dropEvery),
      heartbeatMs: intOption(q.get("heartbeat"), defaults.heartbeatMs),
      retryMs: intOption(q.get("retry"), defaults.retryMs),
      seed: intOption(q.get("seed"), defaults.seed),
    };
    stats.connections++;
    const lastEventIdHeader = req.headers["last-event-id"];
    stats.lastEventIds.push(lastEventIdHeader ?? null);
    // Resume after the last seq the client saw; anything unparsable starts from the top.
    const resumeAfter = intOption(lastEventIdHeader, 0);
    let seq = resumeAfter + 1;
    if (seq > o.events) {
      res.writeHead(204).end();
      return;
    }
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
    });
    // Small writes are coalesced into ~64 KiB chunks: one syscall per chunk, not per tick.
    res.socket?.setNoDelay(true);
    write(`retry: ${o.retryMs}\n: eventsource-wasm demo feed, resuming after ${resumeAfter}\n\n`);

    let sentOnThisConnection = 0;
    let timer;
    let heartbeat;
    let closed = false;
    const conn = { res, stop };
    open.add(conn);
    res.on("close", stop);
    if (o.heartbeatMs > 0) {
      heartbeat = setInterval(() => write(": ping\n\n"), o.heartbeatMs);
      heartbeat.unref();
    }

    function write(s) {
      stats.bytesSent += Buffer.byteLength(s);
      return res.write(s);
    }

    function stop() {
      if (closed) return;
      closed = true;
      open.delete(conn);
      clearTimeout(timer);
      clearInterval(heartbeat);
    }

    /**
     * Sends up to `n` ticks as one write. Returns false when the socket buffer is full
     * (wait for 'drain'); `closed` tells whether the connection ended or was dropped.
     */
    function sendBatch(n) {
      let out = "";
      for (let k = 0; k < n; k++) {
        if (seq > o.events) {
          if (out) write(out);
          stats.eventsSent += k;
          res.end();
          stop();
          return false;
        }
        if (o.dropEvery > 0 && sentOnThisConnection === o.dropEvery) {
          // Half an event, then a hard cut: the client must not dispatch it.
          const ev = tickEvent(seq, o.seed);
          out += ev.slice(0, ev.length >> 1);
          write(out);
          stats.eventsSent += k;
          stats.drops++;
          stop();
          // Let the half event reach the socket before the reset, when it can.
          res.socket?.end(() => res.socket?.destroy());
          setTimeout(() => res.destroy(), 50).unref();
          return false;
        }
        out += tickEvent(seq, o.seed);
        seq++;
        sentOnThisConnection++;
      }
      stats.eventsSent += n;
      return write(out);
    }

    if (o.rate > 0) {
      // Paced: every 10 ms, send what the rate allows so far (fractions carry over).
      const started = performance.now();
      let due = 0;
      const tick = () => {
        if (closed) return;
        const allowed = Math.floor(((performance.now() - started) / 1000) * o.rate) - due;
        if (allowed > 0) {
          due += allowed;
          // A full socket buffer just waits for 'drain'; the schedule catches up after it.
          if (!sendBatch(allowed)) {
            if (!closed) res.once("drain", () => (timer = setTimeout(tick, 0)));
            return;
          }
        }
        timer = setTimeout(tick, 10);
      };
      tick();
    } else {
      // Flat out, but only as fast as the client reads: wait for 'drain' when the socket
      // buffer is full, and yield to the event loop between batches so heartbeats, other
      // connections and close() still get their turn.
      const pump = () => {
        while (!closed) {
          const ok = sendBatch(512);
          if (closed) return;
          if (!ok) {
            res.once("drain", () => setImmediate(pump));
            return;
          }
          if (sentOnThisConnection % 8192 < 512) {
            setImmediate(pump);
            return;
          }
        }
      };
      pump();
    }
  });

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const actualPort = typeof address === "object" && address ? address.port : port;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${actualPort}/`,
    port: actualPort,
    stats,
    close() {
      for (const conn of open) {
        conn.stop();
        conn.res.destroy();
      }
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// Run as a script: `node examples/feed-server.mjs --port 8080`.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "8080" },
      host: { type: "string", default: "127.0.0.1" },
      rate: { type: "string" },
      events: { type: "string" },
      "drop-every": { type: "string" },
      heartbeat: { type: "string" },
      retry: { type: "string" },
      seed: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(
      "usage: node examples/feed-server.mjs [--port 8080] [--rate N/s] [--events N]\n" +
        "         [--drop-every N] [--heartbeat ms] [--retry ms] [--seed N]\n",
    );
    process.exit(0);
  }
  const feed = await startFeedServer({
    host: values.host,
    port: intOption(values.port, 8080),
    rate: intOption(values.rate, 0),
    events: intOption(values.events, Infinity),
    dropEvery: intOption(values["drop-every"], 0),
    heartbeatMs: intOption(values.heartbeat, 5000),
    retryMs: intOption(values.retry, 1000),
    seed: intOption(values.seed, 1),
  });
  process.stderr.write(`feed: serving market ticks on ${feed.url} (Ctrl-C to stop)\n`);
  const shutdown = () => feed.close().then(() => process.exit(0));
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}
