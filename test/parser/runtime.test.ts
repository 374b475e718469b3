// What the parser takes from the runtime beyond web standards (src/parser/runtime.ts). The
// decoders that use Buffer's methods are tested in decode.test.ts, with and without them.
import { expect, test } from "vitest";
import * as runtime from "../../src/parser/runtime.js";

const readEnv = runtime.readEnv!;

test("readEnv: set, unset, not a string, and refused", () => {
  process.env.EVENTSOURCE_TEST_VAR = "1";
  try {
    expect(readEnv("EVENTSOURCE_TEST_VAR")).toBe("1");
  } finally {
    delete process.env.EVENTSOURCE_TEST_VAR;
  }
  expect(readEnv("EVENTSOURCE_TEST_VAR")).toBeUndefined();
  const g = globalThis as { process?: unknown };
  const saved = g.process;
  Object.defineProperty(globalThis, "process", { value: { env: { X: 1 } }, configurable: true, writable: true });
  try {
    expect(readEnv("X")).toBeUndefined();
  } finally {
    Object.defineProperty(globalThis, "process", { value: saved, configurable: true, writable: true });
  }
  // As Deno without --allow-env: the read throws NotCapable.
  const realEnv = process.env;
  Object.defineProperty(process, "env", {
    get() {
      throw new Error('NotCapable: Requires env access to "EVENTSOURCE_NO_WASM"');
    },
    configurable: true,
  });
  try {
    expect(readEnv("EVENTSOURCE_NO_WASM")).toBeUndefined();
  } finally {
    Object.defineProperty(process, "env", { value: realEnv, configurable: true, writable: true, enumerable: true });
  }
});
