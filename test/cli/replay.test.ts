// `eventsource-wasm replay`, run in process (runReplay / serveRecording): record a node:http
// server on 127.0.0.1, replay the file, and compare what clients get from the two.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request, type IncomingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { EventSource } from "../../src/index.js";
import { runRecord } from "../../src/cli/record.js";
import { readRecording, RecordingWriter, type RecordingHeader } from "../../src/cli/recording.js";
import { runReplay, serveRecording, type ReplayServer } from "../../src/cli/replay.js";
import { closeAllServers, sse, startServer } from "../support/server.js";
import { commandIo, type SimpleEvent, WRITES, WRITES_EVENTS, writeSlowly } from "../support/recorded-feed.js";

let dir = "";
let recorded = "";
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "esw-replay-"));
  // One recording of a real server for the tests below: WRITES, 40 ms apart.
  const server = await startServer((_req, res) => {
    sse(res, { "x-feed": "prices" });
    writeSlowly(res, WRITES, 40);
  });
  recorded = join(dir, "feed.sse.rec");
  const code = await runRecord([server.url, "-o", recorded], commandIo().io);
  await server.close();
  if (code !== 0) throw new Error(`recording failed: ${code}`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const replays: ReplayServer[] = [];
afterEach(async () => {
  await Promise.all(replays.splice(0).map((r) => r.close()));
  await closeAllServers();
});

async function serve(file: string, options: Partial<{ speed: number; loop: boolean }> = {}): Promise<ReplayServer> {
  const r = await serveRecording(readRecording(file), { port: 0, speed: 1, loop: false, ...options });
  replays.push(r);
  return r;
}

/** The first `n` events an EventSource gets from `url` (every type). */
async function events(url: string, n: number): Promise<SimpleEvent[]> {
  const source = new EventSource(url);
  const got: SimpleEvent[] = [];
  try {
    for await (const e of source.events()) {
      got.push({ type: e.type, data: String(e.data), lastEventId: e.lastEventId });
      if (got.length === n) break;
    }
  } finally {
    source.close();
  }
  return got;
}

/**
 * One raw GET: the status, the headers and each body chunk with its time since the request
 * was sent (before the server's clock starts: a chunk can then be late, never early).
 */
function rawGet(url: string): Promise<{ status: number; headers: IncomingHttpHeaders; chunks: { at: number; bytes: Buffer }[] }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    request(url, (res) => {
      const chunks: { at: number; bytes: Buffer }[] = [];
      res.on("data", (bytes: Buffer) => chunks.push({ at: performance.now() - start, bytes }));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, chunks }));
      res.on("error", reject);
    })
      .on("error", reject)
      .end();
  });
}

const HEADER: RecordingHeader = {
  url: "http://127.0.0.1:1/",
  recordedAt: "2026-12-07T04:00:00.000Z",
  status: 200,
  statusText: "OK",
  headers: [["content-type", "text/event-stream"]],
};

function writeRecording(name: string, frames: [number, string][], end?: number): string {
  const file = join(dir, name);
  const w = new RecordingWriter(file, HEADER);
  for (const [at, text] of frames) w.frame(at, Buffer.from(text));
  if (end !== undefined) w.end(end, "eof");
  w.close();
  return file;
}

