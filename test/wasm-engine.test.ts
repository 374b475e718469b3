// The WASM engine against the oracle and the TypeScript engine, on the cases that are its
// own: one Instance shared by interleaved parsers, chunks wider than the input window,
// record tables that fill up, memory that grows, callbacks that re-enter, and runtimes
// without WebAssembly.
import fc from "fast-check";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";
import { WINDOW_SIZE } from "../assembly/abi.js";
import { createParser } from "../src/parser.js";
import { wasmUnavailableReason } from "../src/parser-wasm.js";
import { cutPoints, maxEventSize, randomBytes, sseStream } from "./arbitraries.js";
import { collect, cut, enc } from "./collect.js";
import { bundleSource } from "./fixtures/wasm-bundle.js";
import { oracleParse, type OracleResult, type Output } from "./oracle.js";

const root = fileURLToPath(new URL("..", import.meta.url));

test("WebAssembly works here, so the engine under test really is WASM", () => {
  expect(wasmUnavailableReason()).toBeUndefined();
  expect(createParser({ onEvent() {} }, { engine: "wasm" }).engine).toBe("wasm");
  expect(createParser({ onEvent() {} }).engine).toBe("wasm");
});

describe("differential: wasm = js = oracle", () => {
  const both = (bytes: Uint8Array, points: number[], max: number, lastEventId: string) => {
    const options = { maxEventSize: max, lastEventId };
    const expected = oracleParse(bytes, options);
    expect(collect("wasm", cut(bytes, points), options)).toEqual(expected);
    expect(collect("js", cut(bytes, points), options)).toEqual(expected);
  };
  const lastEventId = fc.constantFrom("", "seed", "é");

  test("SSE-shaped streams, random chunks, small maxEventSize", () => {
    fc.assert(fc.property(sseStream, cutPoints, maxEventSize, lastEventId, both), {
      numRuns: 4000,
    });
  });

  test("random bytes, random chunks", () => {
    fc.assert(fc.property(randomBytes, cutPoints, maxEventSize, lastEventId, both), {
      numRuns: 3000,
    });
  });

  test("without onComment, the same events and no comments", () => {
    fc.assert(
      fc.property(sseStream, cutPoints, (bytes, points) => {
        const seen: Output[] = [];
        const parser = createParser(
          {
            onEvent: (e) => seen.push({ kind: "event", ...e }),
            onRetry: (ms) => seen.push({ kind: "retry", ms }),
          },
          { engine: "wasm" },
        );
        for (const chunk of cut(bytes, points)) parser.feed(chunk);
        parser.end();
        expect(seen).toEqual(oracleParse(bytes).outputs.filter((o) => o.kind !== "comment"));
      }),
      { numRuns: 1000 },
    );
  });

  // Streams several windows long: chunks wider than the window are fed in slices, lines and
  // events span windows, a window of tiny lines fills the record table, events outgrow the
  // memory the Instance started with.
  const bigStream = fc
    .tuple(
      fc.array(
        fc.oneof(
          sseStream,
          fc.constantFrom(
            enc.encode(":\n".repeat(20_000)),
            enc.encode("id: 1\n\n".repeat(9_000)),
            enc.encode("data: x\n\n".repeat(8_000)),
            enc.encode(`data: ${"y".repeat(150_000)}\ndata: ${"é".repeat(40_000)}\n\n`),
            enc.encode(`event: ${"t".repeat(70_000)}\ndata: z\n\n`),
            enc.encode(`: ${"c".repeat(70_000)}\r\n`),
          ),
        ),
        { minLength: 1, maxLength: 6 },
      ),
      fc.array(fc.nat({ max: 400_000 }), { maxLength: 8 }),
      fc.oneof(
        fc.constant(Infinity),
        fc.constantFrom(1, 100, WINDOW_SIZE - 1, WINDOW_SIZE, 100_000, 200_000),
      ),
    )
    .map(([parts, points, max]) => {
      const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        bytes.set(p, at);
        at += p.length;
      }
      return { bytes, points, max };
    });

  test("streams of several windows, huge lines and events", () => {
    fc.assert(
      fc.property(bigStream, ({ bytes, points, max }) => both(bytes, points, max, "")),
      { numRuns: 40 },
    );
  });
});

describe("one Instance, many parsers", () => {
  const stream = fc.record({
    bytes: fc.oneof(sseStream, randomBytes),
    points: cutPoints,
    max: maxEventSize,
    lastEventId: fc.constantFrom("", "x"),
  });

  test("parsers fed in a random interleaving each get the oracle's result", () => {
    fc.assert(
      fc.property(
        fc.array(stream, { minLength: 2, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 200 }),
        (streams, picks) => {
          const runs = streams.map((s) => {
            const outputs: Output[] = [];
            const parser = createParser(
              {
                onEvent: (e) => outputs.push({ kind: "event", ...e }),
                onRetry: (ms) => outputs.push({ kind: "retry", ms }),
                onComment: (text) => outputs.push({ kind: "comment", text }),
                onError: (err) => outputs.push({ kind: "error", code: err.code }),
              },
              { engine: "wasm", maxEventSize: s.max, lastEventId: s.lastEventId },
            );
            return { parser, outputs, chunks: cut(s.bytes, s.points), next: 0 };
          });
          // Random order first, then whatever is left, round robin.
          const order = [...picks.map((p) => p % runs.length), ...runs.flatMap((_, i) => Array(20).fill(i))];
          for (const i of order) {
            const run = runs[i]!;
            if (run.next < run.chunks.length) run.parser.feed(run.chunks[run.next++]!.slice());
          }
          runs.forEach((run, i) => {
            while (run.next < run.chunks.length) run.parser.feed(run.chunks[run.next++]!);
            run.parser.end();
            const got: OracleResult = { outputs: run.outputs, lastEventId: run.parser.lastEventId };
            const s = streams[i]!;
            expect(got).toEqual(oracleParse(s.bytes, { maxEventSize: s.max, lastEventId: s.lastEventId }));
          });
        },
      ),
      { numRuns: 500 },
    );
  });

  test("a parser swapped out mid-event keeps a pending event larger than a window", () => {
    const events: string[][] = [[], []];
    const a = createParser({ onEvent: (e) => events[0]!.push(e.data) }, { engine: "wasm" });
    const b = createParser({ onEvent: (e) => events[1]!.push(e.data) }, { engine: "wasm" });
    const big = "q".repeat(3 * WINDOW_SIZE);
    a.feed(`data: ${big}\ndata: par`);
    b.feed("data: b1\n\ndata: b");
    a.feed("tial\n\n");
    b.feed("2\n\n");
    expect(events).toEqual([[`${big}\npartial`], ["b1", "b2"]]);
  });
});

