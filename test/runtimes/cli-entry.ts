// Node, Bun and Deno: `<runtime> smoke.mjs <server> <key>` prints one JSON line (a
// SuiteResult plus where the package resolved) and exits 0 only if every check passed.
import { runSuite } from "./suite.js";

declare const Deno: { args: string[]; exit(code: number): never } | undefined;
declare const process: { argv: string[]; exit(code: number): never };

const args = typeof Deno !== "undefined" ? Deno.args : process.argv.slice(2);
const [base = "", key = ""] = args;
const result = await runSuite(base, key, () =>
  Promise.all([import("eventsource-wasm"), import("eventsource-wasm/parser")]),
);
const resolved = import.meta.resolve("eventsource-wasm").replace(/^.*\/node_modules\/eventsource-wasm\//, "");
console.log(JSON.stringify({ ...result, resolved }));
const exit = typeof Deno !== "undefined" ? Deno.exit : process.exit;
exit(result.checks.every((c) => c.ok) ? 0 : 1);
