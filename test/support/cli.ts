// What the CLI tests share: the built command (dist/cli.js) run as a child process, and
// servers on 127.0.0.1 for it to read (plain, TLS, a forward proxy).
//
// dist is shared with other builds and tests running concurrently, so each test file runs a
// private copy of dist's ESM files (cli.js imports the library build beside it, ./index.js,
// which imports ./parser.js) when they are newer than the sources. When they are not, one
// fresh build with the project's tsup config is made into a temporary directory, shared by
// every CLI test file of the run (the first to get there builds, the others wait for it):
// dist is never cleaned or rewritten under someone else.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
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
import { afterAll, beforeAll } from "vitest";

export const ROOT = resolve(import.meta.dirname, "..", "..");
const FILES = ["cli.js", "index.js", "parser.js", "parser-wasm.js", "nats.js"];

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A build of the current sources in a temporary directory, made once per change of them. */
async function sharedBuild(sources: number): Promise<string> {
  const prefix = `esw-cli-build-${createHash("sha1").update(ROOT).digest("hex").slice(0, 8)}-`;
  const dir = join(tmpdir(), `${prefix}${Math.floor(sources)}`);
  const done = join(dir, "done");
  let building = false;
  try {
    mkdirSync(dir); // atomic: the one file that makes it builds
    building = true;
  } catch {
    // another file is building it, or has built it
  }
  if (building) {
    // Builds of sources since changed are of no use to anyone.
    for (const old of readdirSync(tmpdir())) {
      if (old.startsWith(prefix) && join(tmpdir(), old) !== dir) rmSync(join(tmpdir(), old), { recursive: true, force: true });
    }
    const build = spawnSync("npx", ["tsup", "--no-dts", "--out-dir", dir], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    if (build.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`building the package failed:\n${build.stdout}\n${build.stderr}`);
    }
    writeFileSync(done, "");
  }
  for (let waited = 0; !existsSync(done); waited += 200) {
    if (waited > 150_000 || !existsSync(dir)) throw new Error(`the shared CLI build in ${dir} did not finish`);
    await sleep(200);
  }
  return dir;
}

/** Copies the built command into `tmp`; returns the path of its cli.js. */
async function installCli(tmp: string): Promise<string> {
  if (process.env.EVENTSOURCE_WASM_CLI) return process.env.EVENTSOURCE_WASM_CLI;
  // The copy lives outside the package: its own package.json makes its .js files ESM.
  writeFileSync(join(tmp, "package.json"), '{ "type": "module" }\n');
  const distCli = join(ROOT, "dist", "cli.js");
  const sources = Math.max(newestMtime(join(ROOT, "src")), statSync(join(ROOT, "package.json")).mtimeMs);
  const from = existsSync(distCli) && statSync(distCli).mtimeMs >= sources ? join(ROOT, "dist") : await sharedBuild(sources);
  // Another build may be cleaning dist right now: retry the copy for a while.
  for (let i = 0; ; i++) {
    try {
      for (const f of FILES) copyFileSync(join(from, f), join(tmp, f));
      if (FILES.every((f) => readFileSync(join(tmp, f), "utf8").length > 1000)) break;
    } catch (error) {
      if (i >= 100) throw error;
    }
    await sleep(200);
  }
  return join(tmp, "cli.js");
}

/**
 * Sets up a test file: the command in a temporary directory before its tests, and every
 * server its tests started closed after them (tests may run concurrently, so not after each).
 */
export function useCli(): { readonly path: string; readonly tmp: string } {
  const state = { path: "", tmp: "" };
  beforeAll(async () => {
    state.tmp = mkdtempSync(join(tmpdir(), "esw-cli-test-"));
    state.path = await installCli(state.tmp);
    cliPath = state.path;
  }, 150_000);
  afterAll(async () => {
    await Promise.all(cleanups.splice(0).map((c) => c()));
    if (state.tmp) rmSync(state.tmp, { recursive: true, force: true });
  });
  return state;
}

let cliPath = "";
const cleanups: (() => Promise<void>)[] = [];

/** Closes `close` when the test file ends. */
export function closeLater(close: () => Promise<void>): void {
  cleanups.push(close);
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
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
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
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

/** `node cli.js ...args` to its end (killed after `timeoutMs`). */
export function runCli(args: string[], { timeoutMs = 15_000, onStdout, onStderr, env, input }: RunOptions = {}): Promise<RunResult> {
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

/** Runs the CLI in a pseudo-terminal (util-linux `script`); the transcript is what the terminal got. */
export function runInTerminal(
  args: string[],
  {
    env = {},
    onOutput,
    timeoutMs = 15_000,
  }: { env?: Record<string, string | undefined>; onOutput?: (text: string, send: (s: string) => void) => void; timeoutMs?: number } = {},
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

export const hasScript = spawnSync("script", ["--version"], { encoding: "utf8" }).status === 0;

export interface Recorded {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

/** A server whose handler sees each request (with its body read) and the request number. */
export async function serve(handler: Handler): Promise<{ url: string; requests: Recorded[] }> {
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
  closeLater(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `http://127.0.0.1:${port}/`, requests };
}

/** Sends `body` on the first request, then 204 (the spec's "don't reconnect"). */
export function once(body: string): Handler {
  return (_req, res, n) => {
    if (n > 1) return void res.writeHead(204).end();
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.end(body);
  };
}

export const TLS_DIR = join(ROOT, "test", "fixtures", "tls");
export const CERT = join(TLS_DIR, "cert.pem");

/** A local HTTPS server with the test certificate (self-signed, for 127.0.0.1). */
export async function serveTls(handler: Handler) {
  let n = 0;
  const server = createHttpsServer({ key: readFileSync(join(TLS_DIR, "key.pem")), cert: readFileSync(CERT) }, (req, res) =>
    handler(req, res, ++n),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  closeLater(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `https://127.0.0.1:${port}/`, port, requests: () => n };
}

/**
 * A forward proxy on 127.0.0.1 that records what it is asked: absolute-form requests (plain
 * http) are forwarded, CONNECT opens a tunnel. It only ever connects to 127.0.0.1.
 */
export async function startProxy() {
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
  closeLater(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${port}`, seen };
}

/** The data of each NDJSON line. */
export const dataOf = (stdout: string): string[] =>
  stdout
    .trimEnd()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l).data);

/** The stderr lines a run that printed events with ids ends with (resume.ts). */
export const RESUME_LINES = /last event id: .*\nresume with: eventsource-wasm --last-event-id .*\n$/;
