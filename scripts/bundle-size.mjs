// What a browser app pays for this package, WASM included: an app that uses `EventSource`
// (`eventsource-wasm` through the `browser` condition, dist/browser.js) and an app that uses the
// parser alone (`eventsource-wasm/parser`), each from the packed package and bundled as
// `esbuild --bundle --minify --platform=browser` would, then gzipped at level 9; `eventsource`
// and `eventsource-parser` beside them. `npm run size` prints the table, says whether each app
// meets its target (issue 19: 20 kB and 12 kB), and fails when one grows past its ceiling: the
// target once met (the parser app), else the size when the ceiling was set plus 0.5 kB, so CI
// catches growth while a target is open. The README quotes its figures.
// `npm run size -- --by-module` also ranks the modules of our apps by what each adds to them.
import { readFileSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { installInto, pack, root } from "./pack.mjs";

// Gzipped bytes (1 kB = 1000 bytes, as the targets are stated).
export const TARGETS = { "eventsource-wasm": 20_000, "eventsource-wasm/parser": 12_000 };
// The EventSource app measured at 20,841 bytes; the parser app at 11,414, within its target.
export const CEILINGS = { "eventsource-wasm": 21_337, "eventsource-wasm/parser": 12_000 };

const APPS = [
  { name: "eventsource-wasm", app: "EventSource", code: `export { EventSource } from "eventsource-wasm";`, ours: true },
  { name: "eventsource", app: "EventSource", code: `export { EventSource } from "eventsource";` },
  { name: "eventsource-wasm/parser", app: "parser", code: `export { createParser } from "eventsource-wasm/parser";`, ours: true },
  { name: "eventsource-parser", app: "parser", code: `export { createParser } from "eventsource-parser";` },
];

/**
 * The app's modules as the bundle holds them: the `// src/...` line tsup writes before each
 * module in dist/ becomes a legal comment, which the minifier keeps where it stands.
 */
const markModules = {
  name: "mark-modules",
  setup(build) {
    build.onLoad({ filter: /[/\\]eventsource-wasm[/\\]dist[/\\][^/\\]+\.js$/ }, (args) => ({
      contents: readFileSync(args.path, "utf8").replace(/^\/\/ ((?:src|assembly)\/\S+)$/gm, "/*! module $1 */"),
      loader: "js",
    }));
  },
};

/**
 * Each module's minified bytes in the app, and what it adds gzipped: the app's size less that
 * of the app without its text (gzip shares its window across modules, so these do not sum to
 * the total). Largest first.
 */
function byModule(code) {
  const parts = code.split(/(?=\/\*! module )/);
  const named = parts.map((part) => {
    const name = /^\/\*! module (\S+) \*\/\n?/.exec(part);
    return { name: name ? name[1] : "(bundle)", text: name ? part.slice(name[0].length) : part };
  });
  const gzip = (texts) => gzipSync(texts.join(""), { level: 9 }).length;
  const whole = gzip(named.map((p) => p.text));
  const modules = new Map();
  for (const { name } of named) {
    if (modules.has(name)) continue;
    const own = named.filter((p) => p.name === name);
    modules.set(name, {
      name,
      minified: own.reduce((sum, p) => sum + p.text.length, 0),
      gzip: whole - gzip(named.filter((p) => p.name !== name).map((p) => p.text)),
    });
  }
  return [...modules.values()].filter((m) => m.minified !== 0).sort((a, b) => b.gzip - a.gzip);
}

export async function bundleSizes({ modules = false } = {}) {
  const { tarball } = pack();
  const consumer = installInto(tarball);
  rmSync(dirname(tarball), { recursive: true, force: true });
  const sizes = [];
  try {
    for (const { name, app, code: contents, ours } of APPS) {
      // As `esbuild --bundle --minify --platform=browser` bundles an app.
      const options = { stdin: { contents, resolveDir: ours ? consumer : root, loader: "js" }, bundle: true, minify: true, platform: "browser", format: "esm", write: false, logLevel: "silent" };
      const result = await build(options);
      const code = result.outputFiles[0].contents;
      const size = { name, app, minified: code.length, gzip: gzipSync(code, { level: 9 }).length, target: TARGETS[name], ceiling: CEILINGS[name] };
      if (modules && ours) {
        const marked = await build({ ...options, legalComments: "inline", plugins: [markModules] });
        size.modules = byModule(marked.outputFiles[0].text);
      }
      sizes.push(size);
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
  for (const { name, gzip, modules } of sizes) {
    if (modules === undefined) continue;
    log(`\n${name} (${gzip} bytes gzipped), by module: gzipped bytes it adds, minified bytes`);
    for (const m of modules) log(`${String(m.gzip).padStart(7)} ${String(m.minified).padStart(7)}  ${m.name}`);
  }
  return ok;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exit(report(await bundleSizes({ modules: process.argv.includes("--by-module") })) ? 0 : 1);
}
