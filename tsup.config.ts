import { defineConfig } from "tsup";

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
  // The `eventsource-wasm` command (package.json "bin"; its shebang is the first line of
  // src/cli/main.ts): ESM only and no types, since nothing imports it.
  { ...common, entry: { cli: "src/cli/main.ts" }, format: ["esm"], dts: false, sourcemap: false, clean: false },
]);
