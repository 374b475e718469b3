// status.ts: the --stats line and the lines printed around it, in process; and, through the
// built command, --stats in a log and on a real terminal.
import { describe, expect, test, vi } from "vitest";
import { StatsReporter, StatusLine } from "../../src/cli/status.js";
import { hasScript, runCli, runInTerminal, serve, useCli } from "../support/cli.js";
import { startFeedServer, type FeedServer } from "../../examples/feed-server.mjs";
import { closeLater } from "../support/cli.js";

useCli();

/** A stream that records what was written, in order. */
function recorder(isTTY = true) {
  const writes: string[] = [];
  return { isTTY, writes, write: (text: string) => void writes.push(text), text: () => writes.join("") };
}

describe("StatusLine", () => {
  test("live: the line is redrawn in place, and cleared around a printed line", () => {
    const err = recorder();
    const status = new StatusLine(err, true);
    status.print("before any line"); // nothing to clear yet
    status.show("1 event");
    status.show("2 events");
    status.print("warning: x");
    expect(err.writes).toEqual([
      "before any line\n",
      "\r1 event\x1b[K",
      "\r2 events\x1b[K",
      "\r\x1b[K", // cleared
      "warning: x\n",
      "\r2 events\x1b[K", // and drawn again after
    ]);
  });

  test("live: around() clears the line for what another stream writes to the same terminal", () => {
    const err = recorder();
    const status = new StatusLine(err, true);
    status.show("stats");
    const order: string[] = [];
    const result = status.around(() => {
      order.push(err.writes.at(-1)!);
      return 42;
    });
    expect(result).toBe(42);
    expect(order).toEqual(["\r\x1b[K"]);
    expect(err.writes.at(-1)).toBe("\rstats\x1b[K");
  });

  test("end() clears the line for good: what follows is printed plainly", () => {
    const err = recorder();
    const status = new StatusLine(err, true);
    status.show("stats");
    status.end();
    status.print("summary: ...");
    expect(err.writes.slice(1)).toEqual(["\r\x1b[K", "summary: ...\n"]);
  });

  test("not live (a log): each refresh is a line, and nothing is ever cleared", () => {
    const err = recorder(false);
    const status = new StatusLine(err, false);
    status.show("1 event");
    status.print("warning: x");
    status.show("2 events");
    expect(status.around(() => "ok")).toBe("ok");
    status.end();
    expect(err.text()).toBe("1 event\nwarning: x\n2 events\n");
  });

  test("a stream that throws (stderr gone) is not the run's problem", () => {
    const status = new StatusLine({ write: () => { throw new Error("EPIPE"); } }, true);
    expect(() => {
      status.show("x");
      status.print("y");
      status.end();
    }).not.toThrow();
  });
});

describe("StatsReporter", () => {
  test("samples the source on each refresh; the summary covers the whole run", () => {
    let now = 0;
    const stats = { events: 0, bytes: 0, reconnects: 0, lastEventAt: null as number | null };
    const err = recorder(false);
    const reporter = new StatsReporter({ stats, engine: "js" }, new StatusLine(err, false), () => now);
    now = 1000;
    Object.assign(stats, { events: 500, bytes: 2e6 });
    reporter.refresh();
    now = 2000;
    Object.assign(stats, { events: 1500, bytes: 4e6, reconnects: 1 });
    reporter.refresh();
    const lines = err.text().split("\n");
    expect(lines[0]).toMatch(/^500 events {2}500 ev\/s {2}2\.00 MB\/s {2}reconnects 0 {2}engine js {2}last event never$/);
    // Rates over the window (RateMeter): from the first sample, 1,500 events in 2 s.
    expect(lines[1]).toMatch(/^1,500 events {2}750 ev\/s {2}2\.00 MB\/s {2}reconnects 1 /);
    expect(reporter.summary(1500)).toBe("summary: 1,500 events, 4.00 MB in 2.00 s (750 ev/s, 2.00 MB/s), reconnects 1, engine js");
    expect(reporter.summary(10)).toMatch(/^summary: 10 events printed \(1,500 received\)/);
  });

  test("start() refreshes every interval until stop()", () => {
    vi.useFakeTimers();
    try {
      const err = recorder(false);
      const reporter = new StatsReporter({ stats: { events: 0, bytes: 0, reconnects: 0, lastEventAt: null }, engine: "wasm" }, new StatusLine(err, false));
      reporter.start(100);
      vi.advanceTimersByTime(350);
      expect(err.writes).toHaveLength(3);
      reporter.stop();
      vi.advanceTimersByTime(1000);
      expect(err.writes).toHaveLength(3);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe.concurrent("the built command's --stats", () => {
  test("in a log: every seq arrives exactly once across mid-event drops, and the summary ends stderr", async () => {
    const feed = (await startFeedServer({ events: 5000, dropEvery: 1200, retryMs: 5, seed: 2 })) as FeedServer;
    closeLater(feed.close);
    const r = await runCli([feed.url, "--stats"]);
    expect(r.code).toBe(0);
    const ids = r.stdout.trimEnd().split("\n").map((l) => Number(JSON.parse(l).id));
    expect(ids).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
    expect(feed.stats.drops).toBe(4);
    expect(r.stderr).toMatch(
      /^summary: 5,000 events, [\d.]+ MB in [\d.]+ s \([\d.]+k? ev\/s, [\d.]+ MB\/s\), reconnects \d+, engine (wasm|js)\nlast event id: 5000\n/m,
    );
  });

  test.runIf(hasScript)("on a terminal: the live line is cleared before each event, so events and the line never share a line", async () => {
    // Events arrive slowly, between redraws of the live line.
    const s = await serve((_req, res, n) => {
      if (n > 1) return void res.writeHead(204).end();
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("retry: 10\n");
      let i = 0;
      const t = setInterval(() => {
        res.write(`id: ${++i}\ndata: e${i}\n\n`);
        if (i === 6) {
          clearInterval(t);
          res.end();
        }
      }, 120);
      res.on("close", () => clearInterval(t));
    });
    const r = await runInTerminal([s.url, "--stats", "--stats-interval", "20ms"]);
    expect(r.code).toBe(0);
    const eventLines = r.output.split("\n").filter((l) => l.includes('{"type"'));
    expect(eventLines).toHaveLength(6);
    for (const line of eventLines) {
      // What the terminal shows of this line: the text after the last carriage return.
      const before = line.slice(0, line.indexOf('{"type"'));
      expect(before.slice(before.lastIndexOf("\r") + 1)).toMatch(/^(\x1b\[K)?$/);
    }
    expect(r.output).toMatch(/ev\/s/); // the live line was drawn
    expect(r.output).toMatch(/summary: 6 events, /);
  });
});
