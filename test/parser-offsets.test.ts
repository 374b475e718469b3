// The TS engine reads a small chunk four bytes at a time where the chunk's place in its
// ArrayBuffer allows (src/parser/lines.ts, survey): chunks are fed here as views at every
// alignment inside larger buffers whose other bytes are line ends and non-ASCII bytes, so
// that a word read past either end of the chunk, a missed line end inside a word or a
// non-ASCII byte taken for ASCII changes the events. Judged by the oracle and the WASM engine.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { createParser } from "../src/parser/index.js";
import type { EngineName } from "../src/parser/types.js";
import { randomBytes, sseStream, utf8TextStream } from "./arbitraries.js";
import type { OracleResult, Output } from "./oracle.js";
import { oracleParse } from "./oracle.js";

// Chunk sizes around the word-reading threshold and up to the small-chunk limit.
const chunkSizes = fc.array(fc.oneof(fc.integer({ min: 1, max: 24 }), fc.integer({ min: 25, max: 300 })), {
  minLength: 1,
  maxLength: 8,
});

// What the buffer holds around each chunk.
const filler = fc.constantFrom(0x0a, 0x0d, 0x80, 0xe3, 0x41);

/** Feeds `bytes` in chunks of the given sizes (cycled), each a view at offset `shift` + its place. */
function feedAtOffsets(
  engine: EngineName,
  bytes: Uint8Array,
  sizes: number[],
  shifts: number[],
  fill: number,
  max: number,
): OracleResult {
  const outputs: Output[] = [];
  const parser = createParser(
    {
      onEvent: (e) => outputs.push({ kind: "event", type: e.type, data: e.data, lastEventId: e.lastEventId }),
      onRetry: (ms) => outputs.push({ kind: "retry", ms }),
      onComment: (text) => outputs.push({ kind: "comment", text }),
      onError: (err) => outputs.push({ kind: "error", code: err.code }),
    },
    { engine, maxEventSize: max },
  );
  let at = 0;
  for (let k = 0; at < bytes.length; k++) {
    const size = Math.min(sizes[k % sizes.length]!, bytes.length - at);
    const shift = shifts[k % shifts.length]!;
    const buffer = new Uint8Array(shift + size + 8).fill(fill);
    buffer.set(bytes.subarray(at, at + size), shift);
    parser.feed(buffer.subarray(shift, shift + size));
    at += size;
  }
  parser.end();
  return { outputs, lastEventId: parser.lastEventId };
}

const streams = fc.oneof(sseStream, utf8TextStream, randomBytes, utf8TextStream.map((b) => Uint8Array.from([...b, ...b, ...b])));
const shiftsArb = fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 5 });
const bound = fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 80 }));

describe("engine js, chunks at every alignment in their buffers", () => {
  test("the oracle's events", () => {
    fc.assert(
      fc.property(streams, chunkSizes, shiftsArb, filler, bound, (bytes, sizes, shifts, fill, max) => {
        expect(feedAtOffsets("js", bytes, sizes, shifts, fill, max)).toEqual(oracleParse(bytes, { maxEventSize: max }));
      }),
      { numRuns: 3000 },
    );
  });

  test("the WASM engine's events, fed alike", () => {
    fc.assert(
      fc.property(streams, chunkSizes, shiftsArb, filler, bound, (bytes, sizes, shifts, fill, max) => {
        expect(feedAtOffsets("js", bytes, sizes, shifts, fill, max)).toEqual(
          feedAtOffsets("wasm", bytes, sizes, shifts, fill, max),
        );
      }),
      { numRuns: 1000 },
    );
  });
});
