// What a browser app pays for this package, WASM included: an app that uses `EventSource`
// (`eventsource-wasm` through the `import` condition, dist/web.js) and an app that uses the
// parser alone (`eventsource-wasm/parser`), each from the packed package and bundled as
// `esbuild --bundle --minify --platform=browser` would, then gzipped at level 9; `eventsource`
// and `eventsource-parser` beside them. `npm run size` prints the table and fails when an app
// is over its limit; the README quotes its figures.
import { rmSync } from "node:fs";
import { dirname } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { installInto, pack, root } from "./pack.mjs";

// Gzipped bytes (1 kB = 1000 bytes, as the limits are stated).
export const LIMITS = { "eventsource-wasm": 20_000, "eventsource-wasm/parser": 12_000 };

const APPS = [
  { name: "eventsource-wasm", app: "EventSource", code: `export { EventSource } from "eventsource-wasm";`, ours: true },
  { name: "eventsource", app: "EventSource", code: `export { EventSource } from "eventsource";` },
  { name: "eventsource-wasm/parser", app: "parser", code: `export { createParser } from "eventsource-wasm/parser";`, ours: true },
  { name: "eventsource-parser", app: "parser", code: `export { createParser } from "eventsource-parser";` },
];

export async function bundleSizes() {
  const { tarball } = pack();
  const consumer = installInto(tarball);
  rmSync(dirname(tarball), { recursive: true, force: true });
  const sizes = [];
  try {
    for (const { name, app, code: contents, ours } of APPS) {
      const result = await build({
        stdin: { contents, resolveDir: ours ? consumer : root, loader: "js" },
        bundle: true,
        minify: true,
        platform: "browser",
        format: "esm",
        write: false,
        logLevel: "silent",
      });
      const code = result.outputFiles[0].contents;
      sizes.push({ name, app, minified: code.length, gzip: gzipSync(code, { level: 9 }).length, limit: LIMITS[name] });
    }
  } finally {
    rmSync(consumer, { recursive: true, force: true });
  }
  return sizes;
}

const kB = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;

/** One line per app; true when every app of ours is within its limit. */
export function report(sizes, log = console.log) {
  let ok = true;
  for (const { name, app, minified, gzip, limit } of sizes) {
    const over = limit !== undefined && gzip > limit;
    if (over) ok = false;
    const judged = limit === undefined ? "" : over ? ` OVER the ${kB(limit)} limit` : ` (limit ${kB(limit)})`;
    log(`${app} app, ${name}: ${kB(minified)} minified, ${kB(gzip)} minified+gzip${judged}`);
  }
  return ok;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exit(report(await bundleSizes()) ? 0 : 1);
}
