// `npm run test:types`: the consumer fixtures in test/types/ compiled by tsc against the
// packed package's declarations, as users compile them: strict, exactOptionalPropertyTypes,
// no skipLibCheck; with no DOM library on @types/node 20, 22, 24 and 26; with the DOM
// library beside @types/node; and in a browser project (DOM, no @types/node, bundler
// resolution). `@ts-expect-error` lines are part of the test: an error that goes missing
// fails it too. One line per configuration; exits non-zero if any fails.
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { installInto, pack, root } from "./pack.mjs";

const fixtures = readdirSync(join(root, "test/types")).filter((f) => f.endsWith(".ts"));
// Fixtures that need Node's typings (undici's fetch is Node-only) or the DOM's.
const nodeOnly = new Set(["fetch-option.ts"]);
const domOnly = new Set(["dom-event-map.ts"]);

const nodeConfig = (major, lib) => ({
  name: `@types/node ${major}, lib ${lib.join("+")}`,
  nodeTypes: `node${major}`,
  files: lib.includes("dom") ? fixtures : fixtures.filter((f) => !domOnly.has(f)),
  options: { lib, module: "nodenext", moduleResolution: "nodenext" },
});
const only = process.env.TYPES_ONLY;
const allConfigs = [
  ...[20, 22, 24, 26].map((major) => nodeConfig(major, ["es2022"])),
  nodeConfig(20, ["es2022", "dom"]),
  // The oldest TypeScript the README promises (the declarations use TS 5.7's generic
  // Uint8Array<ArrayBuffer>).
  { ...nodeConfig(20, ["es2022"]), name: "TypeScript 5.7, @types/node 20, lib es2022", tsc: "typescript57" },
  nodeConfig(26, ["es2022", "dom", "dom.iterable"]),
  {
    name: "browser project: lib es2022+dom, no @types/node, bundler resolution",
    nodeTypes: undefined,
    files: fixtures.filter((f) => !nodeOnly.has(f)),
    options: { lib: ["es2022", "dom", "dom.iterable"], module: "esnext", moduleResolution: "bundler" },
  },
];

const { tarball } = pack();
const consumer = installInto(tarball);
rmSync(dirname(tarball), { recursive: true, force: true });
writeFileSync(join(consumer, "package.json"), '{ "private": true, "type": "module" }\n');
mkdirSync(join(consumer, "src"));
for (const f of fixtures) copyFileSync(join(root, "test/types", f), join(consumer, "src", f));
symlinkSync(realpathSync(join(root, "node_modules/undici")), join(consumer, "node_modules/undici"));

function compile(config, index) {
  const typeRoots = [];
  if (config.nodeTypes !== undefined) {
    // Each configuration sees one @types/node, under the name "node" (undici's
    // `/// <reference types="node" />` must find the same one).
    const dir = join(consumer, "typeroots", String(index));
    mkdirSync(dir, { recursive: true });
    symlinkSync(realpathSync(join(root, "node_modules/@types", config.nodeTypes)), join(dir, "node"));
    typeRoots.push(`./typeroots/${index}`);
  }
  const tsconfig = `tsconfig.${index}.json`;
  writeFileSync(
    join(consumer, tsconfig),
    JSON.stringify({
      compilerOptions: {
        target: "es2022",
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        skipLibCheck: false,
        noEmit: true,
        typeRoots,
        types: config.nodeTypes === undefined ? [] : ["node"],
        ...config.options,
      },
      files: config.files.map((f) => `src/${f}`),
    }),
  );
  return new Promise((resolve) => {
    const tsc = join(root, "node_modules", config.tsc ?? "typescript", "bin", "tsc");
    const child = spawn(process.execPath, [tsc, "-p", tsconfig, "--pretty", "false"], { cwd: consumer });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code) => resolve({ config, code, out }));
  });
}

const configs = only === undefined ? allConfigs : allConfigs.filter((c) => c.name.includes(only));
if (configs.length === 0) throw new Error(`TYPES_ONLY=${only} matches no configuration`);

// Two at a time: CI has two cores.
const results = [];
for (let i = 0; i < configs.length; i += 2) {
  results.push(...(await Promise.all(configs.slice(i, i + 2).map((c, j) => compile(c, i + j)))));
}
let failed = 0;
for (const { config, code, out } of results) {
  if (code === 0) {
    console.log(`ok   ${config.name}`);
    continue;
  }
  failed++;
  const errors = out.trim().split("\n").filter((l) => /error TS/.test(l));
  console.log(`FAIL ${config.name}: ${errors.length} errors`);
  for (const line of errors.slice(0, 12)) console.log(`       ${line.replace(consumer + "/", "")}`);
  if (errors.length > 12) console.log(`       ... ${errors.length - 12} more`);
}
if (process.env.KEEP_TYPES_CONSUMER) console.log(`kept ${consumer}`);
else rmSync(consumer, { recursive: true, force: true });
console.log(failed === 0 ? "types: all passed" : `types: ${failed} of ${results.length} configurations failed`);
process.exit(failed === 0 ? 0 : 1);
