// The size a browser app pays for the parser alone: `import { createParser }` from
// `eventsource-wasm/parser` (the packed package) and from `eventsource-parser`, each bundled
// as `esbuild --bundle --minify --platform=browser` would, then gzipped. Prints a line per
// package; the README quotes it. The WASM module is most of ours: base64 in the bundle,
// which is what lets it load synchronously with no file to fetch.
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { installInto, pack, root } from "./pack.mjs";

export async function bundleSizes() {
  const { tarball } = pack();
  const consumer = installInto(tarball);
  rmSync(dirname(tarball), { recursive: true, force: true });
  const sizes = [];
  for (const [name, dir] of [
    ["eventsource-wasm/parser", consumer],
    ["eventsource-parser", root],
  ]) {
    const result = await build({
      stdin: { contents: `export { createParser } from "${name}";`, resolveDir: dir, loader: "js" },
      bundle: true,
      minify: true,
      platform: "browser",
      format: "esm",
      write: false,
      logLevel: "silent",
    });
    const code = result.outputFiles[0].contents;
    sizes.push({ name, minified: code.length, gzip: gzipSync(code, { level: 9 }).length });
  }
  rmSync(consumer, { recursive: true, force: true });
  return sizes;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const { name, minified, gzip } of await bundleSizes()) {
    console.log(`${name}: ${(minified / 1024).toFixed(1)} KiB minified, ${(gzip / 1024).toFixed(1)} KiB minified+gzip`);
  }
}
