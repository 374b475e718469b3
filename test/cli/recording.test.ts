// The recording file format (src/cli/recording.ts): what the writer writes is what the reader
// reads, a file cut anywhere reads up to its last whole frame, and a bad file is a clear error.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseRecording, readRecording, RecordingError, RecordingWriter, type RecordingHeader } from "../../src/cli/recording.js";
import { eventsOf, WRITES, WRITES_EVENTS } from "../support/recorded-feed.js";

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "esw-recording-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEADER: RecordingHeader = {
  url: "http://127.0.0.1:8080/feed",
  recordedAt: "2026-12-07T04:00:00.000Z",
  status: 200,
  statusText: "OK",
  headers: [
    ["content-type", "text/event-stream"],
    ["set-cookie", "a=1"],
    ["set-cookie", "b=2"],
  ],
};

/** WRITES recorded 12.5 ms apart, ended by the server. */
function writeSample(path: string, end = true): void {
  const w = new RecordingWriter(path, HEADER);
  WRITES.forEach((bytes, i) => w.frame(i * 12.5 + 0.0004, bytes));
  if (end) w.end(WRITES.length * 12.5, "eof");
  w.close();
}

describe("recording format", () => {
  test("the reader reads what the writer wrote: header, frames with their times, end", () => {
    const file = join(dir, "sample.sse.rec");
    writeSample(file);
    const text = readFileSync(file, "latin1");
    expect(text.startsWith(`eventsource-wasm recording v1\n{"url":"http://127.0.0.1:8080/feed"`)).toBe(true);
    expect(text).toContain(`\n12.5 ${WRITES[1]!.length}\n`);
    expect(text.endsWith(`\n${WRITES.length * 12.5} end eof\n`)).toBe(true);

    const rec = readRecording(file);
    expect(rec.header).toEqual(HEADER);
    expect(rec.frames.map((f) => f.at)).toEqual(WRITES.map((_, i) => i * 12.5));
    expect(rec.frames.map((f) => Buffer.from(f.bytes).toString("hex"))).toEqual(WRITES.map((w) => w.toString("hex")));
    expect(rec.end).toEqual({ at: WRITES.length * 12.5, reason: "eof" });
    expect(rec.truncatedAt).toBeUndefined();
    expect(eventsOf(rec.frames.map((f) => f.bytes))).toEqual(WRITES_EVENTS);
  });

  test("a file cut at any byte after its header reads up to its last whole frame", () => {
    const file = join(dir, "cut.sse.rec");
    writeSample(file);
    const whole = readFileSync(file);
    const frameStarts: number[] = [];
    let pos = whole.indexOf(0x0a, whole.indexOf(0x0a) + 1) + 1;
    for (const bytes of WRITES) {
      frameStarts.push(pos);
      pos = whole.indexOf(0x0a, pos) + 1 + bytes.length + 1;
    }
    const endStart = pos;
    expect(whole.subarray(endStart).toString()).toBe(`${WRITES.length * 12.5} end eof\n`);
    for (let cut = frameStarts[0]!; cut < whole.length; cut++) {
      const rec = parseRecording(whole.subarray(0, cut));
      const complete = frameStarts.filter((s, i) => (frameStarts[i + 1] ?? endStart) <= cut).length;
      expect(rec.frames.length, `cut at ${cut}`).toBe(complete);
      const cutFrame = [...frameStarts, endStart].find((s) => s === cut) === undefined;
      expect(rec.truncatedAt, `cut at ${cut}`).toBe(cutFrame ? [...frameStarts, endStart].filter((s) => s < cut).at(-1) : undefined);
      expect(rec.end).toBeUndefined();
    }
  });

  test.each([
    ["an empty file", "", /not a recording/],
    ["another file", "id: 1\ndata: hello\n\n", /not a recording/],
    ["a newer version", 'eventsource-wasm recording v2\n{"status":200,"headers":[]}\n', /v2: this version of eventsource-wasm reads v1 only/],
    ["a header cut short", 'eventsource-wasm recording v1\n{"status":2', /cut short before the end of its header line/],
    ["a header that is not JSON", "eventsource-wasm recording v1\nstatus 200\n", /not JSON/],
    ["a header without a status", 'eventsource-wasm recording v1\n{"headers":[]}\n', /no HTTP status/],
    ["headers that are not pairs", 'eventsource-wasm recording v1\n{"status":200,"headers":{"a":"b"}}\n', /"headers" is not a list/],
    ["a header that cannot be sent", 'eventsource-wasm recording v1\n{"status":200,"headers":[["x-a","1\\r\\nx-b: 2"]]}\n', /header "x-a" cannot be sent/],
    ["a bad frame line", 'eventsource-wasm recording v1\n{"status":200,"headers":[]}\n1.5 three\nabc\n', /bad frame line at byte 58/],
    ["a length that does not match", 'eventsource-wasm recording v1\n{"status":200,"headers":[]}\n1.5 2\nabc\n', /does not end where its length \(2\) says/],
    ["times going back", 'eventsource-wasm recording v1\n{"status":200,"headers":[]}\n5 1\na\n4 1\nb\n', /earlier \(4 ms\) than the one before it \(5 ms\)/],
    ["an unknown end", 'eventsource-wasm recording v1\n{"status":200,"headers":[]}\n5 end later\n', /unknown end reason "later"/],
    ["bytes after the end", 'eventsource-wasm recording v1\n{"status":200,"headers":[]}\n5 end eof\n6 1\na\n', /bytes after the end record/],
    ["a long line with no line end", `eventsource-wasm recording v1\n{"status":200,"headers":[]}\n${"1".repeat(100)}`, /bad frame line/],
  ])("a bad file is an error: %s", (_name, text, message) => {
    expect(() => parseRecording(Buffer.from(text, "latin1"))).toThrow(RecordingError);
    expect(() => parseRecording(Buffer.from(text, "latin1"))).toThrow(message);
  });

  test("parse.bench.mjs --corpus parses a recording's chunks as recorded, with every implementation", () => {
    const file = join(dir, "bench.sse.rec");
    const w = new RecordingWriter(file, HEADER);
    // Twenty copies of WRITES (a BOM only at the start): 100 events.
    for (let round = 0; round < 20; round++) {
      WRITES.forEach((bytes, i) => w.frame(round * 100 + i, round > 0 && i === 0 ? bytes.subarray(3) : bytes));
    }
    w.close();
    const root = resolve(import.meta.dirname, "../..");
    const run = spawnSync(process.execPath, [join(root, "bench/parse.bench.mjs"), "--corpus", file], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, BENCH_SMOKE: "1" },
      timeout: 60_000,
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`## bench.sse.rec @ as recorded  (100 events`);
    expect(run.stdout).toContain(`${WRITES.length * 20} chunks`);
    expect(run.stdout).toMatch(/eventsource-parser 3 +\|/);
  });
});