describe("callbacks that re-enter", () => {
  test("feeding the same parser from a callback continues after the current chunk", () => {
    const seen: string[] = [];
    const parser = createParser(
      {
        onEvent: (e) => {
          seen.push(e.data);
          if (e.data === "1") parser.feed("data: 3\n\n");
        },
      },
      { engine: "wasm" },
    );
    parser.feed("data: 1\n\ndata: 2\n\n");
    expect(seen).toEqual(["1", "2", "3"]);
  });

  test("feeding another parser from a callback leaves the rest of this chunk intact", () => {
    const seen: string[] = [];
    const other = createParser({ onEvent: (e) => seen.push(`other ${e.data}`) }, { engine: "wasm" });
    const parser = createParser(
      {
        onEvent: (e) => {
          seen.push(e.data);
          other.feed(`data: after ${e.data}\n\ndata: pending`);
        },
      },
      { engine: "wasm" },
    );
    parser.feed("data: 1\n\ndata: 2\n\ndata: 3");
    parser.feed("\n\n");
    other.feed("!\n\n");
    expect(seen).toEqual([
      "1",
      "other after 1",
      "2",
      "other pendingdata: after 2",
      "3",
      "other pendingdata: after 3",
      "other pending!",
    ]);
  });

  test("reset() from a callback drops the rest of the chunk and re-seeds the id", () => {
    const seen: Array<[string, string]> = [];
    const parser = createParser(
      {
        onEvent: (e) => {
          seen.push([e.data, e.lastEventId]);
          parser.reset();
        },
      },
      { engine: "wasm", lastEventId: "s" },
    );
    parser.feed("id: 1\ndata: a\n\nid: 2\ndata: b\n\n");
    expect(parser.lastEventId).toBe("s");
    parser.feed("data: c\n\n");
    expect(seen).toEqual([["a", "1"], ["c", "s"]]);
  });
});

test("the committed .wasm is what assembly/ builds to", () => {
  execFileSync(process.execPath, ["scripts/build-wasm.mjs", "--check"], { cwd: root, stdio: "pipe" });
}, 60_000);

describe("without WebAssembly (child processes)", () => {
  let bundle: string;
  beforeAll(async () => {
    bundle = await bundleSource();
  }, 60_000);

  const program = (bundlePath: string, prelude: string) => `
${prelude}
const { createParser } = await import(${JSON.stringify(bundlePath)});
const enc = new TextEncoder();
const input = enc.encode("id: 7\\nevent: tick\\ndata: 1\\n\\n: c\\ndata: \\u00e9\\nretry: 5\\n\\ndata: x");
const run = (engine) => {
  const out = [];
  const p = createParser({
    onEvent: (e) => out.push([e.type, e.data, e.lastEventId]),
    onComment: (c) => out.push(["comment", c]),
    onRetry: (ms) => out.push(["retry", ms]),
  }, { engine });
  for (let i = 0; i < input.length; i += 5) p.feed(input.subarray(i, i + 5));
  p.end();
  return { engine: p.engine, out };
};
let wasmError = null;
try { createParser({ onEvent() {} }, { engine: "wasm" }); } catch (e) { wasmError = e.message; }
console.log(JSON.stringify({ auto: run("auto"), js: run("js"), wasmError }));
`;

  const expectedOut = [
    ["tick", "1", "7"],
    ["comment", "c"],
    ["retry", 5],
    ["message", "é", "7"],
  ];

  test.each([
    ["globalThis.WebAssembly deleted", [], {}, "delete globalThis.WebAssembly;", /not available in this runtime/],
    ["node --jitless", ["--jitless"], {}, "", /not available in this runtime/],
    ["EVENTSOURCE_NO_WASM=1", [], { EVENTSOURCE_NO_WASM: "1" }, "", /EVENTSOURCE_NO_WASM/],
  ] as const)("%s: auto falls back to js, wasm throws why", (_name, flags, env, prelude, reason) => {
    const out = execFileSync(
      process.execPath,
      [...flags, "--input-type=module", "-e", program(bundle, prelude)],
      { encoding: "utf8", env: { ...process.env, ...env } },
    );
    const result = JSON.parse(out);
    expect(result.auto).toEqual({ engine: "js", out: expectedOut });
    expect(result.js).toEqual({ engine: "js", out: expectedOut });
    expect(result.wasmError).toMatch(/engine "wasm" is not available/);
    expect(result.wasmError).toMatch(reason);
  });

  test("with WebAssembly, the same program runs the WASM engine", () => {
    const result = JSON.parse(
      execFileSync(process.execPath, ["--input-type=module", "-e", program(bundle, "")], {
        encoding: "utf8",
      }),
    );
    expect(result.auto).toEqual({ engine: "wasm", out: expectedOut });
    expect(result.wasmError).toBeNull();
  });
});
