// useWasmModule: the WASM engine instantiates a module the platform compiled (workerd and
// Wrangler compile an imported `.wasm` file) instead of compiling the bytes it embeds. The
// module is chosen once per process, so each case loads the parser modules afresh. That
// workerd itself runs the engine this way is checked by `npm run test:runtimes`.
import { readFileSync } from "node:fs";
import { expect, test, vi } from "vitest";

const root = new URL("../../", import.meta.url);

async function freshParser() {
  vi.resetModules();
  return import("../../src/parser/index.js");
}

function parseAll(createParser: Awaited<ReturnType<typeof freshParser>>["createParser"], engine: "auto" | "wasm") {
  const events: string[] = [];
  const parser = createParser({ onEvent: (e) => events.push(`${e.type}:${e.data}@${e.lastEventId}`) }, { engine });
  parser.feed(new TextEncoder().encode("id: 7\nevent: tick\ndata: a\ndata: é\n\ndata: b\n\n"));
  parser.end();
  return { engine: parser.engine, events };
}

test("the package's dist/parser.wasm, supplied as a module, runs the wasm engine", async () => {
  // The file the workerd entry imports: built beside dist/parser.js (tsup.config.ts).
  const module = new WebAssembly.Module(readFileSync(new URL("dist/parser.wasm", root)));
  const { useWasmModule, createParser } = await freshParser();
  useWasmModule(module);
  expect(parseAll(createParser, "wasm")).toEqual({ engine: "wasm", events: ["tick:a\né@7", "message:b@7"] });
});

test("a supplied module is the one instantiated: a module that is not the parser leaves the engine unavailable, with the reason", async () => {
  // The smallest valid module: it compiles, but exports none of the parser's functions.
  const empty = new WebAssembly.Module(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
  const { useWasmModule, createParser } = await freshParser();
  useWasmModule(empty);
  // "auto" falls back to the TypeScript engine with the same events.
  expect(parseAll(createParser, "auto")).toEqual({ engine: "js", events: ["tick:a\né@7", "message:b@7"] });
  expect(() => parseAll(createParser, "wasm")).toThrow(/engine "wasm" is not available: WebAssembly could not load the parser/);
});
