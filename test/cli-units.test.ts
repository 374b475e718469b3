// The CLI's pure parts, in process: option parsing, formatting, the batching writer.
import { EventEmitter } from "node:events";
import { describe, expect, test } from "vitest";
import { parseCli, type CliOptions } from "../src/cli/args.js";
import { BatchWriter, formatNdjson, formatPretty, formatStatsLine, formatSummary, type Sink } from "../src/cli/output.js";

function options(argv: string[]): CliOptions {
  const r = parseCli(argv);
  if (r.kind !== "run") throw new Error(`expected run, got ${JSON.stringify(r)}`);
  return r.options;
}

describe("parseCli", () => {
  test("defaults", () => {
    const o = options(["http://127.0.0.1:8080/feed"]);
    expect(o).toMatchObject({ headers: {}, events: [], engine: "auto", pretty: false, stats: false, verbose: false });
    expect(o.url.href).toBe("http://127.0.0.1:8080/feed");
    expect(o.count ?? o.retries ?? o.maxEventSize ?? o.idleTimeout ?? o.lastEventId).toBeUndefined();
  });

  test.each([
    ["--max-event-size", "1024", "maxEventSize", 1024],
    ["--max-event-size", "64k", "maxEventSize", 65536],
    ["--max-event-size", "2MiB", "maxEventSize", 2 * 1024 * 1024],
    ["--max-event-size", "1g", "maxEventSize", 1024 ** 3],
    ["--idle-timeout", "1500", "idleTimeout", 1500],
    ["--idle-timeout", "500ms", "idleTimeout", 500],
    ["--idle-timeout", "30s", "idleTimeout", 30_000],
    ["--idle-timeout", "1.5s", "idleTimeout", 1500],
    ["--idle-timeout", "2m", "idleTimeout", 120_000],
    ["--retries", "0", "retries", 0],
    ["--count", "3", "count", 3],
    ["--stats-interval", "100ms", "statsInterval", 100],
  ] as const)("%s %s", (flag, value, key, expected) => {
    expect(options([flag, value, "http://x/"])[key]).toBe(expected);
  });

  test("headers: trimmed, repeated names joined, value may contain colons", () => {
    const o = options(["-H", "Authorization: Bearer a:b", "-H", "X-A: 1", "-H", "x-a:2", "-H", "Empty:", "http://x/"]);
    expect(o.headers).toEqual({ Authorization: "Bearer a:b", "X-A": "1, 2", Empty: "" });
  });

  test("flags and short forms", () => {
    const o = options(["-e", "a", "--event", "b", "-n", "5", "-X", "post", "-d", "x=1", "-v", "--pretty", "--stats", "https://h/"]);
    expect(o).toMatchObject({ events: ["a", "b"], count: 5, method: "POST", body: "x=1", verbose: true, pretty: true, stats: true });
    expect(parseCli(["-h"]).kind).toBe("help");
    expect(parseCli(["--version", "http://x/"]).kind).toBe("version");
  });

  test.each([
    [["--count", "-1", "http://x/"]],
    [["--count", "1.5", "http://x/"]],
    [["--idle-timeout", "5h", "http://x/"]],
    [["--max-event-size", "0", "http://x/"]],
    [["--last-event-id", "a\nb", "http://x/"]],
    [["-H", "Bad Name: x", "http://x/"]],
    [["-H", ": x", "http://x/"]],
    [["-e", "", "http://x/"]],
    [["--pretty=yes", "http://x/"]],
    [["ws://x/"]],
  ])("usage error: %j", (argv) => {
    expect(parseCli(argv).kind).toBe("usage-error");
  });
});

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
