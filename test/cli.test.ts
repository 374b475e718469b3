// The built CLI (dist/cli.js), run as a child process against node:http servers on
// 127.0.0.1 started here. dist is shared with other builds and tests running concurrently,
// so the tests run a private copy: dist's ESM files (cli.js imports the library build beside
// it, ./index.js, which imports ./parser.js) when they are newer than the sources, else a
// fresh build with the project's tsup config into a temporary directory (never cleaning or
// rewriting dist under someone else).
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { createParser } from "../src/parser/index.js";
import { startFeedServer, tickData, type FeedServer } from "../examples/feed-server.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const DIST_CLI = join(ROOT, "dist", "cli.js");
let cliPath = "";
let tmp = "";

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function isStale(): boolean {
  if (!existsSync(DIST_CLI)) return true;
  const sources = Math.max(newestMtime(join(ROOT, "src")), statSync(join(ROOT, "package.json")).mtimeMs);
  return statSync(DIST_CLI).mtimeMs < sources;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "esw-cli-test-"));
  if (process.env.EVENTSOURCE_WASM_CLI) {
    cliPath = process.env.EVENTSOURCE_WASM_CLI;
    return;
  }
  // The copy lives outside the package: its own package.json makes its .js files ESM.
  writeFileSync(join(tmp, "package.json"), '{ "type": "module" }\n');
  cliPath = join(tmp, "cli.js");
  const files = ["cli.js", "index.js", "parser.js"];
  if (isStale()) {
    const out = join(tmp, "build");
    const build = spawnSync("npx", ["tsup", "--no-dts", "--out-dir", out], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 120_000,
    });
    if (build.status !== 0) throw new Error(`building the package failed:\n${build.stdout}\n${build.stderr}`);
    for (const f of files) copyFileSync(join(out, f), join(tmp, f));
    return;
  }
  // Another build may be cleaning dist right now: retry the copy for a while.
  for (let i = 0; ; i++) {
    try {
      for (const f of files) copyFileSync(join(ROOT, "dist", f), join(tmp, f));
      if (files.every((f) => readFileSync(join(tmp, f), "utf8").length > 1000)) break;
    } catch (error) {
      if (i >= 100) throw error;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}, 150_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  timeoutMs?: number;
  /** Called with the child once started (to send signals, close stdout...). */
  onStdout?: (text: string, child: ReturnType<typeof spawn>) => void;
}

