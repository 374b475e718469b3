// The package checks CI runs on the built tree: what `npm pack` would publish, then
// publint (package.json fields and exports against the files) and Are The Types Wrong
// (the declarations under every TypeScript module resolution).
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { bundleSizes, report } from "./bundle-size.mjs";
import { pack, root } from "./pack.mjs";

const { tarball, files, size, unpackedSize } = pack();
let failed = false;
const fail = (message) => {
  console.error(`check:package: ${message}`);
  failed = true;
};

// What users download: the builds, their declarations, the docs. No source maps (see
// tsup.config.ts), nothing from src/, test/ or the benches.
const expected = [
  "LICENSE",
  "README.md",
  "dist/browser-parser.cjs",
  "dist/browser-parser.js",
  "dist/browser.cjs",
  "dist/browser.js",
  "dist/cli.js",
  "dist/index.cjs",
  "dist/index.d.cts",
  "dist/index.d.ts",
  "dist/index.js",
  "dist/nats.cjs",
  "dist/nats.d.cts",
  "dist/nats.d.ts",
  "dist/nats.js",
  "dist/parser-wasm.cjs",
  "dist/parser-wasm.js",
  "dist/parser.cjs",
  "dist/parser.d.cts",
  "dist/parser.d.ts",
  "dist/parser.js",
  "dist/parser.wasm",
  "dist/shared.cjs",
  "dist/shared.d.cts",
  "dist/shared.d.ts",
  "dist/shared.js",
  "dist/web.cjs",
  "dist/web.js",
  "dist/workerd-parser.js",
  "dist/workerd.js",
  "package.json",
];
const got = [...files].sort();
if (JSON.stringify(got) !== JSON.stringify(expected)) {
  fail(`packed files differ from the expected list:\n  got      ${got.join(" ")}\n  expected ${expected.join(" ")}`);
}
console.log(`npm pack: ${files.length} files, ${(size / 1024).toFixed(1)} KiB packed, ${(unpackedSize / 1024).toFixed(1)} KiB unpacked`);

const bin = (name) => join(root, "node_modules", ".bin", name);
for (const [name, args] of [
  ["publint", ["run", tarball, "--strict"]],
  ["attw", [tarball]],
]) {
  try {
    execFileSync(bin(name), args, { cwd: root, stdio: "inherit" });
  } catch {
    fail(`${name} failed`);
  }
}
rmSync(dirname(tarball), { recursive: true, force: true });

// Reported here, judged by `npm run size` (the README quotes it).
report(await bundleSizes());
process.exit(failed ? 1 : 0);
