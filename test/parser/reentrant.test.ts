// Chunks fed from inside callbacks (docs/PARSER.md, "Re-entrant feeds"): a chunk fed to a
// parser while it is dispatching is parsed after the chunk being dispatched, as if appended
// to it, so every parser gives exactly the events of its whole stream, whatever the
// interleaving. Both engines, against the oracle and against each other.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { createParser } from "../../src/parser/index.js";
import type { EngineName, EventStreamParser } from "../../src/parser/types.js";
import { maxEventSize, sseStream, usualEvents } from "../support/arbitraries.js";
import { cut } from "../support/collect.js";
import { oracleParse, type Output } from "../support/oracle.js";

const ENGINES = ["js", "wasm"] as const;
const enc = new TextEncoder();

// What an onEvent callback does after recording its event: nothing (NONE), take the next
// step of the plan (PULL: any parser's next chunk, its own included), or feed the next chunk
// of parser i + a - OWN for an action a >= OWN (its own, or a neighbour's: chains of
// callbacks between neighbours lead back to parsers still dispatching up the stack).
const NONE = 0;
const PULL = 1;
const OWN = 2;

interface Plan {
  streams: Uint8Array[];
  cuts: Array<[number, number[]]>; // per parser: a chunk size, and more cut points
  bounds: number[];
  actions: number[][]; // per parser, used in turn, one per event
  shuffle: number; // seeds the order of the plan's steps (each the parser fed next)
}

// Every parser's chunks, interleaved at random (a parser index per chunk, each parser's in
// its own order): a Fisher-Yates shuffle driven by a small PRNG (mulberry32).
function interleaving(counts: number[], seed: number): number[] {
  const order = counts.flatMap((k, i) => new Array<number>(k).fill(i));
  let a = seed | 0;
  const random = (): number => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  for (let j = order.length - 1; j > 0; j--) {
    const k = Math.floor(random() * (j + 1));
    [order[j], order[k]] = [order[k]!, order[j]!];
  }
  return order;
}

interface Run {
  outputs: Output[][];
  lastEventIds: string[];
}

function run(engine: EngineName, plan: Plan): Run {
  const n = plan.streams.length;
  const chunks = plan.streams.map((s, i) => {
    const [size, points] = plan.cuts[i]!;
    return cut(s, [...points, ...Array.from({ length: Math.ceil(s.length / size) }, (_, k) => k * size)]);
  });
  const cursor = new Array<number>(n).fill(0);
  const events = new Array<number>(n).fill(0);
  const outputs: Output[][] = plan.streams.map(() => []);
  const parsers: EventStreamParser[] = [];
  const order = interleaving(chunks.map((c) => c.length), plan.shuffle);
  let step = 0;
  const feedNext = (i: number): boolean => {
    if (cursor[i]! >= chunks[i]!.length) return false;
    // A copy, overwritten once feed() returns: a queued chunk must not be the caller's buffer.
    const copy = chunks[i]![cursor[i]!++]!.slice();
    parsers[i]!.feed(copy);
    copy.fill(0x41);
    return true;
  };
  const pull = (): void => {
    while (step < order.length) if (feedNext(order[step++]!)) return;
  };
  for (let i = 0; i < n; i++) {
    const actions = plan.actions[i]!;
    parsers.push(
      createParser(
        {
          onEvent: (e) => {
            outputs[i]!.push({ kind: "event", type: e.type, data: e.data, lastEventId: e.lastEventId });
            const action = actions.length === 0 ? NONE : actions[events[i]++ % actions.length];
            if (action === PULL) pull();
            else if (action >= OWN) feedNext((i + action - OWN) % n);
          },
          onRetry: (ms) => outputs[i]!.push({ kind: "retry", ms }),
          onComment: (text) => outputs[i]!.push({ kind: "comment", text }),
          onError: (err) => outputs[i]!.push({ kind: "error", code: err.code }),
        },
        { engine, maxEventSize: plan.bounds[i]! },
      ),
    );
  }
  while (step < order.length) pull();
  for (let i = 0; i < n; i++) while (feedNext(i));
  for (const p of parsers) p.end();
  return { outputs, lastEventIds: parsers.map((p) => p.lastEventId) };
}

