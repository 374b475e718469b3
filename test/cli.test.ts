// The built CLI (dist/cli.js), run as a child process against node:http servers on
// 127.0.0.1 started here. dist is shared with other builds and tests running concurrently,
// so the tests run a private copy: dist's ESM files (cli.js imports the library build beside
// it, ./index.js, which imports ./parser.js) when they are newer than the sources, else a
// fresh build with the project's tsup config into a temporary directory (never cleaning or
// rewriting dist under someone else).
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect, type Socket } from "node:net";
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
  onStderr?: (text: string, child: ReturnType<typeof spawn>) => void;
  /** Environment variables to add (undefined: remove). */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed (default: no stdin). */
  input?: string;
}

/** The environment of the tests' process without proxy or colour settings of its own. */
function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(https?_proxy|all_proxy|no_proxy|no_color|force_color)$/i.test(k)) delete env[k];
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

function runCli(args: string[], { timeoutMs = 15_000, onStdout, onStderr, env, input }: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      env: cleanEnv(env),
    });
    if (input !== undefined) child.stdin!.end(input);
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    child.stdout!.on("data", (c: string) => {
      stdout += c;
      onStdout?.(stdout, child);
    });
    child.stdout!.on("error", () => {});
    child.stderr!.on("data", (c: string) => {
      stderr += c;
      onStderr?.(stderr, child);
    });
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

  test("exit 3 with the reason on stderr: HTTP 404", async () => {
    const s = await serve((_req, res) => res.writeHead(404, { "content-type": "text/plain" }).end("nope"));
    const r = await runCli([s.url]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("error: HTTP 404 Not Found\n");
    expect(s.requests).toHaveLength(1); // a bad status is fatal: no reconnection
  });

  test("exit 4 with the reason on stderr: wrong content type", async () => {
    const s = await serve((_req, res) => res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<p>hi"));
    const r = await runCli([s.url]);
    expect(r.code).toBe(4);
    expect(r.stderr).toBe("error: expected text/event-stream, got text/html; charset=utf-8\n");
  });

  test("exit 5 after --retries failed reconnections", async () => {
    const s = await serve((req) => req.socket.destroy());
    const r = await runCli([s.url, "--retries", "0"]);
    expect(r.code).toBe(5);
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
      "-k, --insecure",
      "--cacert",
      "-x, --proxy",
      "--no-color",
      "-q, --quiet",
      "--stats",
      "--stats-interval",
      "-v, --verbose",
      "-h, --help",
      "-V, --version",
      "Exit status",
    ]) {
      expect(help.stdout).toContain(opt);
    }
    // Every exit status the command uses is listed.
    for (const code of [0, 1, 2, 3, 4, 5, 6, 7, 130, 143]) expect(help.stdout).toMatch(new RegExp(`^ {2}${code} `, "m"));
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

  test.each([
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const)("%s stops it with output flushed, exit %i", async (signal, status) => {
    const feed = (await startFeedServer({ rate: 200 })) as FeedServer;
    cleanups.push(feed.close);
    let sent = false;
    const r = await runCli([feed.url], {
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
  });

  test("--idle-timeout reconnects a silent connection (with Last-Event-ID); -v says so", async () => {
    const s = await serve((_req, res, n) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(`retry: 10\nid: ${n}\ndata: event ${n}\n\n`); // then silence, connection open
    });
    const r = await runCli([s.url, "--idle-timeout", "300ms", "--count", "2", "-v"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l).data)).toEqual(["event 1", "event 2"]);
    expect(r.stderr).toMatch(/warning: no data received for 300 ms; retrying in 10 ms \(attempt 1, Last-Event-ID "1"\)/);
    expect(s.requests[1]!.headers["last-event-id"]).toBe("1");
  });

  // `npm start` is examples/demo.mjs on the built CLI: the same, smaller.
  test.each([
    ["to the end", ["--events", "20000", "--drop-every", "6000"], /events {8}20,000 of 20,000\n/],
    ["stopped by its time limit", ["--events", "100000", "--rate", "2000", "--seconds", "2"], /\(stopped early\)/],
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

// ---------------------------------------------------------------------------------------
// Failures, exit codes, TLS, proxies, input; and behaviour on a real terminal (`script`).

const TLS_DIR = join(ROOT, "test", "fixtures", "tls");
const CERT = join(TLS_DIR, "cert.pem");

/** A local HTTPS server with the test certificate (self-signed, for 127.0.0.1). */
async function serveTls(handler: (req: IncomingMessage, res: ServerResponse, n: number) => void) {
  let n = 0;
  const server = createHttpsServer({ key: readFileSync(join(TLS_DIR, "key.pem")), cert: readFileSync(CERT) }, (req, res) =>
    handler(req, res, ++n),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  const close = () => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  };
  cleanups.push(close);
  return { url: `https://127.0.0.1:${port}/`, port, requests: () => n };
}

/**
 * A forward proxy on 127.0.0.1 that records what it is asked: absolute-form requests (plain
 * http) are forwarded, CONNECT opens a tunnel. It only ever connects to 127.0.0.1.
 */
async function startProxy() {
  const seen: { method: string; target: string; auth: string | undefined }[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    seen.push({ method: req.method!, target: req.url!, auth: req.headers["proxy-authorization"] });
    const target = new URL(req.url!);
    if (target.hostname !== "127.0.0.1") return void res.writeHead(403).end();
    const headers = { ...req.headers };
    delete headers["proxy-authorization"];
    const upstream = httpRequest(
      { host: "127.0.0.1", port: target.port, path: target.pathname + target.search, method: req.method, headers },
      (up) => {
        res.writeHead(up.statusCode!, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
    seen.push({ method: "CONNECT", target: req.url!, auth: req.headers["proxy-authorization"] });
    const [host, port] = req.url!.split(":");
    if (host !== "127.0.0.1") return void client.end("HTTP/1.1 403 Forbidden\r\n\r\n");
    const upstream = connect(Number(port), "127.0.0.1", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${port}`, seen };
}

const dataOf = (stdout: string) => stdout.trimEnd().split("\n").filter(Boolean).map((l) => JSON.parse(l).data);

describe("eventsource-wasm CLI: failures and exit codes", () => {
  // Request 1 opens and ends (routine); then "socket hang up" three times, an idle timeout
  // twice, "socket hang up" again, and a 204 that ends the run.
  const outage = (req: IncomingMessage, res: ServerResponse, n: number) => {
    if (n === 1) {
      res.writeHead(200, { "content-type": "text/event-stream" });
      return void res.end("retry: 10\nid: 1\ndata: a\n\n");
    }
    if (n <= 4 || n === 7) return void req.socket.destroy();
    if (n <= 6) return; // no answer: the idle timeout
    res.writeHead(204).end();
  };

  test("every failed attempt is reported by default, once per change of reason, with the delay, attempt and Last-Event-ID", async () => {
    const s = await serve(outage);
    const r = await runCli([s.url, "--idle-timeout", "300ms"]);
    expect(r.code).toBe(0);
    expect(dataOf(r.stdout)).toEqual(["a"]);
    expect(s.requests).toHaveLength(8);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toEqual([
      expect.stringMatching(/^warning: network error: socket hang up.*; retrying in 10 ms \(attempt 2, Last-Event-ID "1"\)$/),
      'warning: no data received for 300 ms; retrying in 10 ms (attempt 5, Last-Event-ID "1")',
      expect.stringMatching(/^warning: network error: socket hang up.*; retrying in 10 ms \(attempt 7, Last-Event-ID "1"\)$/),
    ]);
  });

  test("-q silences the warnings; -v reports every request, attempt and connection", async () => {
    const quiet = await runCli([(await serve(outage)).url, "--idle-timeout", "300ms", "-q"]);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe("");
    const s = await serve(outage);
    const verbose = await runCli([s.url, "--idle-timeout", "300ms", "-v"]);
    expect(verbose.code).toBe(0);
    const lines = verbose.stderr.trimEnd().split("\n");
    expect(lines.filter((l) => l.startsWith("request: GET "))).toHaveLength(8);
    expect(lines).toContain(`request: GET ${s.url} (Last-Event-ID "1")`);
    expect(lines.filter((l) => /retrying in 10 ms \(attempt \d/.test(l))).toHaveLength(7);
    expect(lines).toContain('the server ended the stream; retrying in 10 ms (attempt 1, Last-Event-ID "1")');
    expect(lines[1]).toMatch(/^connected to http:\/\/127\.0\.0\.1:\d+\/ \(engine (wasm|js)\)$/);
  });

  test("after an outage, the first connection that works is reported", async () => {
    const s = await serve((req, res, n) => {
      if (n === 1) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        return void res.end("retry: 10\ndata: a\n\n");
      }
      if (n <= 3) return void req.socket.destroy();
      once("retry: 10\ndata: b\n\n")(req, res, n - 3);
    });
    const r = await runCli([s.url]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^warning: .*socket hang up.*\nconnected again after 2 failed attempts\n$/);
  });

  test("-v after a redirect names the final URL", async () => {
    const s = await serve((req, res, n) => {
      if (req.url === "/old") return void res.writeHead(302, { location: "/new" }).end();
      once("retry: 10\ndata: x\n\n")(req, res, n - 1);
    });
    const r = await runCli([`${s.url}old`, "-v", "--count", "1"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`connected to ${s.url}new (redirected from ${s.url}old)`);
  });

  test("URL credentials answer a 401 and never show in -v; a non-ASCII Last-Event-ID shows as text", async () => {
    const s = await serve((req, res, n) => {
      if (!req.headers.authorization) return void res.writeHead(401).end();
      once("retry: 10\ndata: in\n\n")(req, res, n - 1);
    });
    const r = await runCli([s.url.replace("http://", "http://me:s3cret@"), "-v", "--last-event-id", "é1"]);
    expect(r.code).toBe(0);
    expect(dataOf(r.stdout)).toEqual(["in"]);
    expect(s.requests.map((q) => q.headers.authorization)).toEqual([undefined, `Basic ${btoa("me:s3cret")}`, `Basic ${btoa("me:s3cret")}`]);
    expect(r.stderr).not.toContain("s3cret");
    expect(r.stderr).toContain(`request: GET ${s.url} (Last-Event-ID "é1")`);
    expect(r.stderr).toContain(`connected to ${s.url} (engine`);
  });

  test("exit 7: a redirect that cannot be followed", async () => {
    const s = await serve((_req, res) => res.writeHead(302, { location: "ftp://127.0.0.1/x" }).end());
    const r = await runCli([s.url]);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/^error: .*ftp:\/\/127\.0\.0\.1\/x.*\n$/);
  });
});

describe("eventsource-wasm CLI: TLS and proxies", () => {
  const stream = once("retry: 10\nid: 3\ndata: over tls\n\n");

  test("exit 6 on a certificate that is not trusted, at once (no retry loop)", async () => {
    const s = await serveTls(stream);
    const r = await runCli([s.url]);
    expect(r.code).toBe(6);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^error: TLS: .*self[- ]signed.*--cacert.*-k.*\n$/i);
  });

  test.each([
    ["-k", ["-k"]],
    ["--cacert", ["--cacert", CERT]],
  ])("%s accepts the local server's certificate", async (_name, flags) => {
    const s = await serveTls(stream);
    const r = await runCli([s.url, ...flags]);
    expect(r.code).toBe(0);
    expect(dataOf(r.stdout)).toEqual(["over tls"]);
    expect(s.requests()).toBe(2); // the stream, then the 204
  });

  test("exit 2 on a --cacert file that cannot be read or holds no certificate", async () => {
    const missing = await runCli(["--cacert", join(tmp, "nope.pem"), "http://127.0.0.1:1/"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: cannot read --cacert .*nope\.pem/);
    const notPem = await runCli(["--cacert", join(ROOT, "package.json"), "http://127.0.0.1:1/"]);
    expect(notPem.code).toBe(2);
    expect(notPem.stderr).toMatch(/no PEM certificate/);
  });

  test("-x: plain http goes to the proxy in absolute form, with Proxy-Authorization from the URL", async () => {
    const proxy = await startProxy();
    const s = await serve(once("retry: 10\ndata: via proxy\n\n"));
    const r = await runCli([s.url, "-x", proxy.url.replace("http://", "http://us%65r:p%40ss@")]);
    expect(r.code).toBe(0);
    expect(dataOf(r.stdout)).toEqual(["via proxy"]);
    expect(proxy.seen[0]).toEqual({
      method: "GET",
      target: s.url,
      auth: `Basic ${Buffer.from("user:p@ss").toString("base64")}`,
    });
    expect(s.requests).toHaveLength(2);
  });

  test("HTTPS_PROXY: https goes through a CONNECT tunnel (the proxy sees host and port only)", async () => {
    const proxy = await startProxy();
    const s = await serveTls(stream);
    const r = await runCli([s.url, "--cacert", CERT], { env: { HTTPS_PROXY: proxy.url } });
    expect(r.code).toBe(0);
    expect(dataOf(r.stdout)).toEqual(["over tls"]);
    expect(proxy.seen.map((x) => `${x.method} ${x.target}`)).toEqual([`CONNECT 127.0.0.1:${s.port}`, `CONNECT 127.0.0.1:${s.port}`]);
  });

  test("HTTP_PROXY is used for http, and NO_PROXY bypasses it", async () => {
    const proxy = await startProxy();
    const s = await serve(once("retry: 10\ndata: a\n\n"));
    const via = await runCli([s.url], { env: { HTTP_PROXY: proxy.url } });
    expect(dataOf(via.stdout)).toEqual(["a"]);
    expect(proxy.seen).toHaveLength(2);
    const s2 = await serve(once("retry: 10\ndata: b\n\n"));
    const direct = await runCli([s2.url, "-x", proxy.url], { env: { NO_PROXY: "example.com, 127.0.0.1" } });
    expect(dataOf(direct.stdout)).toEqual(["b"]);
    expect(proxy.seen).toHaveLength(2);
    expect(s2.requests).toHaveLength(2);
  });
});

describe("eventsource-wasm CLI: input", () => {
  test("-d @file sends the file's bytes; -d @- sends stdin", async () => {
    const file = join(tmp, "body.json");
    writeFileSync(file, '{"from":"file","é":1}');
    const s = await serve(once("retry: 10\ndata: x\n\n"));
    const r = await runCli([s.url, "-X", "POST", "-d", `@${file}`]);
    expect(r.code).toBe(0);
    expect(s.requests[0]!.body).toBe('{"from":"file","é":1}');
    expect(s.requests[0]!.method).toBe("POST");
    const s2 = await serve(once("retry: 10\ndata: y\n\n"));
    const r2 = await runCli([s2.url, "-X", "POST", "-d", "@-"], { input: "from stdin\n" });
    expect(r2.code).toBe(0);
    expect(s2.requests[0]!.body).toBe("from stdin\n");
    const missing = await runCli(["http://127.0.0.1:1/", "-d", `@${join(tmp, "missing")}`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: cannot read --data @.*missing/);
  });

  test("host:port/path without a scheme is http://", async () => {
    const s = await serve(once("retry: 10\ndata: no scheme\n\n"));
    const r = await runCli([`${s.url.replace("http://", "")}feed?x=1`]);
    expect(r.code).toBe(0);
    expect(dataOf(r.stdout)).toEqual(["no scheme"]);
    expect(s.requests[0]!.url).toBe("/feed?x=1");
  });
});

/** Runs the CLI in a pseudo-terminal (util-linux `script`); the transcript is what the terminal got. */
function runInTerminal(
  args: string[],
  { env = {}, onOutput, timeoutMs = 15_000 }: { env?: Record<string, string | undefined>; onOutput?: (text: string, send: (s: string) => void) => void; timeoutMs?: number } = {},
): Promise<{ code: number | null; output: string }> {
  const quote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;
  const command = [process.execPath, cliPath, ...args].map(quote).join(" ");
  return new Promise((done) => {
    const child = spawn("script", ["-q", "-e", "-c", command, "/dev/null"], {
      stdio: ["pipe", "pipe", "pipe"],
      env: cleanEnv({ TERM: "xterm-256color", ...env }),
    });
    let output = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (c: string) => {
      output += c;
      onOutput?.(output, (s) => child.stdin.write(s));
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, output: output.replace(/\r\n/g, "\n") });
    });
  });
}

const hasScript = spawnSync("script", ["--version"], { encoding: "utf8" }).status === 0;

describe.runIf(hasScript)("eventsource-wasm CLI on a terminal", () => {
  test("--stats clears its live line before each event, so events and the line never share a line", async () => {
    // Events arrive slowly, between redraws of the live line.
    const s = await serve((req, res, n) => {
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

  test.each([
    // Node reports no colours under CI=... (tty.hasColors), whatever the terminal.
    ["a colour terminal", { CI: undefined }, [], true],
    ["TERM=dumb", { TERM: "dumb" }, [], false],
    ["NO_COLOR", { NO_COLOR: "1" }, [], false],
    ["--no-color", {}, ["--no-color"], false],
    ["--no-color over FORCE_COLOR", { FORCE_COLOR: "1" }, ["--no-color"], false],
  ] as const)("--pretty colours: %s", async (_name, env, flags, coloured) => {
    const s = await serve(once("retry: 10\nid: 1\ndata: x\n\n"));
    const r = await runInTerminal([s.url, "--pretty", ...flags], { env });
    expect(r.code).toBe(0);
    expect(r.output).toMatch(/message.*#1.*\n {2}x\n/);
    expect(r.output.includes("\x1b[1;36mmessage")).toBe(coloured);
    if (!coloured) expect(r.output).not.toMatch(/\x1b\[\d/);
  });

  test("Ctrl-C exits 130, with the events read so far printed", async () => {
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

test("FORCE_COLOR colours --pretty even into a pipe", async () => {
  const s = await serve(once("retry: 10\ndata: x\n\n"));
  const r = await runCli([s.url, "--pretty"], { env: { FORCE_COLOR: "1" } });
  expect(r.stdout).toContain("\x1b[1;36mmessage");
  const plain = await runCli([(await serve(once("retry: 10\ndata: x\n\n"))).url, "--pretty"]);
  expect(plain.stdout).not.toContain("\x1b[");
});
