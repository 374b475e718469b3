// The WASM engine's SIMD build takes events of the usual shape (`id`, an optional `event`, one
// `data` line, a blank line, all LF-ended or all CRLF-ended, in an all-ASCII chunk) whole, one after another,
// with the record count, the size bound and the previous event type in locals
// (`shortEvents` in assembly/parser.ts). These streams are fed whole, so that every event
// after the first is taken that way, and are built to hit its shortcuts: ids tested for NUL
// with one 8-byte load (and longer ones byte by byte), types compared with the previous one
// in one load up to 8 bytes, and more events in a chunk than the record table holds.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { createParser } from "../../src/index.js";
import { wasmBuild } from "../../src/parser/wasm.js";
import { collect, cut, enc } from "../support/collect.js";
import { type Output, oracleParse } from "../support/oracle.js";

const agrees = (text: string, chunks: (b: Uint8Array) => Uint8Array[] = (b) => [b], max = Infinity) => {
  const bytes = enc.encode(text);
  expect(collect("wasm", chunks(bytes), { maxEventSize: max })).toEqual(oracleParse(bytes, { maxEventSize: max }));
};

// Types that share their first bytes, at and around the 8 bytes compared in one load.
const types = ["tick", "tock", "ticks", "t", "u", "abcdefg", "abcdefh", "tickerXY", "tickerXZ", "tickerXYZ", "tickerXYW"];