// Each parser's outputs and last event ID, as the oracle has them for its whole stream and
// as the other engine has them.
function check(plan: Plan): void {
  const js = run("js", plan);
  const wasm = run("wasm", plan);
  plan.streams.forEach((stream, i) => {
    const expected = oracleParse(stream, { maxEventSize: plan.bounds[i]! });
    expect({ parser: i, outputs: js.outputs[i], lastEventId: js.lastEventIds[i] }).toEqual({
      parser: i,
      outputs: expected.outputs,
      lastEventId: expected.lastEventId,
    });
    expect({ parser: i, outputs: wasm.outputs[i], lastEventId: wasm.lastEventIds[i] }).toEqual({
      parser: i,
      outputs: expected.outputs,
      lastEventId: expected.lastEventId,
    });
  });
}

// Events with long data (past the engines' small-chunk loops, and the WASM engine's short
// event paths), ASCII or not.
const longEvent = fc
  .tuple(
    fc.constantFrom("x", "é", "価", "😀", "ab\u00ff"),
    fc.integer({ min: 100, max: 3000 }),
    fc.stringMatching(/^[0-9]{0,4}$/),
    fc.constantFrom("\n", "\r", "\r\n"),
  )
  .map(([unit, times, id, eol]) => enc.encode(`id: ${id}${eol}data: ${unit.repeat(times)}${eol}${eol}`));

const stream = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: sseStream },
      { weight: 2, arbitrary: usualEvents },
      { weight: 1, arbitrary: longEvent },
    ),
    { minLength: 2, maxLength: 10 },
  )
  .map((parts) => {
    const all = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return all;
  });

function plans(parsers: fc.Arbitrary<number>, actions: fc.Arbitrary<number>): fc.Arbitrary<Plan> {
  return parsers.chain((n) =>
    fc.record({
      streams: fc.array(stream, { minLength: n, maxLength: n }),
      cuts: fc.array(
        fc.tuple(
          fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 17, max: 300 }), fc.integer({ min: 301, max: 8000 })),
          fc.array(fc.nat({ max: 3000 }), { maxLength: 8 }),
        ),
        { minLength: n, maxLength: n },
      ),
      bounds: fc.array(
        fc.oneof({ weight: 4, arbitrary: fc.constant(16 * 1024 * 1024) }, { weight: 1, arbitrary: maxEventSize }),
        { minLength: n, maxLength: n },
      ),
      actions: fc.array(fc.array(actions, { maxLength: 4 }), { minLength: n, maxLength: n }),
      shuffle: fc.integer(),
    }),
  );
}

// Seeded from REENTRANT_SEED when given (to replay a failure), else at random; fast-check
// prints the seed and the path of any counterexample. Forty parsers' plans are not shrunk
// (that takes minutes): the few-parser property below shrinks to a small case.
const seed = process.env.REENTRANT_SEED === undefined ? Date.now() ^ (Math.random() * 2 ** 31) : Number(process.env.REENTRANT_SEED);

describe("re-entrant feeds: every parser gives the events of its whole stream (js = wasm = oracle)", () => {
  test("forty parsers, callbacks feeding their own parser and others (cycles included)", () => {
    fc.assert(
      fc.property(plans(fc.constant(40), fc.constantFrom(NONE, PULL, OWN, OWN + 1, OWN + 39)), check),
      { seed, numRuns: 6, endOnFailure: true },
    );
  });

  test("forty parsers, callbacks feeding only other parsers", () => {
    fc.assert(fc.property(plans(fc.constant(40), fc.constantFrom(NONE, OWN + 1, OWN + 39)), check), { seed, numRuns: 6, endOnFailure: true });
  });

  test("a few parsers, shrinking to the smallest interleaving that fails", () => {
    fc.assert(
      fc.property(plans(fc.integer({ min: 1, max: 4 }), fc.integer({ min: NONE, max: OWN + 3 })), check),
      { seed, numRuns: 150 },
    );
  });
});

