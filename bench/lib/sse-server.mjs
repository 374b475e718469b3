// The e2e bench's server, run in a child process (so its CPU is not the client's):
// serves a fixed market-ticks stream of N events on 127.0.0.1, then ends the response.
//
//   fork("bench/lib/sse-server.mjs", [String(events), "gzip" | "plain", "short"?])
//   -> message { port, bytes, wireBytes, events, dataLength }
//
// "short": ~57 B ticks (`id`, `event: tick`, `data: {"s":"NVDA","p":123.45}`) instead of
// marketTicks' ~115 B: the size of issue 20's gzip measurements.
// With "gzip", the body is `Content-Encoding: gzip`, flushed (Z_SYNC_FLUSH) after every 64 KiB
// of events, as a compressing server that streams does; compressed once, before listening, so
// that every stream costs the server the same.
// env BENCH_SSE_PROTO: "http" (default), "https", "h2c" or "h2" (node:http2, TLS), the TLS
// ones with the test certificate of test/fixtures/tls (bench/h2.bench.mjs); BENCH_SSE_KEEP_OPEN=1:
// the response stays open after the last event (many sources, each reading its events);
// BENCH_SSE_H2_MAX_STREAMS: the h2 server's SETTINGS_MAX_CONCURRENT_STREAMS (nginx: 128).

import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createSecureServer, createServer as createH2cServer } from "node:http2";
import { createServer as createHttpsServer } from "node:https";
import { constants, createGzip } from "node:zlib";
import { marketTicks, cutChunks, prng } from "../fixtures.mjs";

const events = Number(process.argv[2]);
const gzip = process.argv[3] === "gzip";
if (!(events > 0)) throw new Error("usage: sse-server.mjs <events> [gzip|plain] [short]");
const corpus = process.argv[4] === "short" ? shortTicks(events) : marketTicks({ events });

/** @param {number} n */
function shortTicks(n) {
  const rand = prng(0xc0ffee);
  const symbols = ["AAPL", "MSFT", "GOOG", "AMZN", "NVDA", "META", "TSLA", "ORCL"];
  const parts = [];
  let dataLength = 0;
  for (let i = 1; i <= n; i++) {
    const data = `{"s":"${symbols[Math.floor(rand() * symbols.length)]}","p":${(100 + rand() * 900).toFixed(2)}}`;
    dataLength += data.length;
    parts.push(`id: ${i}\nevent: tick\ndata: ${data}\n\n`);
  }
  return { bytes: Buffer.from(parts.join("")), events: n, dataLength };
}
// Written in 64 KiB pieces, waiting for drain: what a fast real server does.
const pieces = gzip ? await gzipFlushed(cutChunks(corpus.bytes, 64 * 1024)) : cutChunks(corpus.bytes, 64 * 1024);

/** @param {Buffer[]} input @returns {Promise<Buffer[]>} one compressed piece per input piece */
async function gzipFlushed(input) {
  const z = createGzip();
  /** @type {Buffer[]} */
  let out = [];
  z.on("data", (/** @type {Buffer} */ c) => out.push(c));
  const pieces = [];
  for (const piece of input) {
    z.write(piece);
    await new Promise((resolve) => z.flush(constants.Z_SYNC_FLUSH, () => resolve(undefined)));
    pieces.push(Buffer.concat(out));
    out = [];
  }
  z.end();
  await new Promise((resolve) => z.once("end", resolve));
  pieces.push(Buffer.concat(out));
  return pieces;
}

const PROTO = process.env.BENCH_SSE_PROTO ?? "http";
const KEEP_OPEN = process.env.BENCH_SSE_KEEP_OPEN === "1";
const tlsFile = (/** @type {string} */ name) => readFileSync(new URL(`../../test/fixtures/tls/${name}`, import.meta.url));
/** @param {(req: any, res: any) => void} handler */
function listen(handler) {
  if (PROTO === "http") return createServer(handler);
  // node:http2 refuses new streams (ENHANCE_YOUR_CALM) once a session holds 10 MB (its
  // default maxSessionMemory): 1,000 sources' unsent events are more than that.
  const h2 = { maxSessionMemory: 1024, settings: { maxConcurrentStreams: Number(process.env.BENCH_SSE_H2_MAX_STREAMS) || 2 ** 32 - 1 } };
  if (PROTO === "h2c") return createH2cServer(h2, handler);
  const tls = { key: tlsFile("key.pem"), cert: tlsFile("cert.pem") };
  if (PROTO === "https") return createHttpsServer(tls, handler);
  if (PROTO === "h2") return createSecureServer({ ...tls, ...h2 }, handler);
  throw new Error(`BENCH_SSE_PROTO: unknown ${PROTO}`);
}

const server = listen((/** @type {any} */ req, /** @type {any} */ res) => {
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-store",
    ...(gzip ? { "content-encoding": "gzip" } : {}),
  }); // chunked, like a live feed
  let i = 0;
  const pump = () => {
    while (i < pieces.length) {
      if (!res.write(pieces[i++])) {
        res.once("drain", pump);
        return;
      }
    }
    if (!KEEP_OPEN) res.end();
  };
  if (PROTO === "http" || PROTO === "https") req.socket.setNoDelay(true);
  pump();
});
if ("keepAliveTimeout" in server) server.keepAliveTimeout = 1000;
server.listen(0, "127.0.0.1", () => {
  const address = /** @type {import("node:net").AddressInfo} */ (server.address());
    const wireBytes = pieces.reduce((n, p) => n + p.length, 0);
  process.send?.({ port: address.port, bytes: corpus.bytes.length, wireBytes, events: corpus.events, dataLength: corpus.dataLength });
});
process.on("disconnect", () => process.exit(0));
