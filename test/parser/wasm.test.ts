// The WASM engine (its SIMD build, where the runtime has SIMD) against the oracle and the
// TypeScript engine, on the cases that are its own: see support/wasm-suites.ts; plus
// callbacks that re-enter and runtimes without WebAssembly. (The committed build is checked
// in wasm-build.integration.test.ts.)
import { execFileSync } from "node:child_process";
import { beforeAll, describe, expect, test } from "vitest";
import { createParser } from "../../src/parser/index.js";
import { wasmBuild, wasmUnavailableReason } from "../../src/parser/wasm.js";
import { bundleSource } from "../support/wasm-bundle.js";
import { wasmSuites } from "../support/wasm-suites.js";

test("WebAssembly works here, so the engine under test really is WASM, SIMD build", () => {
  expect(wasmUnavailableReason()).toBeUndefined();
  expect(wasmBuild()).toBe("simd");
  expect(createParser({ onEvent() {} }, { engine: "wasm" }).engine).toBe("wasm");
  expect(createParser({ onEvent() {} }).engine).toBe("wasm");
});

wasmSuites();

describe("a callback that throws", () => {
  test.each(["wasm", "js"] as const)(
    "%s: the exception reaches feed(), and later chunks keep their own event types",
    (engine) => {
      const seen: string[] = [];
      const parser = createParser(
        {
          onEvent: (e) => {
            if (e.data === "1") throw new Error("listener failed");
            seen.push(`${e.type}:${e.data}`);
          },
        },
        { engine },
      );
      // The event after the one whose callback throws is not dispatched (nor read), but its
      // type must not stand in for a later event's.
      expect(() => parser.feed("event: a\ndata: 1\n\nevent: b\ndata: 2\n\n")).toThrow("listener failed");
      parser.feed("event: b\ndata: 3\n\nevent: b\ndata: 4\n\n");
      parser.feed("event: b\ndata: 5\n\n");
      expect(seen.filter((s) => s !== "b:2")).toEqual(["b:3", "b:4", "b:5"]);
    },
  );
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

  test.each([
    ["with WebAssembly", ""],
    // Runtimes without Node's Buffer: base64 and latin1 decoding take the web-standard path.
    ["without globalThis.Buffer", "delete globalThis.Buffer;"],
  ])("%s, the same program runs the WASM engine", (_name, prelude) => {
    const result = JSON.parse(
      execFileSync(process.execPath, ["--input-type=module", "-e", program(bundle, prelude)], {
        encoding: "utf8",
      }),
    );
    expect(result.auto).toEqual({ engine: "wasm", out: expectedOut });
    expect(result.wasmError).toBeNull();
  });
});