describe("usual events taken whole (WASM engine)", () => {
  test("runs on the SIMD build, the one with the shortcut", () => {
    expect(createParser({ onEvent() {} }, { engine: "wasm" }).engine).toBe("wasm");
    expect(wasmBuild()).toBe("simd");
  });

  test("a type that differs from the previous one only in its last byte is not the same type", () => {
    const stream = types
      .flatMap((t, i) => [t, t, types[(i + 1) % types.length]!])
      .map((t, i) => `id: ${i}\nevent: ${t}\ndata: ${i}\n\n`)
      .join("");
    agrees(`\n${stream}`);
    const events = collect("wasm", [enc.encode(`\n${stream}`)]).outputs;
    expect(events.map((e) => (e.kind === "event" ? e.type : ""))).toEqual(
      types.flatMap((t, i) => [t, t, types[(i + 1) % types.length]!]),
    );
  });

  test("an id with a NUL anywhere, short or long, is not taken as the last event ID", () => {
    let stream = "\n";
    for (let len = 1; len <= 20; len++) {
      for (let at = 0; at < len; at++) {
        const id = "1".repeat(at) + "\u0000" + "2".repeat(len - at - 1);
        stream += `id: ok${len}.${at}\ndata: a\n\nid: ${id}\ndata: b\n\n`;
      }
    }
    agrees(stream);
  });

  test("random usual events fed whole, with and without tight bounds: the oracle's events", () => {
    const id = fc.oneof(
      fc.stringMatching(/^[0-9a-z]{0,20}$/),
      fc.tuple(fc.stringMatching(/^[0-9]{0,12}$/), fc.nat()).map(([s, at]) => {
        const i = at % (s.length + 1);
        return s.slice(0, i) + "\u0000" + s.slice(i);
      }),
    );
    // Line ends: all LF, all CRLF, or (now and then) one of the four lines ended otherwise.
    const ends = fc.oneof(
      { weight: 4, arbitrary: fc.constant(["\n", "\n", "\n", "\n"]) },
      { weight: 4, arbitrary: fc.constant(["\r\n", "\r\n", "\r\n", "\r\n"]) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.constantFrom("\n", "\r\n"), fc.nat(3), fc.constantFrom("\n", "\r\n", "\r"))
          .map(([all, at, other]) => Object.assign([all, all, all, all], { [at]: other })),
      },
    );
    const event = fc
      .tuple(id, fc.oneof(fc.constant(undefined), fc.constantFrom(...types)), fc.stringMatching(/^[ -~]{0,30}$/), ends)
      .map(
        ([i, t, d, [a, b, c, e]]) => `id: ${i}${a}${t === undefined ? "" : `event: ${t}${b}`}data: ${d}${c}${e}`,
      );
    fc.assert(
      fc.property(
        fc.array(event, { minLength: 1, maxLength: 40 }),
        fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 70 }), fc.constant(65535), fc.constant(65536)),
        fc.constantFrom("\n", "\r\n", "\r"),
        (events, max, first) => agrees(`${first}${events.join("")}`, undefined, max),
      ),
      { numRuns: 1500 },
    );
  });

  test.each([["LF", "\n"], ["CRLF", "\r\n"]])(
    "more events in one chunk than the record table holds, %s: every one, in order",
    (_name, eol) => {
      // 15-byte events: a 64 KiB chunk holds about 4,400 of them, seven record words each, in
      // a table of 8,192 words, so `feed` pauses and resumes in the middle of the run.
      let stream = eol;
      for (let i = 0; stream.length < 65536 - 24; i++) stream += `id: ${i % 10}${eol}data: ${i % 7}${eol}${eol}`;
      agrees(stream);
      agrees(stream.repeat(3), (b) => cut(b, [65536, 131072]));
    },
  );

  test("comments (not wanted) and blank lines between events, LF or CRLF: the oracle's events", () => {
    // Without onComment, comment lines are stepped over in the run: `collect` always wants them.
    const quiet = (bytes: Uint8Array, max: number) => {
      const outputs: Output[] = [];
      const parser = createParser(
        {
          onEvent: (e) => outputs.push({ kind: "event", type: e.type, data: e.data, lastEventId: e.lastEventId }),
          onRetry: (ms) => outputs.push({ kind: "retry", ms }),
          onError: (err) => outputs.push({ kind: "error", code: err.code }),
        },
        { engine: "wasm", maxEventSize: max },
      );
      parser.feed(bytes);
      parser.end();
      return { outputs, lastEventId: parser.lastEventId };
    };
    const block = fc.oneof(
      fc
        .tuple(fc.stringMatching(/^[ -~]{0,40}$/), fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, fc.constantFrom("\n", "\r\n", "\r")))
        .map(([c, end]) => ({ comment: c, end })),
      fc.constant({ blank: true }),
      fc.tuple(fc.stringMatching(/^[0-9]{0,9}$/), fc.constantFrom(undefined, "tick"), fc.stringMatching(/^[ -~]{0,20}$/)),
    );
    fc.assert(
      fc.property(
        fc.array(block, { minLength: 1, maxLength: 50 }),
        fc.constantFrom("\n", "\r\n"),
        fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 50 })),
        (blocks, eol, max) => {
          const text =
            eol +
            blocks
              .map((b) =>
                "comment" in b
                  ? `:${b.comment}${b.end ?? eol}`
                  : "blank" in b
                    ? eol
                    : `id: ${b[0]}${eol}${b[1] === undefined ? "" : `event: ${b[1]}${eol}`}data: ${b[2]}${eol}${eol}`,
              )
              .join("");
          const bytes = enc.encode(text);
          const expected = oracleParse(bytes, { maxEventSize: max });
          expect(quiet(bytes, max)).toEqual({
            outputs: expected.outputs.filter((o) => o.kind !== "comment"),
            lastEventId: expected.lastEventId,
          });
          // And when comments are wanted, they are all there.
          expect(collect("wasm", [bytes], { maxEventSize: max })).toEqual(expected);
        },
      ),
      { numRuns: 1500 },
    );
  });

  test("CRLF events cut at every byte of the one that spans two chunks", () => {
    const event = (i: number) => `id: ${1000 + i}\r\nevent: tick\r\ndata: {"n":${i}}\r\n\r\n`;
    const stream = `\r\n${Array.from({ length: 6 }, (_, i) => event(i)).join("")}`;
    const from = event(0).length * 2;
    for (let at = from; at <= from + event(2).length + 2; at++) agrees(stream, (b) => cut(b, [at]));
  });
});
