// The TS engine reads chunks four bytes at a time where the chunk's place in its ArrayBuffer
// allows (src/parser/lines.ts: survey for small chunks, the first and last line ends of large
// ones). Chunks are fed here as views at every alignment inside larger buffers whose other
// bytes are line ends and non-ASCII bytes, so that a word read past either end of the chunk,
// a missed line end inside a word or a non-ASCII byte taken for ASCII changes the events.
// Judged by the oracle and the WASM engine.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { createParser } from "../../src/parser/index.js";
import { SMALL_CHUNK, survey, surveyAscii, surveyFirst, surveyLast } from "../../src/parser/lines.js";
import type { EngineName } from "../../src/parser/types.js";
import { randomBytes, sseStream, utf8TextStream } from "../support/arbitraries.js";
import { recording } from "../support/collect.js";
import type { OracleResult, Output } from "../support/oracle.js";
import { oracleParse } from "../support/oracle.js";

// Chunk sizes around the word-reading threshold and up to the small-chunk limit.
const chunkSizes = fc.array(fc.oneof(fc.integer({ min: 1, max: 24 }), fc.integer({ min: 25, max: 300 }), fc.integer({ min: 257, max: 1500 })), {
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
  const parser = createParser(recording(outputs), { engine, maxEventSize: max });
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

// Lines long enough that large chunks are searched word by word from either end for their
// first and last line ends (src/parser/lines.ts, firstLineEnd and lastLineEnd).
const longLines = fc
  .array(
    fc.tuple(
      fc.constantFrom("data: ", "data:", "event: ", "id: ", ": ", ""),
      fc.integer({ min: 0, max: 120 }),
      fc.constantFrom("x", "é", "価", "😀", "\ufffd"),
      fc.constantFrom([], [0xe3, 0x81], [0xff], [0xc3]),
      fc.constantFrom("\n", "\r\n", "\r", "\n\n", ""),
    ),
    { maxLength: 12 },
  )
  .map((lines) =>
    Uint8Array.from(
      lines.flatMap(([field, repeat, unit, odd, end]) => [
        ...new TextEncoder().encode(field + unit.repeat(repeat)),
        ...odd,
        ...new TextEncoder().encode(unit.repeat(repeat % 7) + end),
      ]),
    ),
  );

const streams = fc.oneof(
  sseStream,
  utf8TextStream,
  randomBytes,
  utf8TextStream.map((b) => Uint8Array.from([...b, ...b, ...b])),
  longLines,
);
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

describe("engine js, one line end at every place in a chunk, at every alignment", () => {
  // Exhaustive where the property above is thin: a large or small chunk with a single line
  // end, so that it is both the first and the last, in any word or in the bytes either side.
  test.each([40, 300])("%i-byte chunks", (size) => {
    for (const unit of ["x", "価"]) {
      const line = new TextEncoder().encode(`data:${unit.repeat(size)}`).subarray(0, size);
      for (let at = 0; at < size; at++) {
        for (const end of [0x0a, 0x0d]) {
          const bytes = line.slice();
          bytes[at] = end;
          // Twice, so that the first chunk's unfinished line is ended by the second.
          const stream = Uint8Array.from([...bytes, ...bytes, 0x0a, 0x0a]);
          const expected = oracleParse(stream, { maxEventSize: Infinity });
          for (let shift = 0; shift < 4; shift++) {
            expect(feedAtOffsets("js", stream, [size, size, 2], [shift], 0x0a, Infinity)).toEqual(expected);
          }
        }
      }
    }
  });
});

describe("survey() of small chunks, one after another", () => {
  // survey() reads words from a scratch copy that outlives each call: bytes of an earlier,
  // longer chunk past this one's end, and this chunk's bytes before `from`, are not its own.
  test("the first and last line ends in bytes[from, n) and whether they are ASCII", () => {
    const chunk = fc
      .array(fc.constantFrom(0x0a, 0x0d, 0x41, 0x80, 0xe3), { maxLength: SMALL_CHUNK })
      .chain((bytes) => fc.tuple(fc.constant(Uint8Array.from(bytes)), fc.integer({ min: 0, max: bytes.length })));
    fc.assert(
      fc.property(fc.array(chunk, { minLength: 1, maxLength: 6 }), (chunks) => {
        for (const [bytes, from] of chunks) {
          const ends = [...bytes.keys()].filter((i) => i >= from && (bytes[i] === 0x0a || bytes[i] === 0x0d));
          survey(bytes, from);
          expect([surveyFirst, surveyLast, surveyAscii]).toEqual([
            ends[0] ?? bytes.length,
            ends.at(-1) ?? -1,
            bytes.subarray(from).every((b) => b < 0x80),
          ]);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