// A callback that throws ends the stream, as end() does: the rest of the chunk is dropped (its
// lines, its unfinished line, the event it had begun), and the next chunk starts a new stream
// with the last event ID of the event that threw. No oracle has this; the engines must agree.
// `acts`: what the n-th callback (of any kind, counted from 1) does after recording its call;
// `onError`, what every onError call does besides (an error most often comes mid-line).
type Act = "end" | "reset" | "throw";
function ending(engine: EngineName, chunks: Uint8Array[], acts: Map<number, Act>, bound: number, onError?: Act): unknown[] {
  const log: unknown[] = [];
  let calls = 0;
  const act = (...entry: unknown[]): void => {
    log.push(entry);
    const what = acts.get(++calls) ?? (entry[0] === "error" ? onError : undefined);
    if (what === "end") parser.end();
    else if (what === "reset") parser.reset();
    else if (what === "throw") throw new Error("callback failed");
  };
  const parser = createParser(
    {
      onEvent: (e) => act(e.type, e.data, e.lastEventId),
      onRetry: (ms) => act("retry", ms),
      onComment: (text) => act("comment", text),
      onError: (err) => act("error", err.code),
    },
    { engine, maxEventSize: bound },
  );
  for (const chunk of chunks) {
    try {
      parser.feed(chunk);
    } catch {
      log.push(["thrown", parser.lastEventId]);
    }
  }
  parser.end();
  log.push(["end", parser.lastEventId]);
  return log;
}

describe("callbacks that throw or end the stream mid-chunk (js = wasm)", () => {
  test("the rest of the chunk is dropped alike, whatever the stream, chunking and bound", () => {
    // Any callback (event, retry, comment, error) may throw, end() or reset().
    fc.assert(
      fc.property(
        fc.oneof(sseStream, usualEvents),
        fc.array(fc.nat({ max: 600 }), { maxLength: 12 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 16 }), fc.constantFrom<Act>("end", "reset", "throw")), { maxLength: 4 }),
        maxEventSize,
        fc.option(fc.constantFrom<Act>("end", "reset", "throw"), { nil: undefined }),
        (stream, points, acts, bound, onError) => {
          const chunks = cut(stream, points);
          const at = new Map(acts);
          expect(ending("wasm", chunks, at, bound, onError)).toEqual(ending("js", chunks, at, bound, onError));
        },
      ),
      { seed, numRuns: 2500 },
    );
  });

  test("onError ending the stream over a line too large: the next chunk's first line is read (ASCII and not)", () => {
    for (const start of ["data: abcdefghij", "data: \u00e9\u20acabcdefgh"]) {
      const chunks = [enc.encode(start), enc.encode("data:x\n\n")];
      for (const engine of ENGINES) {
        for (const how of ["end", "reset"] as const) {
          expect(ending(engine, chunks, new Map([[1, how]]), 8), `${engine} ${how} ${start}`).toEqual([
            ["error", "EVENT_TOO_LARGE"],
            ["message", "x", ""],
            ["end", ""],
          ]);
        }
      }
    }
  });

  // The first callback throws.
  test.each([
    {
      what: "data and an unfinished line after the event that threw are not kept (non-ASCII text)",
      chunks: ["id: 1\ndata:é\n\ndata:b\nda", "ta:c\n\ndata:d\n\n"],
      log: [["message", "é", "1"], ["thrown", "1"], ["message", "d", "1"], ["end", "1"]],
    },
    {
      what: "the next chunk starts a new stream: a leading BOM is stripped",
      chunks: ["data:a\n\ndata:b\n\n", "\ufeffdata:c\n\n"],
      log: [["message", "a", ""], ["thrown", ""], ["message", "c", ""], ["end", ""]],
    },
  ])("$what", ({ chunks, log }) => {
    for (const engine of ENGINES) {
      expect(ending(engine, chunks.map((c) => enc.encode(c)), new Map([[1, "throw"]]), Infinity), engine).toEqual(log);
    }
  });
});

