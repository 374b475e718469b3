// fast-check generators for the parser's property and differential tests: byte streams
// shaped like SSE (so that they reach every rule) and raw random bytes, plus chunkings.
import fc from "fast-check";

const enc = new TextEncoder();
const b = (s: string): number[] => Array.from(enc.encode(s));

const lineEnd = fc.constantFrom([0x0a], [0x0d], [0x0d, 0x0a]);

const valueByte = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...b("abcxyz019 :{}\",.")) },
  { weight: 1, arbitrary: fc.constantFrom(0x00, 0x20, 0x3a, 0x7f) },
  // Bytes of multi-byte characters and invalid sequences, also cut mid-character.
  { weight: 1, arbitrary: fc.constantFrom(0x80, 0xbf, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xff, 0xfe, 0xed, 0xa0, 0xef, 0xbb) },
);

const value = fc.oneof(
  { weight: 4, arbitrary: fc.array(valueByte, { maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 6 }).map(b) },
  { weight: 1, arbitrary: fc.constantFrom(b("é"), b("価格"), b("😀"), b("\ufeff"), b("123"), b("")) },
);

const fieldName = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom("data", "data", "data", "event", "id", "retry") },
  { weight: 1, arbitrary: fc.constantFrom("", "Data", "dat", "datas", "ids", "foo", "data ", "retry ") },
);

const separator = fc.constantFrom(":", ": ", ":  ", "");

const line = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fieldName, separator, value).map(([n, s, v]) => [...b(n), ...b(s), ...(s === "" ? [] : v)]) },
  { weight: 2, arbitrary: fc.constant<number[]>([]) }, // blank line: dispatch
  { weight: 1, arbitrary: value.map((v) => [0x3a, ...v]) }, // comment
  { weight: 1, arbitrary: fc.stringMatching(/^[0-9]{1,5}$/).map((d) => b(`retry: ${d}`)) },
);

/** SSE-shaped streams: lines of known and unknown fields with every kind of line end. */
export const sseStream = fc
  .tuple(
    fc.constantFrom<number[]>([], [], [], [0xef, 0xbb, 0xbf], [0xef, 0xbb]),
    fc.array(fc.tuple(line, lineEnd), { maxLength: 30 }),
    fc.oneof(fc.constant<number[]>([]), value), // an unfinished last line, sometimes
  )
  .map(([bom, lines, tail]) => Uint8Array.from([...bom, ...lines.flatMap(([l, e]) => [...l, ...e]), ...tail]));

/** Any bytes at all, biased toward the delimiters. */
export const randomBytes = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 255 }) },
      { weight: 2, arbitrary: fc.constantFrom(0x0a, 0x0d, 0x3a, 0x20, 0x64, 0x61, 0x74) },
    ),
    { maxLength: 200 },
  )
  .map((a) => Uint8Array.from(a));

/** Cut points for a stream: arbitrary offsets, to be applied with `cut`. */
export const cutPoints = fc.array(fc.nat({ max: 400 }), { maxLength: 12 });

/** A bound small enough to be hit by the generated streams, or none. */
export const maxEventSize = fc.oneof(
  { weight: 2, arbitrary: fc.constant(Infinity) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 40 }) },
);

/**
 * Streams of valid UTF-8 text lines (mostly `data`, multi-byte characters included), for the
 * engines' fast paths that depend on the input being valid UTF-8 and under the size bound.
 */
export const utf8TextStream = fc
  .array(
    fc.tuple(
      fc.constantFrom("data: ", "data:", "event: ", "id: ", ": ", ""),
      fc.string({ unit: "grapheme", maxLength: 8 }),
      fc.constantFrom("\n", "\r\n", "\r", "\n\n"),
    ),
    { maxLength: 40 },
  )
  .map((lines) => new TextEncoder().encode(lines.map(([f, v, e]) => f + v + e).join("")));

/**
 * Streams of the usual shape (`id`, an optional `event`, one `data` line, a blank line, all
 * LF-ended ASCII), with now and then a line that breaks the shape: the WASM engine takes such
 * events whole after a blank line and must fall back to line-by-line work exactly.
 */
export const usualEvents = fc
  .array(
    fc.tuple(
      fc.oneof(
        { weight: 8, arbitrary: fc.stringMatching(/^[0-9]{1,6}$/) },
        { weight: 1, arbitrary: fc.constantFrom("", "7\u00008", "a b") },
      ),
      fc.oneof(
        { weight: 3, arbitrary: fc.constant("tick") },
        { weight: 2, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.stringMatching(/^[a-z]{0,9}$/) },
      ),
      fc.stringMatching(/^[ -~]{0,40}$/),
      fc.oneof(
        { weight: 12, arbitrary: fc.constant("") },
        { weight: 1, arbitrary: fc.constantFrom(": ping\n", "\r\n", "data: more\n", "retry: 5\n", "id\n", "event:\n") },
      ),
      fc.constantFrom("\n", "\n", "\n", "\r\n"),
    ),
    { minLength: 1, maxLength: 60 },
  )
  .map((events) =>
    new TextEncoder().encode(
      events
        .map(([id, type, data, extra, end]) => `id: ${id}\n${type === undefined ? "" : `event: ${type}\n`}data: ${data}${end}${extra}\n`)
        .join(""),
    ),
  );

/**
 * A stream, cut points, and a size bound drawn up to the stream's own length: such a bound
 * lands near the byte counts of real events, where an off-by-one in byte accounting changes
 * whether and where EVENT_TOO_LARGE is reported.
 */
export function withBoundNearSize(
  streams: fc.Arbitrary<Uint8Array>,
): fc.Arbitrary<[Uint8Array, number[], number]> {
  return streams.chain((bytes) =>
    fc.tuple(fc.constant(bytes), cutPoints, fc.integer({ min: 1, max: Math.max(1, bytes.length) })),
  );
}
