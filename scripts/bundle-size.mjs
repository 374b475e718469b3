// What a browser app pays for this package, WASM included: an app that uses `EventSource`
// (`eventsource-wasm` through the `browser` condition, dist/browser.js) and an app that uses the
// parser alone (`eventsource-wasm/parser`), each from the packed package and bundled as
// `esbuild --bundle --minify --platform=browser` would, then gzipped at level 9; `eventsource`
// and `eventsource-parser` beside them. `npm run size` prints the table, says whether each app
// meets its target (issue 19: 20 kB and 12 kB), and fails when one grows past its ceiling: the
// target once met (the parser app), else the size when the ceiling was set plus 0.5 kB, so CI
// catches growth while a target is open. The README quotes its figures.
import { rmSync } from "node:fs";
import { dirname } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { installInto, pack, root } from "./pack.mjs";

// Gzipped bytes (1 kB = 1000 bytes, as the targets are stated).
export const TARGETS = { "eventsource-wasm": 20_000, "eventsource-wasm/parser": 12_000 };
// The EventSource app measured at 21,911 bytes; the parser app at 11,996, within its target.
export const CEILINGS = { "eventsource-wasm": 22_411, "eventsource-wasm/parser": 12_000 };

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
      sizes.push({ name, app, minified: code.length, gzip: gzipSync(code, { level: 9 }).length, target: TARGETS[name], ceiling: CEILINGS[name] });
    }
  } finally {
    rmSync(consumer, { recursive: true, force: true });
  }
  return sizes;
}

const kB = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;

/** One line per app; true when no app of ours is over its ceiling. */
export function report(sizes, log = console.log) {
  let ok = true;
  for (const { name, app, minified, gzip, target, ceiling } of sizes) {
    let judged = "";
    if (target !== undefined) {
      judged = gzip <= target ? ` (target ${kB(target)}: met)` : ` (target ${kB(target)}: missed by ${kB(gzip - target)})`;
      if (gzip > ceiling) {
        ok = false;
        judged += ` OVER the ${kB(ceiling)} ceiling: it grew`;
      }
    }
    log(`${app} app, ${name}: ${kB(minified)} minified, ${kB(gzip)} minified+gzip${judged}`);
  }
  return ok;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exit(report(await bundleSizes()) ? 0 : 1);
}