function runCli(args: string[], { timeoutMs = 15_000, onStdout }: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [cliPath, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (c: string) => {
      stdout += c;
      onStdout?.(stdout, child);
    });
    child.stdout.on("error", () => {});
    child.stderr.on("data", (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

interface Recorded {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A server whose handler sees each request (with its body read) and the request number. */
async function serve(
  handler: (req: IncomingMessage, res: ServerResponse, n: number) => void,
): Promise<{ url: string; requests: Recorded[]; close(): Promise<void> }> {
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      handler(req, res, requests.length);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  const s = {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
  cleanups.push(s.close);
  return s;
}

/** Sends `body` on the first request, then 204 (the spec's "don't reconnect"). */
function once(body: string) {
  return (_req: IncomingMessage, res: ServerResponse, n: number) => {
    if (n > 1) return void res.writeHead(204).end();
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.end(body);
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

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

describe("eventsource-wasm CLI", () => {
  // Every engine: the CLI is also an end-to-end check of the parser under it.
  test.each(ENGINES)("prints every event, named ones included, as exact NDJSON; 204 ends it with 0 (--engine %s)", async (engine) => {
    const s = await serve(once(STREAM));
    const r = await runCli([s.url, "--engine", engine]);
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

  test("--event filters by type (repeatable), in stream order", async () => {
    const s = await serve(once(STREAM));
    const r = await runCli([s.url, "--event", "other", "-e", "greet"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l).type)).toEqual(["greet", "other"]);
    const m = await runCli([(await serve(once(STREAM))).url, "--event", "message"]);
    expect(m.stdout.trimEnd().split("\n").map((l) => JSON.parse(l).data)).toEqual(["hello", expect.stringContaining("quote"), "id reset"]);
  });

  test("-H headers and --last-event-id reach the server; -X/-d send a method and body", async () => {
    const s = await serve(once("retry: 10\ndata: x\n\n"));
    const r = await runCli([
      s.url,
      "-H",
      "Authorization: Bearer t0ken",
      "--header",
      "X-Trace:  abc: def ",
      "--last-event-id",
      "41",
      "-X",
      "post",
      "-d",
      '{"q":1}',
    ]);
    expect(r.code).toBe(0);
    const first = s.requests[0]!;
    expect(first.headers.authorization).toBe("Bearer t0ken");
    expect(first.headers["x-trace"]).toBe("abc: def");
    expect(first.headers["last-event-id"]).toBe("41");
    expect(first.method).toBe("POST");
    expect(first.body).toBe('{"q":1}');
    // The reconnection (answered with 204) resumes from the stream's own last id.
    expect(s.requests[1]!.headers["last-event-id"]).toBe("41");
  });

  test("--count N exits 0 after exactly N events of an endless stream", async () => {
    const feed = (await startFeedServer({ seed: 5 })) as FeedServer;
    cleanups.push(feed.close);
    const r = await runCli([feed.url, "--count", "1000", "--event", "tick"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(1000);
    expect(JSON.parse(lines[999]!)).toEqual({ type: "tick", data: tickData(1000, 5), id: "1000" });
  });

  test("every seq arrives exactly once across mid-event drops (the demo's check)", async () => {
    const feed = (await startFeedServer({ events: 5000, dropEvery: 1200, retryMs: 5, seed: 2 })) as FeedServer;
    cleanups.push(feed.close);
    const r = await runCli([feed.url, "--stats"]);
    expect(r.code).toBe(0);
    const ids = r.stdout.trimEnd().split("\n").map((l) => Number(JSON.parse(l).id));
    expect(ids).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
    expect(feed.stats.drops).toBe(4);
    expect(r.stderr).toMatch(/^summary: 5,000 events, [\d.]+ MB in [\d.]+ s \([\d.]+k? ev\/s, [\d.]+ MB\/s\), reconnects \d+, engine (wasm|js)\n$/m);
  });

  test("exit 1 with the reason on stderr: HTTP 404", async () => {
    const s = await serve((_req, res) => res.writeHead(404, { "content-type": "text/plain" }).end("nope"));
    const r = await runCli([s.url]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("error: HTTP 404 Not Found\n");
    expect(s.requests).toHaveLength(1); // a bad status is fatal: no reconnection
  });

  test("exit 1 with the reason on stderr: wrong content type", async () => {
    const s = await serve((_req, res) => res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<p>hi"));
    const r = await runCli([s.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("error: expected text/event-stream, got text/html; charset=utf-8\n");
  });

  test("exit 1 after --retries failed reconnections", async () => {
    const s = await serve((req) => req.socket.destroy());
    const r = await runCli([s.url, "--retries", "0"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*\(no reconnection: --retries 0\)\n$/);
  });

  test.each([
    ["an unknown option", ["--bogus", "http://127.0.0.1:1/"], /Unknown option '--bogus'/],
    ["no URL", [], /missing <url>/],
    ["a bad URL", ["not a url"], /invalid URL/],
    ["a non-http URL", ["file:///etc/passwd"], /only http: and https:/],
    ["two URLs", ["http://a/", "http://b/"], /one URL only/],
    ["a bad --engine", ["--engine", "fast", "http://127.0.0.1:1/"], /--engine/],
    ["a bad header", ["-H", "no colon", "http://127.0.0.1:1/"], /invalid header/],
    ["a bad --count", ["--count", "0", "http://127.0.0.1:1/"], /--count/],
    ["a bad --max-event-size", ["--max-event-size", "lots", "http://127.0.0.1:1/"], /--max-event-size/],
    ["a missing option value", ["http://127.0.0.1:1/", "--idle-timeout"], /idle-timeout/],
  ])("exit 2 on bad usage: %s", async (_name, args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^error: .*\nTry 'eventsource-wasm --help' for usage\.\n$/);
  });

  test("--help documents every option and the exit codes; --version prints the version", async () => {
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    for (const opt of [
      "-H, --header",
      "--last-event-id",
      "-e, --event",
      "--pretty",
      "-n, --count",
      "--engine",
      "--max-event-size",
      "--idle-timeout",
      "--retries",
      "-X, --method",
      "-d, --data",
      "--stats",
      "--stats-interval",
      "-v, --verbose",
      "-h, --help",
      "-V, --version",
      "Exit status:",
    ]) {
      expect(help.stdout).toContain(opt);
    }
    const version = await runCli(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout).toBe(`${JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version}\n`);
  });

  test("a reader that goes away (| head) ends it quietly with 0", async () => {
    const feed = (await startFeedServer({})) as FeedServer;
    cleanups.push(feed.close);
    let closed = false;
    const r = await runCli([feed.url], {
      onStdout: (_text, child) => {
        if (!closed) {
          closed = true;
          child.stdout!.destroy();
        }
      },
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
  });

  test("SIGTERM is a clean stop: output flushed, exit 0", async () => {
    const feed = (await startFeedServer({ rate: 200 })) as FeedServer;
    cleanups.push(feed.close);
    let sent = false;
    const r = await runCli([feed.url], {
      onStdout: (text, child) => {
        if (!sent && text.split("\n").length > 5) {
          sent = true;
          child.kill("SIGTERM");
        }
      },
    });
    expect(r.code).toBe(0);
    expect(r.stdout.endsWith("}\n")).toBe(true);
    const ids = r.stdout.trimEnd().split("\n").map((l) => Number(JSON.parse(l).id));
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
  });

  test("--idle-timeout reconnects a silent connection (with Last-Event-ID); -v says so", async () => {
    const s = await serve((_req, res, n) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(`retry: 10\nid: ${n}\ndata: event ${n}\n\n`); // then silence, connection open
    });
    const r = await runCli([s.url, "--idle-timeout", "300ms", "--count", "2", "-v"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l).data)).toEqual(["event 1", "event 2"]);
    expect(r.stderr).toMatch(/warning: no data received for 300 ms; reconnecting/);
    expect(s.requests[1]!.headers["last-event-id"]).toBe("1");
  });

  // `npm start` is examples/demo.mjs on the built CLI: the same, smaller.
  test.each([
    ["to the end", ["--events", "20000", "--drop-every", "6000"], /events {8}20,000 of 20,000\n/],
    ["stopped by its time limit", ["--events", "100000", "--rate", "2000", "--seconds", "0.6"], /\(stopped early\)/],
  ])("the demo runs %s and checks exactly-once delivery", async (_name, args, expected) => {
    const r = await new Promise<RunResult>((done) => {
      const child = spawn(process.execPath, [join(ROOT, "examples", "demo.mjs"), ...args], {
        env: { ...process.env, EVENTSOURCE_WASM_CLI: cliPath },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c) => (stdout += c));
      child.stderr.on("data", (c) => (stderr += c));
      child.on("close", (code, signal) => done({ code, signal, stdout, stderr }));
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(expected);
    expect(r.stdout).toMatch(/exactly once {2}yes: every seq 1\.\.[\d,]+ arrived once/);
    expect(r.stdout).toMatch(/engine {8}(wasm|js)\n/);
  });

  test("--max-event-size skips a larger event with a warning, and the stream goes on", async () => {
    const s = await serve(once(`retry: 10\ndata: small\n\ndata: ${"x".repeat(5000)}\n\ndata: after\n\n`));
    const r = await runCli([s.url, "--max-event-size", "1k"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l).data)).toEqual(["small", "after"]);
    expect(r.stderr).toMatch(/^warning: .*maxEventSize.*\n$/);
  });
});
