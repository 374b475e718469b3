// `node scripts/ensure-built.mjs`: builds the package (`npm run build`) only when dist/ is
// missing a file that package.json points at, or is older than what it is built from (src/,
// assembly/, package.json, tsup.config.ts); otherwise exits 0 at once. The `pretest` script
// runs it, so that `npm test` needs no manual build and does not pay for one it does not need.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const INPUTS = ["src", "assembly", "package.json", "tsup.config.ts"];

/** Every file under `path` (or `path` itself), with its mtime. */
function* files(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) {
    yield { path, mtime: stat.mtimeMs };
    return;
  }
  for (const entry of readdirSync(path)) yield* files(join(path, entry));
}

/** The files package.json says the package is made of: every "./dist/..." it names. */
function entryFiles() {
  const text = readFileSync(join(root, "package.json"), "utf8");
  return [...new Set(text.match(/"\.\/dist\/[^"]+"/g) ?? [])].map((s) => join(root, s.slice(1, -1)));
}

function staleReason() {
  const missing = entryFiles().find((file) => !existsSync(file));
  if (missing !== undefined) return `${missing.slice(root.length)} is missing`;
  let oldestOutput = { path: "", mtime: Infinity };
  for (const f of files(join(root, "dist"))) if (f.mtime < oldestOutput.mtime) oldestOutput = f;
  for (const input of INPUTS) {
    if (!existsSync(join(root, input))) continue;
    for (const f of files(join(root, input))) {
      if (f.mtime > oldestOutput.mtime) return `${f.path.slice(root.length)} is newer than ${oldestOutput.path.slice(root.length)}`;
    }
  }
  return null;
}

const reason = staleReason();
if (reason === null) process.exit(0);
console.error(`ensure-built: ${reason}: npm run build`);
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const build = spawnSync(npm, ["run", "build"], { cwd: root, stdio: "inherit", shell: process.platform === "win32" });
process.exit(build.status ?? 1);
