// The same property suites as test/parser/wasm.test.ts, on the build without SIMD: the one
// runtimes without SIMD get. Selected by EVENTSOURCE_WASM_BUILD, read when the first WASM
// parser loads the module (not at import), and vitest gives each test file its own process.
import { afterAll, expect, test } from "vitest";
import { wasmBuild } from "../../src/parser/wasm.js";
import { wasmSuites } from "../support/wasm-suites.js";

process.env.EVENTSOURCE_WASM_BUILD = "scalar";
afterAll(() => {
  delete process.env.EVENTSOURCE_WASM_BUILD;
});

test("the engine under test is the scalar build", () => {
  expect(wasmBuild()).toBe("scalar");
});

wasmSuites();
