// The committed WASM module (src/wasm/parser.generated.ts) is what assembly/ builds to: asc
// compiles its target, about 20 s of CPU on a busy 2-core machine, so it runs with the
// integration suites rather than in \`npm test\`.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

test("the committed .wasm is what assembly/ builds to", () => {
  execFileSync(process.execPath, ["scripts/build-wasm.mjs", "--check"], { cwd: root, stdio: "pipe" });
}, 120_000);
