// output.ts: event lines (NDJSON, --pretty), colour, the batching writer and the --stats
// texts, in process; and, through the built command, the output as a reader gets it.
import { EventEmitter } from "node:events";
import { describe, expect, test } from "vitest";
import {
  BatchWriter,
  colorEnabled,
  formatNdjson,
  formatPretty,
  formatStatsLine,
  formatSummary,
  RateMeter,
  type Sink,
  type StatsSample,
} from "../../src/cli/output.js";
import { createParser } from "../../src/parser/index.js";
import { hasScript, once, runCli, runInTerminal, serve, useCli } from "../support/cli.js";

useCli();

// "wasm" only once the WebAssembly engine is built into this tree.
const ENGINES = ["auto", "js", ...(wasmAvailable() ? ["wasm"] : [])];
function wasmAvailable(): boolean {
  try {
    createParser({ onEvent() {} }, { engine: "wasm" });
    return true;
  } catch {
    return false;
  }
}

describe("formatting", () => {
  test("NDJSON escapes like JSON.stringify and keeps key order", () => {
    const line = formatNdjson({ type: "t\"", data: "a\nb\u0000\u2028é", lastEventId: "\\" });
    expect(line.endsWith("\n")).toBe(true);
    expect(JSON.parse(line)).toEqual({ type: 't"', data: "a\nb\u0000\u2028é", id: "\\" });
    expect(line).toBe(`${JSON.stringify({ type: 't"', data: "a\nb\u0000\u2028é", id: "\\" })}\n`);
  });

  test("pretty: time, type, id, indented data; terminal controls escaped; colour only when asked", () => {
    const now = () => new Date(2026, 0, 2, 9, 5, 7, 42);
    expect(formatPretty({ type: "tick", data: "l1\nl2", lastEventId: "9" }, { color: false, now })).toBe(
      "09:05:07.042 tick #9\n  l1\n  l2\n",
    );
    expect(formatPretty({ type: "message", data: "", lastEventId: "" }, { color: false, now })).toBe(
      "09:05:07.042 message\n  (empty)\n",
    );
    expect(formatPretty({ type: "x", data: "\x1b[2J\tok", lastEventId: "" }, { color: false, now })).toContain("\\x1b[2J\tok");
    expect(formatPretty({ type: "x", data: "d", lastEventId: "" }, { color: true, now })).toContain("\x1b[");
  });

  test("stats line and summary", () => {
    const a = { at: 0, events: 0, bytes: 0, reconnects: 0, lastEventAt: undefined };
    const b = { at: 2000, events: 300_000, bytes: 36e6, reconnects: 2, lastEventAt: 10_000 };
    expect(formatStatsLine(a, b, "wasm", 10_250)).toBe(
      "300,000 events  150.0k ev/s  18.00 MB/s  reconnects 2  engine wasm  last event 250ms ago",
    );
    expect(formatStatsLine(a, { ...a, at: 1000 }, "js")).toContain("last event never");
    expect(formatSummary(a, b, "wasm")).toBe(
      "summary: 300,000 events, 36.00 MB in 2.00 s (150.0k ev/s, 18.00 MB/s), reconnects 2, engine wasm",
    );
    expect(formatSummary(a, b, "js", 10)).toMatch(/^summary: 10 events printed \(300,000 received\), /);
  });
});

/** A sink that accepts `capacity` characters, then says "full" until drained by the test. */
class FakeSink extends EventEmitter implements Sink {
  writes: string[] = [];
  full = false;
  constructor(private capacity: number) {
    super();
  }
  write(chunk: string, cb?: () => void): boolean {
    this.writes.push(chunk);
    if (cb) setImmediate(cb);
    const size = this.writes.join("").length;
    this.full = size >= this.capacity;
    return !this.full;
  }
  drain(): void {
    this.capacity = Infinity;
    this.full = false;
    this.emit("drain");
  }
}

