// The CLI's pure parts, in process: option parsing, formatting, the batching writer.
import { EventEmitter } from "node:events";
import { describe, expect, test } from "vitest";
import { parseCli, type CliOptions } from "../src/cli/args.js";
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
} from "../src/cli/output.js";
import { bypassesProxy, proxyFor } from "../src/cli/proxy.js";

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

describe("proxy selection", () => {
  const u = (s: string) => new URL(s);
  test("by scheme, lower case first, ALL_PROXY last; a proxy without scheme is http://", () => {
    const env = { HTTPS_PROXY: "secure:3128", http_proxy: "http://lower:1", HTTP_PROXY: "http://upper:2", ALL_PROXY: "http://all:9" };
    expect(proxyFor(u("https://a.example/"), undefined, env)).toBe("http://secure:3128");
    expect(proxyFor(u("http://a.example/"), undefined, env)).toBe("http://lower:1");
    expect(proxyFor(u("https://a.example/"), undefined, { ALL_PROXY: "http://all:9" })).toBe("http://all:9");
    expect(proxyFor(u("https://a.example/"), undefined, {})).toBeNull();
    expect(proxyFor(u("https://a.example/"), "flag:8080", env)).toBe("http://flag:8080");
    expect(proxyFor(u("https://a.example/"), "", env)).toBeNull();
  });

  test.each([
    ["example.com", "https://example.com/", true],
    ["example.com", "https://api.example.com/", true],
    [".example.com", "https://api.example.com/", true],
    ["*.example.com", "https://api.example.com/", true],
    ["example.com", "https://notexample.com/", false],
    ["127.0.0.1", "http://127.0.0.1:8080/", true],
    ["127.0.0.1:8080", "http://127.0.0.1:8080/", true],
    ["127.0.0.1:9090", "http://127.0.0.1:8080/", false],
    ["localhost:443", "https://localhost/", true],
    ["::1", "http://[::1]:8080/", true],
    ["[::1]:8080", "http://[::1]:8080/", true],
    ["*", "http://anything/", true],
    [" other , EXAMPLE.com ", "http://example.com/", true],
    ["", "http://example.com/", false],
  ])("NO_PROXY=%j for %s: %s", (noProxy, url, bypass) => {
    expect(bypassesProxy(u(url), noProxy)).toBe(bypass);
    expect(proxyFor(u(url), "http://p:1", { no_proxy: noProxy })).toBe(bypass ? null : "http://p:1");
  });
});

describe("parseCli: the new flags", () => {
  test("-k, --cacert, -x, -q, --no-color", () => {
    const o = options(["-k", "--cacert", "ca.pem", "-x", "proxy:3128", "-q", "--no-color", "https://h/"]);
    expect(o).toMatchObject({ insecure: true, caFile: "ca.pem", proxy: "proxy:3128", quiet: true, noColor: true });
    expect(options(["http://h/"])).toMatchObject({ insecure: false, quiet: false, noColor: false });
    expect(parseCli(["-x", "socks5://p:1080", "http://h/"])).toMatchObject({ kind: "usage-error", message: expect.stringMatching(/--proxy/) });
    expect(parseCli(["-x", "https://p:3128", "http://h/"]).kind).toBe("usage-error");
    expect(options(["-x", "http://u:p@p:3128", "http://h/"]).proxy).toBe("http://u:p@p:3128");
  });

  test("-d @file and @- name a file (read later); other values are the body", () => {
    expect(options(["-d", "@body.json", "http://h/"])).toMatchObject({ bodyFile: "body.json" });
    expect(options(["-d", "@-", "http://h/"])).toMatchObject({ bodyFile: "-" });
    const plain = options(["-d", "a=@b", "http://h/"]);
    expect(plain.body).toBe("a=@b");
    expect(plain.bodyFile).toBeUndefined();
    expect(parseCli(["-d", "@", "http://h/"]).kind).toBe("usage-error");
  });

  test.each([
    ["localhost:8080/feed", "http://localhost:8080/feed"],
    ["127.0.0.1:9/x?y=1", "http://127.0.0.1:9/x?y=1"],
    ["example.com/stream", "http://example.com/stream"],
    ["https://example.com/s", "https://example.com/s"],
  ])("%s is %s", (given, href) => {
    expect(options([given]).url.href).toBe(href);
  });
});