describe.each(ENGINES)("re-entrant feeds, %s engine", (engine) => {
  test("a callback feeding its own parser mid-chunk: parsed after the chunk, as if appended", () => {
    const seen: string[] = [];
    const parser = createParser(
      {
        onEvent: (e) => {
          seen.push(`${e.data}@${e.lastEventId}`);
          // The line that the outer chunk leaves unfinished ("data: fo") is finished by it.
          if (e.data === "1") parser.feed(enc.encode("ur\n\n"));
        },
      },
      { engine },
    );
    parser.feed(enc.encode("id: a\ndata: 1\n\ndata: 2\n\ndata: fo"));
    expect(seen).toEqual(["1@a", "2@a", "four@a"]);
  });

  test("a chunk fed from a callback waits for the rest of the chunk, then chunks in feed order", () => {
    const seen: string[] = [];
    const parser = createParser(
      {
        onEvent: (e) => {
          seen.push(e.data);
          if (e.data === "1") {
            parser.feed("da");
            parser.feed("ta: 3\r");
          }
          if (e.data === "3") parser.feed("\ndata: 4\n\n");
        },
      },
      { engine },
    );
    // "data: 3\r" ends the queued chunks: the LF that starts the next feed completes its CRLF.
    parser.feed("data: 1\n\ndata: 2\n\n");
    parser.feed("\n\n");
    expect(seen).toEqual(["1", "2", "3", "4"]);
  });

  test("A's callback feeds B, whose callback feeds A while A is still dispatching", () => {
    const seen: string[] = [];
    const a: EventStreamParser = createParser(
      {
        onEvent: (e) => {
          seen.push(`a ${e.data}`);
          if (e.data === "1") b.feed("data: b1\n\n");
        },
      },
      { engine },
    );
    const b: EventStreamParser = createParser(
      {
        onEvent: (e) => {
          seen.push(`b ${e.data}`);
          // Ends the line that A's current chunk leaves unfinished, as its next line.
          a.feed("\ndata: x\n\n");
        },
      },
      { engine },
    );
    a.feed("data: 1\n\ndata: 2\n\ndata: 3");
    expect(seen).toEqual(["a 1", "b b1", "a 2", "a 3\nx"]);
  });

  test("end() from a callback drops the rest of the chunk and what was fed before it; later feeds start a new stream", () => {
    const seen: string[] = [];
    const parser = createParser(
      {
        onEvent: (e) => {
          seen.push(e.data);
          if (e.data === "1") {
            parser.feed("data: dropped\n\n");
            parser.end();
            parser.feed("\ufeffdata: new\n\n");
          }
        },
      },
      { engine },
    );
    parser.feed("data: 1\n\ndata: 2\n\n");
    parser.feed("data: 3\n\n");
    expect(seen).toEqual(["1", "new", "3"]);
  });

  test("after a callback throws, the chunks it fed are not parsed, and the parser takes chunks again", () => {
    const seen: string[] = [];
    const parser = createParser(
      {
        onEvent: (e) => {
          seen.push(e.data);
          if (e.data === "1") {
            parser.feed("data: lost\n\n");
            throw new Error("listener failed");
          }
        },
      },
      { engine },
    );
    expect(() => parser.feed("data: 1\n\n")).toThrow("listener failed");
    parser.feed("data: 2\n\n");
    parser.feed("data: 3\n\n");
    expect(seen).toEqual(["1", "2", "3"]);
  });
});
