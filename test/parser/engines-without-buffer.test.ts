// Both engines outside Node (parser/decode.ts's web fallbacks, end to end): without node:buffer and the Buffer global they must fall back to
// web-standard decoding (TextDecoder) and give exactly the same events. Simulated by hiding
// getBuiltinModule and Buffer while the parser's modules are loaded afresh (both are read once,
// at load).
import fc from "fast-check";
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { cut, enc } from "../support/collect.js";
import { oracleParse, type Output } from "../support/oracle.js";
import { specCases } from "../support/spec-cases.js";
import { cutPoints, maxEventSize, sseStream, utf8TextStream, withBoundNearSize } from "../support/arbitraries.js";

type ParserModule = typeof import("../../src/parser/index.js");
let mod: ParserModule;
const saved = process.getBuiltinModule;
const savedBuffer = globalThis.Buffer;

beforeAll(async () => {
  (process as { getBuiltinModule?: unknown }).getBuiltinModule = undefined;
  vi.resetModules();
  (globalThis as { Buffer?: unknown }).Buffer = undefined;
  try {
    mod = await import("../../src/parser/index.js");
  } finally {
    globalThis.Buffer = savedBuffer;
  }
});
afterAll(() => {
  process.getBuiltinModule = saved;
  vi.resetModules();
});

function run(
  chunks: Uint8Array[],
  options: { maxEventSize?: number; lastEventId?: string } = {},
  engine: "js" | "wasm" = "js",
) {
  const outputs: Output[] = [];
  const parser = mod.createParser(
    {
      onEvent: (e) => outputs.push({ kind: "event", ...e }),
      onRetry: (ms) => outputs.push({ kind: "retry", ms }),
      onComment: (text) => outputs.push({ kind: "comment", text }),
      onError: (err) => outputs.push({ kind: "error", code: err.code }),
    },
    { engine, ...options },
  );
  for (const c of chunks) parser.feed(c);
  parser.end();
  return { outputs, lastEventId: parser.lastEventId };
}

const engines = ["js", "wasm"] as const;
const cases = engines.flatMap((engine) => specCases.map((c) => [engine, c.name, c] as const));
test.each(cases)("without node:buffer, %s engine: %s", (engine, _n, c) => {
  const bytes = typeof c.input === "string" ? enc.encode(c.input) : Uint8Array.from(c.input);
  expect(run([bytes], c.options, engine).outputs).toEqual(c.expected);
});

test.each(engines)("without node:buffer, %s engine: non-ASCII text in every chunking", (engine) => {
  fc.assert(
    fc.property(utf8TextStream, cutPoints, (bytes, points) => {
      expect(run(cut(bytes, points), {}, engine)).toEqual(oracleParse(bytes));
    }),
    { numRuns: 500 },
  );
});

test("without node:buffer: SSE-shaped streams, random chunks, long ASCII runs", () => {
  const longRuns = sseStream.map((b) => {
    // Values over 64 bytes take the other ASCII check; make some.
    const pad = enc.encode(`data: ${"p".repeat(100)}\n\n`);
    const out = new Uint8Array(b.length + pad.length);
    out.set(pad);
    out.set(b, pad.length);
    return out;
  });
  fc.assert(
    fc.property(longRuns, cutPoints, maxEventSize, (bytes, points, max) => {
      expect(run(cut(bytes, points), { maxEventSize: max })).toEqual(
        oracleParse(bytes, { maxEventSize: max }),
      );
    }),
    { numRuns: 1000 },
  );
});

test("without node:buffer: valid UTF-8 text, bounds near the stream's size", () => {
  fc.assert(
    fc.property(
      withBoundNearSize(utf8TextStream),
      ([bytes, points, max]) => {
        expect(run(cut(bytes, points), { maxEventSize: max })).toEqual(
          oracleParse(bytes, { maxEventSize: max }),
        );
      },
    ),
    { numRuns: 1500 },
  );
});