describe("replay", () => {
  test("an EventSource gets from the replay the events it got from the recorded server, in order", async () => {
    const original = await startServer((_req, res) => {
      sse(res);
      writeSlowly(res, WRITES, 5);
    });
    const fromServer = await events(original.url, WRITES_EVENTS.length);
    expect(fromServer).toEqual(WRITES_EVENTS);
    const replay = await serve(recorded, { speed: 4 });
    expect(await events(replay.url, WRITES_EVENTS.length)).toEqual(fromServer);
  });

  test("sends the recorded status and headers, and each recorded chunk as one chunk, at its time", async () => {
    const rec = readRecording(recorded);
    const replay = await serve(recorded);
    const got = await rawGet(replay.url);
    expect(got.status).toBe(200);
    expect(got.headers["content-type"]).toBe("text/event-stream");
    expect(got.headers["x-feed"]).toBe("prices");
    expect(got.headers["transfer-encoding"]).toBe("chunked");
    expect(got.chunks.map((c) => c.bytes.toString("hex"))).toEqual(rec.frames.map((f) => Buffer.from(f.bytes).toString("hex")));
    got.chunks.forEach((c, i) => expect(c.at, `chunk ${i}`).toBeGreaterThanOrEqual(rec.frames[i]!.at));
  });

  test("sends the headers at once, before the first chunk is due", async () => {
    const file = writeRecording("late.sse.rec", [[400, "data: late\n\n"]]);
    const replay = await serve(file);
    const start = performance.now();
    const { headersAt, dataAt } = await new Promise<{ headersAt: number; dataAt: number }>((resolve, reject) => {
      request(replay.url, (res) => {
        const headersAt = performance.now() - start;
        res.once("data", () => resolve({ headersAt, dataAt: performance.now() - start }));
      })
        .on("error", reject)
        .end();
    });
    expect(dataAt).toBeGreaterThanOrEqual(400);
    expect(dataAt - headersAt).toBeGreaterThan(200);
  });

  test("--speed scales the times; --as-fast-as-possible does not wait", async () => {
    // Three chunks a second apart, then the end two seconds later.
    const file = writeRecording("slow.sse.rec", [[0, "data: a\n\n"], [1000, "data: b\n\n"], [2000, "data: c\n\n"]], 4000);
    const fast = await serve(file, { speed: 10 });
    const started = performance.now();
    const got = await rawGet(fast.url);
    expect(got.chunks.map((c) => c.bytes.toString())).toEqual(["data: a\n\n", "data: b\n\n", "data: c\n\n"]);
    expect(got.chunks[1]!.at).toBeGreaterThanOrEqual(100);
    expect(got.chunks[2]!.at).toBeGreaterThanOrEqual(200);
    // The response ends at the end record's time, scaled (unscaled would be 4 s).
    expect(performance.now() - started).toBeGreaterThanOrEqual(400);
    expect(performance.now() - started).toBeLessThan(3000);

    const asap = await serve(file, { speed: Infinity });
    const t0 = performance.now();
    const all = await rawGet(asap.url);
    expect(Buffer.concat(all.chunks.map((c) => c.bytes)).toString()).toBe("data: a\n\ndata: b\n\ndata: c\n\n");
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  test("--loop plays the recording again on the same connection, its BOM the first time only", async () => {
    const file = writeRecording("loop.sse.rec", [[0, "\uFEFFdata: a\n\n"], [1, "data: b\n\n"]], 2);
    const replay = await serve(file, { loop: true });
    const got = await events(replay.url, 7);
    expect(got.map((e) => e.data)).toEqual(["a", "b", "a", "b", "a", "b", "a"]);
    // All on one response (a client reconnecting to a replay that ended would see the same).
    const once = "data: a\n\ndata: b\n\n";
    const body = await new Promise<string>((resolve, reject) => {
      request(replay.url, (res) => {
        let text = "";
        res.setEncoding("latin1");
        res.on("data", (s: string) => {
          text += s;
          if (text.length >= 3 + once.length * 3) {
            res.destroy();
            resolve(text.slice(0, 3 + once.length * 3));
          }
        });
      })
        .on("error", reject)
        .end();
    });
    expect(body).toBe(`\xef\xbb\xbf${once}${once}${once}`);
  });

  test("leaves out the headers of the recorded body's coding and framing (the body was stored decoded)", async () => {
    const file = join(dir, "gzip.sse.rec");
    const w = new RecordingWriter(file, {
      ...HEADER,
      headers: [
        ["content-type", "text/event-stream"],
        ["content-encoding", "gzip"],
        ["content-length", "12345"],
        ["transfer-encoding", "chunked"],
        ["connection", "keep-alive"],
        ["keep-alive", "timeout=5"],
        ["set-cookie", "a=1"],
        ["set-cookie", "b=2"],
      ],
    });
    w.frame(0, Buffer.from("data: plain\n\n"));
    w.close();
    const replay = await serve(file);
    const got = await rawGet(replay.url);
    expect(got.headers["content-encoding"]).toBeUndefined();
    expect(got.headers["content-length"]).toBeUndefined();
    expect(got.headers["set-cookie"]).toEqual(["a=1", "b=2"]);
    expect(Buffer.concat(got.chunks.map((c) => c.bytes)).toString()).toBe("data: plain\n\n");
  });

  test("each connection gets the recording from the start", async () => {
    const replay = await serve(recorded, { speed: 8 });
    const [a, b] = await Promise.all([rawGet(replay.url), rawGet(`${replay.url}any/path?x=1`)]);
    const whole = Buffer.concat(WRITES).toString("hex");
    expect(Buffer.concat(a.chunks.map((c) => c.bytes)).toString("hex")).toBe(whole);
    expect(Buffer.concat(b.chunks.map((c) => c.bytes)).toString("hex")).toBe(whole);
  });

  test("a recording cut short replays up to its last whole frame", async () => {
    const whole = readFileSync(recorded);
    // Cut in the middle of the last frame's bytes.
    const lastLine = whole.lastIndexOf(Buffer.from(` ${WRITES.at(-1)!.length}\n`));
    const cut = join(dir, "cut.sse.rec");
    writeFileSync(cut, whole.subarray(0, lastLine + 10));
    const t = commandIo();
    const exit = runReplay([cut, "--as-fast-as-possible"], t.io);
    await expect.poll(() => t.stdout).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\n$/);
    expect(t.stderr).toMatch(/cut short at byte \d+ .*replaying the 5 whole chunks before it/);
    const got = await rawGet(t.stdout.trim());
    expect(Buffer.concat(got.chunks.map((c) => c.bytes)).toString("hex")).toBe(Buffer.concat(WRITES.slice(0, -1)).toString("hex"));
    t.signals.emit("SIGINT");
    expect(await exit).toBe(130);
  });

  test("SIGTERM stops the server: exit 143, the port closed", async () => {
    const t = commandIo();
    const exit = runReplay([recorded, "--loop", "--speed", "100"], t.io);
    await expect.poll(() => t.stdout).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\n$/);
    const url = t.stdout.trim();
    // A client mid-stream does not keep it alive.
    const pending = rawGet(url).catch((error: Error) => error);
    await new Promise((r) => setTimeout(r, 50));
    t.signals.emit("SIGTERM");
    expect(await exit).toBe(143);
    await pending;
    await expect(rawGet(url)).rejects.toThrow(/ECONNREFUSED/);
  });

  describe("fails clearly", () => {
    test.each([
      ["no file", [], 2, /missing <file>/],
      ["a file that does not exist", ["/nonexistent/feed.sse.rec"], 2, /cannot read \/nonexistent\/feed\.sse\.rec: ENOENT/],
      ["--speed with --as-fast-as-possible", ["x.rec", "--speed", "2", "--as-fast-as-possible"], 2, /exclude each other/],
      ["a bad --speed", ["x.rec", "--speed", "0"], 2, /--speed/],
      ["a bad --port", ["x.rec", "--port", "70000"], 2, /--port/],
    ])("%s", async (_name, argv, status, message) => {
      const t = commandIo();
      expect(await runReplay(argv, t.io)).toBe(status);
      expect(t.stderr).toMatch(message);
      expect(t.stdout).toBe("");
    });

    test("a file that is not a recording: exit 2", async () => {
      const bad = join(dir, "bad.sse.rec");
      writeFileSync(bad, "data: not a recording\n\n");
      const t = commandIo();
      expect(await runReplay([bad], t.io)).toBe(2);
      expect(t.stderr).toBe(`error: ${bad}: not a recording (it does not start with "eventsource-wasm recording v1")\n`);
    });

    test("a port in use: exit 1", async () => {
      const busy = await startServer(() => {});
      const t = commandIo();
      expect(await runReplay([recorded, "--port", String(busy.port)], t.io)).toBe(1);
      expect(t.stderr).toBe(`error: cannot listen on 127.0.0.1:${busy.port}: address already in use (EADDRINUSE)\n`);
    });
  });
});