describe("BatchWriter", () => {
  test("coalesces the writes of one turn of the event loop into one", async () => {
    const sink = new FakeSink(Infinity);
    const w = new BatchWriter(sink);
    for (let i = 0; i < 100; i++) w.write(`${i}\n`);
    expect(sink.writes).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(sink.writes).toHaveLength(1);
    expect(sink.writes[0]!.split("\n")).toHaveLength(101);
  });

  test("writes at once past the high-water mark", () => {
    const sink = new FakeSink(Infinity);
    const w = new BatchWriter(sink, 10);
    w.write("12345");
    w.write("67890");
    expect(sink.writes).toEqual(["1234567890"]);
  });

  test("waits for drain when the sink is full, then writes everything in order", async () => {
    const sink = new FakeSink(4);
    const w = new BatchWriter(sink, 4);
    w.write("aaaa"); // fills the sink
    expect(w.isBlocked).toBe(true);
    w.write("bbbb");
    w.write("cc");
    expect(sink.writes).toEqual(["aaaa"]);
    expect(w.backlog).toBe(6);
    let drained = false;
    void w.waitForDrain().then(() => (drained = true));
    await new Promise((r) => setImmediate(r));
    expect(drained).toBe(false);
    sink.drain();
    await new Promise((r) => setImmediate(r));
    expect(drained).toBe(true);
    expect(sink.writes.join("")).toBe("aaaabbbbcc");
    await w.end();
    expect(sink.writes.at(-1)).toBe("");
  });

  test("abandon() drops what is pending and wakes waiters", async () => {
    const sink = new FakeSink(1);
    const w = new BatchWriter(sink, 1);
    w.write("x");
    w.write("y");
    const waiting = w.waitForDrain();
    w.abandon();
    await waiting;
    w.write("z");
    expect(sink.writes).toEqual(["x"]);
  });
});

describe("stats: counts and smoothed rates", () => {
  const at = (ms: number, events: number): StatsSample => ({ at: ms, events, bytes: events * 100, reconnects: 0, lastEventAt: undefined });

  test('"1 event", singular, in the live line and the summary', () => {
    expect(formatStatsLine(at(0, 0), at(1000, 1), "js")).toMatch(/^1 event {2}/);
    expect(formatSummary(at(0, 0), at(1000, 1), "js")).toMatch(/^summary: 1 event, /);
    expect(formatSummary(at(0, 0), at(1000, 5), "js", 1)).toMatch(/^summary: 1 event printed \(5 received\), /);
    expect(formatStatsLine(at(0, 0), at(1000, 2), "js")).toMatch(/^2 events {2}/);
  });

  test("at 1 event/s and 4 refreshes a second the rate reads about 1, not 0 then 4", () => {
    const meter = new RateMeter();
    const rates: number[] = [];
    meter.add(at(0, 0));
    for (let tick = 1; tick <= 80; tick++) {
      const cur = at(tick * 250, Math.floor(tick / 4)); // one event every 4th tick
      const line = formatStatsLine(meter.add(cur), cur, "js");
      if (tick >= 24) rates.push(Number(/ ([\d.]+) ev\/s/.exec(line)![1]));
    }
    expect(Math.min(...rates)).toBeGreaterThanOrEqual(0.7);
    expect(Math.max(...rates)).toBeLessThanOrEqual(1.3);
  });

  test("the rate follows a change within the window", () => {
    const meter = new RateMeter(2000);
    meter.add(at(0, 0));
    let cur = at(0, 0);
    for (let t = 250; t <= 10_000; t += 250) meter.add((cur = at(t, t / 10))); // 100 ev/s
    for (let t = 10_250; t <= 13_000; t += 250) {
      cur = at(t, 1000); // then nothing
      const from = meter.add(cur);
      if (t >= 12_250) expect(formatStatsLine(from, cur, "js")).toContain(" 0.0 ev/s");
    }
  });
});

