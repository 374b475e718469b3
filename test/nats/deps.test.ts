// The NATS client packages we test with (devDependencies), and everything they pull in, must
// run on every Node the package claims (`engines.node`): 3.4.0 pulled @nats-io/nuid 3.0.0,
// which asks for Node 22, and `npm ci` warned EBADENGINE on Node 20.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { NATS_PACKAGES } from "../../src/nats/deps.js";

interface Manifest {
  name: string;
  version: string;
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const root = fileURLToPath(new URL("../..", import.meta.url));
const manifest = (path: string): Manifest => JSON.parse(readFileSync(path, "utf8"));
const own = manifest(join(root, "package.json"));

/** The lowest major a `>= N` (or `>=N.x`, `>=N.0.0`) range admits; null when it has no floor. */
function floor(range: string | undefined): number | null {
  const m = range === undefined ? null : />=\s*v?(\d+)/.exec(range);
  return m ? Number(m[1]) : null;
}

/** Where Node finds `name` from `dir` (its exports may hide ./package.json from require). */
function installed(name: string, dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    const path = join(d, "node_modules", name, "package.json");
    if (existsSync(path)) return path;
    if (dirname(d) === d) throw new Error(`${name} is not installed (from ${dir})`);
  }
}

/** Each package and the packages it depends on, as installed, resolved from its own place. */
function closure(names: readonly string[]): Manifest[] {
  const seen = new Map<string, Manifest>();
  const visit = (name: string, from: string) => {
    const path = installed(name, dirname(from));
    if (seen.has(path)) return;
    const m = manifest(path);
    seen.set(path, m);
    for (const dep of Object.keys(m.dependencies ?? {})) visit(dep, path);
  };
  for (const name of names) visit(name, join(root, "package.json"));
  return [...seen.values()];
}

test("floor() reads the engines ranges npm packages use", () => {
  expect([">= 22.x", ">=18.0.0", ">= 18.x", ">=20", "*", undefined].map(floor)).toEqual([22, 18, 18, 20, null, null]);
});

test("every NATS client package installed, and its dependencies, runs on the oldest Node we claim", () => {
  const ours = floor(own.engines?.node);
  expect(ours).toBe(20);
  const packages = closure(NATS_PACKAGES);
  expect(packages.map((p) => p.name)).toEqual(expect.arrayContaining([...NATS_PACKAGES, "@nats-io/nuid", "@nats-io/nats-core"]));
  const tooNew = packages.filter((p) => (floor(p.engines?.node) ?? 0) > ours!).map((p) => `${p.name}@${p.version} (${p.engines!.node})`);
  expect(tooNew).toEqual([]);
});

test("the peer range admits the versions we test with", () => {
  for (const name of NATS_PACKAGES) {
    const tested = own.devDependencies?.[name];
    expect(own.peerDependencies?.[name], name).toBe(`^${tested}`);
  }
});
