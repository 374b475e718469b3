// The package exactly as the registry would get it: `npm pack` of the built tree (dist/
// must be built: `npm run build`; prepack is skipped so that checks do not build twice).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("..", import.meta.url));

/** Packs the package into a new temporary folder; returns the tarball's path. */
export function pack() {
  if (!existsSync(join(root, "dist", "index.js"))) {
    throw new Error("dist/ is not built: run `npm run build` first");
  }
  const dir = mkdtempSync(join(tmpdir(), "eventsource-wasm-pack-"));
  const out = execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], {
    cwd: root,
    encoding: "utf8",
  });
  const [info] = JSON.parse(out);
  return { tarball: join(dir, info.filename), files: info.files.map((f) => f.path), unpackedSize: info.unpackedSize, size: info.size };
}

/**
 * A folder where `eventsource-wasm` is installed from the tarball, as a dependency of a
 * consumer package: imports by name resolve through the package's "exports" as they would
 * for a user, in any runtime.
 */
export function installInto(tarball, dir = mkdtempSync(join(tmpdir(), "eventsource-wasm-consumer-"))) {
  const modules = join(dir, "node_modules", "eventsource-wasm");
  mkdirSync(modules, { recursive: true });
  execFileSync("tar", ["-xzf", tarball, "-C", modules, "--strip-components=1"]);
  return dir;
}
