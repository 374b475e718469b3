import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { createParser, DEFAULT_MAX_EVENT_SIZE, ParseError } from "../../src/index.js";
import { collect, cut, enc, everyByte, runnableEngines } from "../support/collect.js";
import { oracleParse } from "../support/oracle.js";
import { specCases } from "../support/spec-cases.js";
import { cutPoints, maxEventSize, randomBytes, sseStream, usualEvents, utf8TextStream, withBoundNearSize } from "../support/arbitraries.js";

// Every engine that this runtime can run (both on Node; the WASM engine's own tests check
// that it is the one chosen there): here each must simply give the same answers.
const engines = runnableEngines;

const toBytes = (input: string | number[]) =>
  typeof input === "string" ? enc.encode(input) : Uint8Array.from(input);

describe("the oracle", () => {
  test.each(specCases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const result = oracleParse(toBytes(c.input), c.options);
    expect(result.outputs).toEqual(c.expected);
    if (c.lastEventId !== undefined) expect(result.lastEventId).toBe(c.lastEventId);
  });
});

describe.each(engines)("engine %s", (engine) => {
  const agreesWithOracle = (bytes: Uint8Array, points: number[], max: number) => {
    const expected = oracleParse(bytes, { maxEventSize: max });
    expect(collect(engine, cut(bytes, points), { maxEventSize: max })).toEqual(expected);
  };
  const chunkings: Array<[string, (b: Uint8Array) => Uint8Array[]]> = [
    ["whole", (b) => [b]],
    ["one byte at a time", everyByte],
    ["in pairs", (b) => cut(b, Array.from({ length: b.length }, (_, i) => i * 2))],
    ["split before every LF", (b) => cut(b, [...b.keys()].filter((i) => b[i] === 0x0a))],
    ["split after every CR", (b) => cut(b, [...b.keys()].filter((i) => b[i - 1] === 0x0d))],
  ];
  describe.each(chunkings)("fed %s", (_how, chunk) => {
    test.each(specCases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
      const result = collect(engine, chunk(toBytes(c.input)), c.options);
      expect(result.outputs).toEqual(c.expected);
      if (c.lastEventId !== undefined) expect(result.lastEventId).toBe(c.lastEventId);
    });
  });

  test("SSE-shaped streams, random chunks: the oracle's events", () => {
    fc.assert(
      fc.property(sseStream, cutPoints, maxEventSize, agreesWithOracle),
      { numRuns: 3000 },
    );
  });

  test("random bytes, random chunks: the oracle's events", () => {
    fc.assert(
      fc.property(randomBytes, cutPoints, maxEventSize, agreesWithOracle),
      { numRuns: 2000 },
    );
  });

  test("valid UTF-8 text, bounds near the stream's own size: the oracle's events", () => {
    fc.assert(
      fc.property(
        withBoundNearSize(utf8TextStream),
        ([bytes, points, max]) => agreesWithOracle(bytes, points, max),
      ),
      { numRuns: 3000 },
    );
  });

  test("U+FFFD sent as such and bytes that decode to it, bounds near the stream's own size: the oracle's events", () => {
    // Text with U+FFFD whose chars count exactly its bytes takes the paths that count bytes by
    // chars. A bad byte counted as the 3 of a U+FFFD would put an event over a bound that it
    // is not over, once a later chunk adds to it.
    const pieces = [
      "data: \uFFFD\u6f22\n", "data: x\n", "id: \uFFFD\n", "event: \uFFFD\n", "\n", ": \uFFFD\n", "data: ", "\uFFFD", "\u00e9",
      [0xff], [0x80], [0xe6, 0x97], [0xf0, 0x90, 0x80], [0xef, 0xbf, 0xbd],
    ].map((p) => (typeof p === "string" ? enc.encode(p) : Uint8Array.from(p)));
    const streams = fc.array(fc.constantFrom(...pieces), { maxLength: 30 }).map((parts) => {
      const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      parts.reduce((at, p) => (bytes.set(p, at), at + p.length), 0);
      return bytes;
    });
    fc.assert(
      fc.property(streams, cutPoints, (bytes, points) => {
        // At each bound where the oracle's events change (an event just fits, or just does
        // not), and on either side of it: a count one byte off shows there.
        let last = JSON.stringify(oracleParse(bytes, { maxEventSize: 1 }));
        for (let max = 2; max <= bytes.length + 1; max++) {
          const now = JSON.stringify(oracleParse(bytes, { maxEventSize: max }));
          if (now === last) continue;
          last = now;
          agreesWithOracle(bytes, points, max - 1);
          agreesWithOracle(bytes, points, max);
        }
      }),
      { numRuns: 1000 },
    );
  });

  test("streams of the usual event shape, whole or cut, small bounds: the oracle's events", () => {
    fc.assert(
      fc.property(
        usualEvents,
        fc.oneof(fc.constant<number[]>([]), cutPoints),
        fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 60 })),
        agreesWithOracle,
      ),
      { numRuns: 3000 },
    );
  });

  test("one byte at a time gives what the whole stream gives", () => {
    fc.assert(
      fc.property(sseStream, (bytes) => {
        expect(collect(engine, everyByte(bytes))).toEqual(collect(engine, [bytes]));
      }),
      { numRuns: 500 },
    );
  });

  test("strings are fed as UTF-8", () => {
    const events: string[] = [];
    const parser = createParser({ onEvent: (e) => events.push(e.data) }, { engine });
    parser.feed("data: pr");
    parser.feed("ix 価格\n\n");
    expect(events).toEqual(["prix 価格"]);
  });

  test("lastEventId: an id-only block changes it, an unfinished one does not", () => {
    const parser = createParser({ onEvent() {} }, { engine, lastEventId: "a" });
    expect(parser.lastEventId).toBe("a");
    parser.feed("id: b\n\n");
    expect(parser.lastEventId).toBe("b");
    parser.feed("id: c\n");
    expect(parser.lastEventId).toBe("b");
    parser.end();
    expect(parser.lastEventId).toBe("b");
  });

  test("end() starts a new stream: BOM stripped again, id kept, unfinished event dropped", () => {
    const events: Array<[string, string]> = [];
    const parser = createParser({ onEvent: (e) => events.push([e.data, e.lastEventId]) }, { engine });
    parser.feed("\ufeffid: 1\ndata: a\n\ndata: lost");
    parser.end();
    parser.feed("\ufeffdata: b\n\n");
    expect(events).toEqual([["a", "1"], ["b", "1"]]);
  });

  test("end() forgets a CR that ended the previous stream", () => {
    const events: string[] = [];
    const parser = createParser({ onEvent: (e) => events.push(e.data) }, { engine });
    parser.feed("data: a\r");
    parser.end();
    // Had the CR been remembered, this LF would be swallowed as the second half of a CRLF
    // and the blank line would not dispatch.
    parser.feed("\ndata: b\n\n");
    expect(events).toEqual(["b"]);
  });

  test("reset() re-seeds the last event id and drops pending input", () => {
    const events: Array<[string, string]> = [];
    const parser = createParser({ onEvent: (e) => events.push([e.data, e.lastEventId]) }, { engine, lastEventId: "s" });
    parser.feed("id: 2\ndata: a\n\ndata: pending");
    parser.reset();
    expect(parser.lastEventId).toBe("s");
    parser.feed("\ndata: b\n\n");
    expect(events).toEqual([["a", "2"], ["b", "s"]]);
  });

  test("maxEventSize error is a typed ParseError; the next event still arrives", () => {
    const errors: unknown[] = [];
    const events: string[] = [];
    const parser = createParser(
      { onEvent: (e) => events.push(e.data), onError: (err) => errors.push(err) },
      { engine, maxEventSize: 100 },
    );
    parser.feed(`data: ${"x".repeat(60)}\n`);
    parser.feed(`data: ${"x".repeat(60)}\n\ndata: next\n\n`);
    expect(events).toEqual(["next"]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ParseError);
    expect(errors[0]).toMatchObject({ code: "EVENT_TOO_LARGE", maxEventSize: 100 });
  });

  test("a huge line over maxEventSize is dropped as it streams, never buffered whole", () => {
    const errors: unknown[] = [];
    const events: string[] = [];
    const parser = createParser(
      { onEvent: (e) => events.push(e.data), onError: (err) => errors.push(err) },
      { engine, maxEventSize: 1024 },
    );
    const block = enc.encode("x".repeat(64 * 1024));
    parser.feed("data: ");
    // 64 MiB of one line: kept, it would take 64 MiB (or far more as strings).
    const before = process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed;
    for (let i = 0; i < 1024; i++) parser.feed(block);
    const after = process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed;
    parser.feed("\n\ndata: ok\n\n");
    expect(errors).toHaveLength(1);
    expect(events).toEqual(["ok"]);
    expect(after - before).toBeLessThan(32 * 1024 * 1024);
  });

  test("a listener that calls end() stops the rest of the chunk", () => {
    const events: string[] = [];
    const parser = createParser(
      {
        onEvent: (e) => {
          events.push(e.data);
          parser.end();
        },
      },
      { engine },
    );
    parser.feed("data: 1\n\ndata: 2\n\n");
    expect(events).toEqual(["1"]);
  });

  test("a non-ASCII line held over small chunks, then ended in one too large to join them: the oracle's events", () => {
    // The TS engine keeps the unfinished line of a chunk up to 4 KiB as bytes, decoded with
    // the next chunk's; a next chunk that does not fit beside them is decoded after them.
    const line = "data: " + "\u00e9\u6f22\u{1f600} ".repeat(1200); // about 13 KB
    const bytes = enc.encode(`id: 1\n${line}\nevent: x\ndata: b\n\n${line}\n\n: c\n`);
    for (const step of [7, 64, 255, 1460]) {
      // Small chunks (cut inside code points) over the start of the first long line, then
      // the rest at once.
      const points = Array.from({ length: Math.ceil(3000 / step) }, (_, i) => (i + 1) * step);
      for (const max of [DEFAULT_MAX_EVENT_SIZE, 13_010, 2_000]) agreesWithOracle(bytes, points, max);
    }
  });

  test("the parser does not keep the caller's buffer", () => {
    const events: string[] = [];
    const parser = createParser({ onEvent: (e) => events.push(e.data) }, { engine });
    const chunk = enc.encode("data: abc");
    parser.feed(chunk);
    chunk.fill(0x7a);
    parser.feed("\n\n");
    expect(events).toEqual(["abc"]);
  });
});

describe("createParser options", () => {
  test("defaults", () => {
    const parser = createParser({ onEvent() {} });
    expect(["wasm", "js"]).toContain(parser.engine);
    expect(parser.lastEventId).toBe("");
    expect(DEFAULT_MAX_EVENT_SIZE).toBe(16 * 1024 * 1024);
  });
  test.each([
    ["engine", { engine: "fast" }, /engine must be/],
    ["maxEventSize 0", { maxEventSize: 0 }, /maxEventSize must be/],
    ["maxEventSize NaN", { maxEventSize: NaN }, /maxEventSize must be/],
    ["maxEventSize 1.5", { maxEventSize: 1.5 }, /maxEventSize must be/],
    ["lastEventId", { lastEventId: 5 }, /lastEventId must be/],
  ])("rejects a bad %s", (_name, options, message) => {
    expect(() => createParser({ onEvent() {} }, options as never)).toThrow(message);
  });
  test("rejects missing onEvent", () => {
    expect(() => createParser({} as never)).toThrow(/onEvent/);
  });
  test("maxEventSize Infinity is allowed", () => {
    expect(() => createParser({ onEvent() {} }, { maxEventSize: Infinity })).not.toThrow();
  });
});
