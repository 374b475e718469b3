import { defineConfig } from "tsup";
import type { Plugin } from "esbuild";

// `eventsource-wasm/nats` reaches the core through `../index.js`; in dist/ that is the
// core's own bundle next to it (./index.js or ./index.cjs), not a second copy inlined.
const coreExternal: Plugin = {
  name: "core-external",
  setup(build) {
    // With treeshake, tsup runs esbuild as ESM for both formats (rollup makes the CJS), so
    // the format in hand is the one tsup defines as TSUP_FORMAT.
    const file = build.initialOptions.define?.TSUP_FORMAT === '"cjs"' ? "./index.cjs" : "./index.js";
    build.onResolve({ filter: /^\.\.\/index\.js$/ }, (args) =>
      args.importer.includes("/src/nats/") ? { path: file, external: true } : undefined,
    );
  },
};
const natsExternal = [/^@nats-io\//];

const common = {
  target: "node20",
  platform: "node",
  splitting: false,
  treeshake: true,
} as const;

// No `clean`: the two builds run at once, and one's clean could delete the other's output;
// `npm run build` empties dist/ first instead.
export default defineConfig([
  // The library: both module systems, with types.
  { ...common, entry: { index: "src/index.ts" }, format: ["esm", "cjs"], dts: true, sourcemap: true, clean: false },
  // The NATS ingest library: optional peer dependencies stay external.
  { ...common, entry: { nats: "src/nats/index.ts" }, format: ["esm", "cjs"], dts: true, sourcemap: true, clean: false,
    external: natsExternal, esbuildPlugins: [coreExternal] },
  // The `eventsource-wasm` command (package.json "bin"; its shebang is the first line of
  // src/cli/main.ts): ESM only and no types, since nothing imports it.
  { ...common, entry: { cli: "src/cli/main.ts" }, format: ["esm"], dts: false, sourcemap: false, clean: false,
    external: natsExternal },
]);
