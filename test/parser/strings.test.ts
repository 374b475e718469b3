// Strings fed to feed(): the spec table's string cases cut by code unit, as `slice` cuts text,
// so that some cuts fall between the two halves of a surrogate pair (an emoji). Every engine
// must give the events of the whole string (eventsource-parser, which parses strings, keeps
// such a character too), whatever the cuts, and whatever comes after a lone high surrogate.
import { createParser as esParser } from "eventsource-parser";
import { describe, expect, test } from "vitest";
import { createParser } from "../../src/parser/index.js";
import type { EngineName } from "../../src/parser/types.js";
import type { Output } from "../support/oracle.js";
import { cut, recording } from "../support/collect.js";
import { specCases } from "../support/spec-cases.js";

const engines: EngineName[] = ["js", "wasm"];

function run(engine: EngineName, chunks: Array<string | Uint8Array>, options: { maxEventSize?: number; lastEventId?: string } = {}) {
  const outputs: Output[] = [];
  const parser = createParser(recording(outputs), { engine, ...options });
  for (const chunk of chunks) parser.feed(chunk);
  parser.end();
  return { outputs, lastEventId: parser.lastEventId };
}

const chunkings: Array<[string, (s: string) => string[][]]> = [
  ["one code unit at a time", (s) => [Array.from({ length: s.length }, (_, i) => s[i]!)]],
  ["in two, at every code unit", (s) => Array.from({ length: s.length + 1 }, (_, i) => cut(s, [i]))],
  [
    "inside every surrogate pair, with empty strings between",
    (s) => {
      const inside = Array.from({ length: s.length }, (_, i) => i).filter(
        (i) => /[\ud800-\udbff]/.test(s[i - 1] ?? "") && /[\udc00-\udfff]/.test(s[i]!),
      );
      return [cut(s, inside).flatMap((c) => [c, ""])];
    },
  ],
];

const stringCases = specCases.filter((c) => typeof c.input === "string");
const withPairs = [
  ...stringCases,
  { name: "emoji in every field", input: "event: \ud83d\ude00\nid: \ud83d\udc4d\ndata: a\ud83d\ude00b\n: \ud83c\udf89\n\n", expected: undefined },
  { name: "a pair at the end of a line and a stream", input: "data: \ud83d\ude00\r\ndata: \ud83d\ude00", expected: undefined },
];

describe.each(engines)("engine %s", (engine) => {
  describe.each(chunkings)("strings cut %s", (_how, cuts) => {
    test.each(withPairs.map((c) => [c.name, c] as const))("%s", (_name, c) => {
      const input = c.input as string;
      const whole = run(engine, [input], "options" in c ? c.options : {});
      if (c.expected !== undefined) expect(whole.outputs).toEqual(c.expected);
      for (const chunks of cuts(input)) {
        expect(run(engine, chunks, "options" in c ? c.options : {})).toEqual(whole);
      }
    });
  });

  test("an emoji cut between two feeds is one character (not two U+FFFD)", () => {
    const { outputs } = run(engine, ["data: \ud83d", "\ude00\n\n"]);
    expect(outputs).toEqual([{ kind: "event", type: "message", data: "\ud83d\ude00", lastEventId: "" }]);
  });

  test("a lone high surrogate is U+FFFD, whatever follows it", () => {
    const lone = { kind: "event", type: "message", data: "a\ufffdb", lastEventId: "" };
    // A string that does not start with the low half, bytes, or another high surrogate.
    expect(run(engine, ["data: a\ud83d", "b\n\n"]).outputs).toEqual([lone]);
    expect(run(engine, ["data: a\ud83d", new TextEncoder().encode("b\n\n")]).outputs).toEqual([lone]);
    expect(run(engine, ["data: a\ud83d", "\ud83d", "\ude00\n\n"]).outputs).toEqual([
      { kind: "event", type: "message", data: "a\ufffd\ud83d\ude00", lastEventId: "" },
    ]);
  });

  test("end() and reset() drop a held high surrogate with the unfinished line", () => {
    const outputs: string[] = [];
    const parser = createParser({ onEvent: (e) => outputs.push(e.data) }, { engine });
    parser.feed("data: a\ud83d");
    parser.end();
    parser.feed("\ude00data: b\n\n");
    parser.feed("data: c\ud83d");
    parser.reset();
    parser.feed("\ude00\n\ndata: d\n\n");
    // The low halves start new streams: lone, so U+FFFD, in a line that names no field.
    expect(outputs).toEqual(["d"]);
  });

  test("as eventsource-parser, for text cut at every code unit", () => {
    const text = "event: \u4fa1\u683c\ndata: \ud83d\ude00 \u00e9\ndata: x\ud83d\udc4d\n\nid: \ud83c\udf89\ndata: y\n\n";
    const theirs: Array<{ type: string; data: string; lastEventId: string }> = [];
    const es = esParser({ onEvent: (e) => theirs.push({ type: e.event ?? "message", data: e.data, lastEventId: e.id ?? "" }) });
    for (const ch of text) es.feed(ch);
    for (let i = 0; i <= text.length; i++) {
      const ours = run(engine, cut(text, [i])).outputs.map(({ kind: _k, ...e }) => e);
      expect(ours).toEqual(theirs);
    }
  });
});
