import { defineConfig } from "tsup";

export default defineConfig({
  // cli: the `eventsource-wasm` command (package.json "bin"); its shebang comes from src/cli.ts.
  entry: { index: "src/index.ts", cli: "src/cli.ts" },
  format: ["esm", "cjs"],
  dts: true,
  target: "node20",
  platform: "node",
  sourcemap: true,
  clean: true,
  splitting: false,
  treeshake: true,
});
