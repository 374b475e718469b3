// signals.ts: SIGINT and SIGTERM as exit statuses, in process; and, through the built
// command, real signals and a real Ctrl-C on a terminal.
import { EventEmitter } from "node:events";
import { describe, expect, test } from "vitest";
import { onStopSignal } from "../../src/cli/signals.js";
import { closeLater, hasScript, runCli, runInTerminal, serve, useCli } from "../support/cli.js";
import { startFeedServer, type FeedServer } from "../../examples/feed-server.mjs";

useCli();

describe("onStopSignal", () => {
  test.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("%s stops with %i, once, whatever comes after", (signal, status) => {
    const target = new EventEmitter();
    const stops: number[] = [];
    onStopSignal((s) => stops.push(s), target);
    target.emit(signal);
    target.emit("SIGINT");
    target.emit("SIGTERM");
    expect(stops).toEqual([status]);
  });

  test("the second of one signal is left to its default (a stuck stop can be forced)", () => {
    const target = new EventEmitter();
    onStopSignal(() => {}, target);
    target.emit("SIGINT");
    expect(target.listenerCount("SIGINT")).toBe(0);
  });

  test("the function it returns stops listening, on the real process too", () => {
    const before = [process.listenerCount("SIGINT"), process.listenerCount("SIGTERM")];
    const stops: number[] = [];
    const off = onStopSignal((s) => stops.push(s));
    expect([process.listenerCount("SIGINT"), process.listenerCount("SIGTERM")]).toEqual([before[0]! + 1, before[1]! + 1]);
    off();
    expect([process.listenerCount("SIGINT"), process.listenerCount("SIGTERM")]).toEqual(before);
    expect(stops).toEqual([]);
  });
});

describe.concurrent("the built command, stopped by a signal", () => {
  test.each([
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const)("%s stops it with output flushed, exit %i, and says where to resume", async (signal, status) => {
    const feed = (await startFeedServer({ rate: 200 })) as FeedServer;
    closeLater(feed.close);
    let sent = false;
    const r = await runCli([feed.url, "-e", "tick"], {
      onStdout: (text, child) => {
        if (!sent && text.split("\n").length > 5) {
          sent = true;
          child.kill(signal);
        }
      },
    });
    expect(r.code).toBe(status);
    expect(r.stdout.endsWith("}\n")).toBe(true);
    const ids = r.stdout.trimEnd().split("\n").map((l) => Number(JSON.parse(l).id));
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
    // The id of the last event printed, not of the last one read.
    expect(r.stderr).toBe(`last event id: ${ids.at(-1)}\nresume with: eventsource-wasm --last-event-id ${ids.at(-1)} ${feed.url} -e tick\n`);
  });

  test.runIf(hasScript)("Ctrl-C on a terminal exits 130, with the events read so far printed", async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("id: 1\ndata: first\n\n"); // then nothing: the stream stays open
    });
    let sent = false;
    const r = await runInTerminal([s.url], {
      onOutput: (text, send) => {
        if (!sent && text.includes('"first"')) {
          sent = true;
          send("\x03");
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    expect(r.output).toContain('{"type":"message","data":"first","id":"1"}');
  });
});