describe("colorEnabled", () => {
  const tty = (colors: boolean) => ({ isTTY: true, hasColors: () => colors });
  test.each([
    ["a terminal with colours", tty(true), {}, false, true],
    ["a terminal without (TERM=dumb)", tty(false), {}, false, false],
    ["a pipe", { isTTY: false }, {}, false, false],
    ["NO_COLOR", tty(true), { NO_COLOR: "1" }, false, false],
    ["an empty NO_COLOR", tty(true), { NO_COLOR: "" }, false, true],
    ["FORCE_COLOR into a pipe", { isTTY: false }, { FORCE_COLOR: "1" }, false, true],
    ["FORCE_COLOR over NO_COLOR", tty(true), { FORCE_COLOR: "1", NO_COLOR: "1" }, false, true],
    ["FORCE_COLOR=0", tty(true), { FORCE_COLOR: "0" }, false, false],
    ["--no-color over FORCE_COLOR", tty(true), { FORCE_COLOR: "1" }, true, false],
  ] as const)("%s", (_name, stream, env, flag, expected) => {
    expect(colorEnabled(stream, env, flag)).toBe(expected);
  });
});


const STREAM = [
  "retry: 10\n",
  ": a comment\n",
  "data: hello\n\n",
  "event: greet\nid: 7\ndata: multi\ndata: line\n\n",
  'data: {"quote":"\\"q\\"","tab":"\t"} é 🙂\n\n',
  "event: other\ndata:\n\n",
  "id\ndata: id reset\n\n",
  "data: unfinished event, never dispatched",
].join("");

describe.concurrent("the built command's output", () => {
  // Every engine: the CLI is also an end-to-end check of the parser under it.
  test.each(ENGINES)("prints every event, named ones included, as exact NDJSON; 204 ends it with 0 (--engine %s)", async (engine) => {
    const s = await serve(once(STREAM));
    const r = await runCli([s.url, "--engine", engine]);
    // The last event had no id (an empty `id` reset it): nothing to resume from, so nothing said.
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        '{"type":"message","data":"hello","id":""}',
        '{"type":"greet","data":"multi\\nline","id":"7"}',
        '{"type":"message","data":"{\\"quote\\":\\"\\\\\\"q\\\\\\"\\",\\"tab\\":\\"\\t\\"} é 🙂","id":"7"}',
        '{"type":"other","data":"","id":"7"}',
        '{"type":"message","data":"id reset","id":""}',
        "",
      ].join("\n"),
    );
    // Each line is JSON with exactly the keys type, data, id.
    for (const line of r.stdout.trimEnd().split("\n")) expect(Object.keys(JSON.parse(line))).toEqual(["type", "data", "id"]);
    expect(s.requests[0]!.headers.accept).toBe("text/event-stream");
  });

  test("--pretty prints a readable block per event", async () => {
    const s = await serve(once(STREAM));
    const r = await runCli([s.url, "--pretty", "--count", "2", "--engine", "js"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} message\n {2}hello\n\d\d:\d\d:\d\d\.\d{3} greet #7\n {2}multi\n {2}line\n$/);
  });

  // Into a pipe without it, --pretty has no colour: the exact text of the test above.
  test("FORCE_COLOR colours --pretty even into a pipe", async () => {
    const s = await serve(once("retry: 10\ndata: x\n\n"));
    const r = await runCli([s.url, "--pretty"], { env: { FORCE_COLOR: "1" } });
    expect(r.stdout).toContain("\x1b[1;36mmessage");
  });
});

describe.runIf(hasScript).concurrent("the built command's output on a terminal", () => {
  test.each([
    // The rest of the rules are colorEnabled's, above: here that the terminal is asked, and
    // that the flag and the environment reach it. Node reports no colours under CI=...
    // (tty.hasColors), whatever the terminal.
    ["a colour terminal", { CI: undefined }, [], true],
    ["TERM=dumb", { TERM: "dumb" }, [], false],
    ["--no-color over FORCE_COLOR", { FORCE_COLOR: "1" }, ["--no-color"], false],
  ] as const)("--pretty colours: %s", async (_name, env, flags, coloured) => {
    const s = await serve(once("retry: 10\nid: 1\ndata: x\n\n"));
    const r = await runInTerminal([s.url, "--pretty", ...flags], { env });
    expect(r.code).toBe(0);
    expect(r.output).toMatch(/message.*#1.*\n {2}x\n/);
    expect(r.output.includes("\x1b[1;36mmessage")).toBe(coloured);
    if (!coloured) expect(r.output).not.toMatch(/\x1b\[\d/);
  });
});
