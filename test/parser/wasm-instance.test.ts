// Loading the WASM engine where the runtime refuses things: no environment read may throw
// (Deno without --allow-env throws NotCapable on `process.env.X`), and whatever throws while
// loading, every later parser gets the same settled answer. Each test loads the parser's
// modules afresh (the loader runs once per load).
import { afterEach, expect, test, vi } from "vitest";
import { WINDOW_SIZE } from "../../assembly/abi.js";

type ParserModule = typeof import("../../src/parser/index.js");
type InstanceModule = typeof import("../../src/parser/wasm-instance.js");

const realEnv = process.env;
const RealModule = WebAssembly.Module;
const realValidate = WebAssembly.validate;

afterEach(() => {
  Object.defineProperty(process, "env", { value: realEnv, configurable: true, writable: true, enumerable: true });
  WebAssembly.Module = RealModule;
  WebAssembly.validate = realValidate;
});

async function fresh(): Promise<[ParserModule, InstanceModule]> {
  vi.resetModules();
  return [await import("../../src/parser/index.js"), await import("../../src/parser/wasm-instance.js")];
}

// As Deno without --allow-env: reading one of our variables throws.
function refuseEnvReads(): void {
  const env = new Proxy(realEnv, {
    get(target, name) {
      if (typeof name === "string" && name.startsWith("EVENTSOURCE_")) {
        throw new Error(`NotCapable: Requires env access to "${name}"`);
      }
      return Reflect.get(target, name);
    },
  });
  Object.defineProperty(process, "env", { value: env, configurable: true, writable: true, enumerable: true });
}

test("a refused env read counts as unset: the WASM engine loads, for every parser", async () => {
  refuseEnvReads();
  const [{ createParser }, { wasmBuild }] = await fresh();
  for (let i = 0; i < 3; i++) {
    const data: string[] = [];
    const parser = createParser({ onEvent: (e) => data.push(e.data) }, { engine: "wasm" });
    expect(parser.engine).toBe("wasm");
    parser.feed("data: x\n\n");
    expect(data).toEqual(["x"]);
  }
  expect(wasmBuild()).toBe("simd");
});

test("a load that throws is settled once, with its reason, and auto falls back", async () => {
  let compiles = 0;
  WebAssembly.Module = function () {
    compiles++;
    throw new Error("Wasm code generation disallowed by embedder");
  } as unknown as typeof WebAssembly.Module;
  const [{ createParser }, { wasmBuild, wasmUnavailableReason }] = await fresh();
  for (let i = 0; i < 2; i++) {
    expect(() => createParser({ onEvent() {} }, { engine: "wasm" })).toThrow(
      'engine "wasm" is not available: WebAssembly could not load the parser: Wasm code generation disallowed by embedder',
    );
    expect(createParser({ onEvent() {} }).engine).toBe("js");
  }
  expect(wasmUnavailableReason()).toMatch(/disallowed by embedder/);
  expect(wasmBuild()).toBeUndefined();
  expect(compiles).toBe(1);
});

test("EVENTSOURCE_NO_WASM=1 still turns the engine off", async () => {
  process.env.EVENTSOURCE_NO_WASM = "1";
  try {
    const [{ createParser }] = await fresh();
    expect(createParser({ onEvent() {} }).engine).toBe("js");
    expect(() => createParser({ onEvent() {} }, { engine: "wasm" })).toThrow(/EVENTSOURCE_NO_WASM=1/);
  } finally {
    delete process.env.EVENTSOURCE_NO_WASM;
  }
});

test("the embedded bytes are the .wasm module: its header, its exports, its layout, SIMD in its code", async () => {
  const [, { parserWasmBytes }] = await fresh();
  const bytes = parserWasmBytes();
  expect(Array.from(bytes.subarray(0, 8))).toEqual([0x00, 0x61, 0x73, 0x6d, 0x01, 0, 0, 0]);
  expect(WebAssembly.validate(bytes)).toBe(true);
  const exports = WebAssembly.Module.exports(new RealModule(bytes)).map((e) => e.name);
  expect(exports).toEqual(expect.arrayContaining(["memory", "feed", "resume", "save", "input", "records"]));
  // One latin1 decode covers a chunk and the arena spans above it: the arena must follow
  // the input window (ParserInstance relies on it and does not check).
  const instance = new WebAssembly.Instance(new RealModule(bytes), {});
  const value = (name: string) => (instance.exports[name] as WebAssembly.Global).value as number;
  expect(value("arena")).toBe(value("input") + WINDOW_SIZE);
  // Without the SIMD proposal's 0xFD prefix the module would validate where SIMD does not.
  expect(bytes.includes(0xfd)).toBe(true);
});

test("a runtime without SIMD gets the TypeScript engine, decided without compiling", async () => {
  const validated: Uint8Array[] = [];
  let compiles = 0;
  // As a runtime whose WebAssembly lacks SIMD: the module does not validate.
  WebAssembly.validate = (bytes: BufferSource) => {
    validated.push(bytes as Uint8Array);
    return false;
  };
  WebAssembly.Module = function (bytes: BufferSource) {
    compiles++;
    return new RealModule(bytes);
  } as unknown as typeof WebAssembly.Module;
  const [{ createParser }, { wasmBuild, wasmUnavailableReason }] = await fresh();
  for (let i = 0; i < 2; i++) {
    const data: string[] = [];
    const parser = createParser({ onEvent: (e) => data.push(e.data) });
    expect(parser.engine).toBe("js");
    parser.feed("data: h\u00e9\n\ndata: x\n\n");
    expect(data).toEqual(["h\u00e9", "x"]);
    expect(() => createParser({ onEvent() {} }, { engine: "wasm" })).toThrow(
      'engine "wasm" is not available: WebAssembly SIMD is not available in this runtime',
    );
  }
  expect(wasmUnavailableReason()).toBe("WebAssembly SIMD is not available in this runtime");
  expect(wasmBuild()).toBeUndefined();
  expect(validated).toHaveLength(1);
  expect(Array.from(validated[0]!.subarray(0, 4))).toEqual([0x00, 0x61, 0x73, 0x6d]);
  expect(compiles).toBe(0);
});
