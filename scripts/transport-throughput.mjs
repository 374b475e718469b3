// Which default transport for Bun and Deno: node:http (their Node compatibility layer) or
// their own fetch? Runs one EventSource per transport in the given runtime against a local
// feed served by this Node process, and prints events/s. Not a test: the figures feed the
// choice of export conditions in package.json (see the README's runtime table).
//
//   node scripts/transport-throughput.mjs <runtime binary> [deno|bun|node]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const [binary = process.execPath, kind = "node"] = process.argv.slice(2);
const EVENTS = 300_000;
const ROUNDS = 5;
const event = `data: ${JSON.stringify({ s: "ABCD", p: 123.45, q: 100, t: 1700000000000 })}\n\n`;
const chunk = event.repeat(Math.floor(65536 / event.length));
const perChunk = Math.floor(65536 / event.length);

const server = createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/event-stream" });
  let left = Math.ceil(EVENTS / perChunk) + 1;
  const pump = () => {
    while (left > 0) {
      left--;
      if (!res.write(chunk)) return void res.once("drain", pump);
    }
  };
  pump();
  req.on("close", () => (left = 0));
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const url = `http://127.0.0.1:${server.address().port}/`;

const client = `
const [lib, url, transport, n] = globalThis.Deno?.args ?? process.argv.slice(2);
const { EventSource } = await import(lib);
const start = performance.now();
let count = 0;
await new Promise((resolve, reject) => {
  const es = new EventSource(url, transport === "fetch" ? { fetch: globalThis.fetch } : {});
  es.onmessage = () => {
    if (++count === Number(n)) { es.close(); resolve(); }
  };
  es.onerror = (e) => { es.close(); reject(e.error ?? e); };
});
console.log(Math.round(count / ((performance.now() - start) / 1000)));
`;
const lib = pathToFileURL(fileURLToPath(new URL("../dist/index.js", import.meta.url))).href;
const dir = mkdtempSync(join(tmpdir(), "eventsource-wasm-throughput-"));
const file = join(dir, "client.mjs");
writeFileSync(file, client);
const runArgs = kind === "deno" ? ["run", "--allow-net", "--allow-read", "--allow-env", file] : [file];

function run(transport) {
  return new Promise((resolve, reject) => {
    const argv = [...runArgs, lib, url, transport, String(EVENTS)];
    const child = spawn(binary, argv, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("exit", (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`${transport}: exit ${code}`))));
  });
}

const results = { node: [], fetch: [] };
for (let i = 0; i < ROUNDS; i++) {
  for (const t of ["node", "fetch"]) results[t].push(await run(t));
}
server.close();
rmSync(dir, { recursive: true });
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const n = median(results.node);
const f = median(results.fetch);
console.log(`${kind}: node:http ${n} events/s, fetch ${f} events/s (median of ${ROUNDS}); fetch/node:http = ${(f / n).toFixed(2)}`);
