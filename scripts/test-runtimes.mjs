// `npm run test:runtimes`: the smoke suite (test/runtimes/suite.ts) against the packed
// package on Node 20, 22, 24 and 26, Bun, Deno (network permission only), workerd on a
// current and an old compatibility date, and headless Chromium (a page and a worker).
// One line per runtime; exits non-zero if any check fails or any runtime cannot run.
// Arguments name the runtimes to run (by prefix: `deno workerd`); none runs them all.
//
// The runtimes come from the npm registry into a cache outside the repository
// (EVENTSOURCE_WASM_RUNTIMES, default ~/.cache/eventsource-wasm-runtimes), installed on the
// first run. Chromium is the system's (/usr/bin/chromium, or CHROMIUM_PATH), driven by
// playwright-core. workerd is the devDependency's (the `workerd` package ships its binary in
// a platform package). Everything talks to one server on 127.0.0.1, started and stopped here.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { build } from "esbuild";
import { installInto, pack, root } from "./pack.mjs";

const cache = process.env.EVENTSOURCE_WASM_RUNTIMES ?? join(homedir(), ".cache", "eventsource-wasm-runtimes");
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Per runtime, for the whole suite: first runs compile the module, on a shared machine. */
const RUNTIME_TIMEOUT_MS = 30_000;

// The runtimes' npm packages ship their binaries: node-<platform>-<arch> is the one the
// `node` package's install script would fetch (install scripts are off by default in npm 11).
const nodePackage = `node-${process.platform}-${process.arch}`;
const only = process.argv.slice(2);
const wanted = (name) => only.length === 0 || only.some((prefix) => name.startsWith(prefix));
const runtimes = [
  ...[20, 22, 24, 26].map((major) => ({
    name: `node${major}`,
    spec: `node${major}@npm:${nodePackage}@${major}`,
    bin: join(cache, "node_modules", `node${major}`, "bin", "node"),
    // Node 22+ has its own EventSource behind a flag: turned on, so that the suite checks
    // ours leaves it alone.
    args: (file) => (major >= 22 ? ["--experimental-eventsource", file] : [file]),
  })),
  { name: "bun", spec: "bun@1", bin: join(cache, "node_modules", ".bin", "bun"), args: (file) => [file] },
  {
    name: "deno",
    spec: "deno@2",
    bin: join(cache, "node_modules", ".bin", "deno"),
    // Only the network, to reach the server: the package must neither need nor ask for env
    // or file access (importing local modules needs no --allow-read).
    args: (file) => ["run", "--quiet", "--allow-net", file],
  },
  {
    // Env access to that one variable only: reading it is allowed, and nothing else the
    // package might read may throw or cost the WASM engine.
    name: "deno --allow-env=EVENTSOURCE_NO_WASM",
    spec: "deno@2",
    bin: join(cache, "node_modules", ".bin", "deno"),
    args: (file) => ["run", "--quiet", "--allow-net", "--allow-env=EVENTSOURCE_NO_WASM", file],
  },
].filter((r) => wanted(r.name));

function sh(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = options.timeout ? setTimeout(() => child.kill("SIGKILL"), options.timeout) : undefined;
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err });
    });
  });
}

async function ensureRuntimes() {
  const missing = runtimes.filter((r) => !existsSync(r.bin));
  if (missing.length === 0) return;
  console.log(`installing ${[...new Set(missing.map((r) => r.spec))].join(", ")} into ${cache}`);
  if (!existsSync(join(cache, "package.json"))) {
    rmSync(cache, { recursive: true, force: true });
    await sh("mkdir", ["-p", cache]);
    writeFileSync(join(cache, "package.json"), '{ "private": true }\n');
  }
  const specs = [...new Set(missing.map((m) => m.spec))];
  const r = await sh("npm", ["install", "--no-audit", "--no-fund", "--prefix", cache, ...specs]);
  if (r.code !== 0) throw new Error(`npm install of the runtimes failed:\n${r.err}`);
}

// --- the server every runtime talks to ----------------------------------------------------

function startServer(pageScript) {
  /** Per key, the first /sse/drop connection's cut. */
  const dropped = new Map();
  const closed = new Map();
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    const key = url.searchParams.get("key") ?? "";
    const sse = () => res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
    switch (url.pathname) {
      case "/":
        res.writeHead(200, { "content-type": "text/html" });
        return res.end('<!doctype html><script type="module" src="/page.js"></script>');
      case "/page.js":
        res.writeHead(200, { "content-type": "text/javascript" });
        return res.end(pageScript);
      case "/sse/echo": {
        let body = "";
        req.setEncoding("utf8");
        req.on("data", (d) => (body += d));
        req.on("end", () => {
          sse();
          const seen = { method: req.method, body, header: req.headers["x-smoke"], accept: req.headers.accept };
          res.write(`data: ${JSON.stringify(seen)}\n\n`);
        });
        return;
      }
      case "/sse/named":
        sse();
        return res.write("event: tick\ndata: 1\n\nevent: tock\ndata: 2\n\ndata: 3\n\n");
      case "/sse/drop":
        sse();
        if (!dropped.has(key)) {
          // The connection is cut, with no end of stream, once the client says it has the
          // first event (/sse/cut): a cut on a timer can come before a loaded browser has
          // read the body, and a fetch body that errors drops what it had queued.
          dropped.set(key, () => req.socket.destroy());
          return res.write("retry: 50\nid: 41\ndata: first\n\n");
        }
        return res.write(`data: last-event-id=${req.headers["last-event-id"]}\n\n`);
      case "/sse/cut":
        dropped.get(key)?.();
        res.writeHead(204);
        return res.end();
      case "/sse/stream": {
        sse();
        closed.set(key, false);
        let n = 0;
        const timer = setInterval(() => res.write(`data: ${n++}\n\n`), 20);
        res.on("close", () => {
          clearInterval(timer);
          closed.set(key, true);
        });
        return;
      }
      case "/closed":
        res.writeHead(200, { "content-type": "text/plain" });
        return res.end(closed.get(key) ? "closed" : "open");
      default:
        res.writeHead(404);
        res.end();
    }
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve({ server, base: `http://127.0.0.1:${server.address().port}` })),
  );
}

// --- reporting -----------------------------------------------------------------------------

let failures = 0;
function report(name, version, result, problem) {
  if (result === undefined) {
    failures++;
    console.log(`FAIL ${name} ${version}: ${problem}`);
    return;
  }
  const bad = result.checks.filter((c) => !c.ok);
  if (bad.length > 0) failures++;
  const facts = [
    `${result.checks.length - bad.length}/${result.checks.length} checks`,
    `engine ${result.engine}`,
    result.resolved ? `build ${result.resolved}` : undefined,
    result.nativeEventSource ? "own EventSource kept" : undefined,
  ].filter(Boolean);
  console.log(`${bad.length === 0 ? "ok  " : "FAIL"} ${name} ${version}: ${facts.join(", ")}`);
  for (const c of bad) console.log(`       failed: ${c.name}${c.detail ? ` (${c.detail})` : ""}`);
}

function parseResult(out) {
  const line = out.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

async function runCli(runtime, smoke, consumer, base) {
  const version = (await sh(runtime.bin, ["--version"], { timeout: 10_000 })).out.match(/\d+\.\d+\.\d+/)?.[0] ?? "?";
  const started = Date.now();
  const r = await sh(runtime.bin, [...runtime.args(smoke), base, runtime.name], {
    cwd: consumer,
    timeout: RUNTIME_TIMEOUT_MS,
    env: { ...process.env, NO_COLOR: "1" },
  });
  const result = parseResult(r.out);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result === undefined) {
    const why = r.signal === "SIGKILL" ? `no result within ${RUNTIME_TIMEOUT_MS / 1000} s` : `exit ${r.code}`;
    report(runtime.name, version, undefined, `${why}: ${(r.err || r.out).trim().split("\n").slice(0, 6).join(" | ")}`);
  } else {
    report(runtime.name, `${version} (${seconds} s)`, result);
  }
}

async function runChromium(base) {
  let chromium;
  try {
    ({ chromium } = await import("playwright-core"));
  } catch (error) {
    return report("chromium", "", undefined, `playwright-core: ${error.message}`);
  }
  if (!existsSync(chromiumPath)) return report("chromium", "", undefined, `${chromiumPath} not found (apt-get install -y chromium)`);
  const profile = mkdtempSync(join(tmpdir(), "eventsource-wasm-chromium-"));
  let context;
  const started = Date.now();
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      timeout: RUNTIME_TIMEOUT_MS,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const version = context.browser()?.version() ?? "";
    const page = context.pages()[0] ?? (await context.newPage());
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${base}/?key=chromium`);
    const handle = await page
      .waitForFunction(() => window.smokeResults, undefined, { timeout: RUNTIME_TIMEOUT_MS })
      .catch(() => undefined);
    const results = handle ? await handle.jsonValue() : undefined;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (results === undefined) {
      report("chromium", version, undefined, `no result from the page${errors.length ? `: ${errors.join(" | ")}` : ""}`);
    } else {
      report("chromium page", `${version} (${seconds} s)`, results.page);
      report("chromium worker", version, results.worker);
    }
  } catch (error) {
    report("chromium", "", undefined, error.message.split("\n")[0]);
  } finally {
    await context?.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

/**
 * Starts `workerd serve config.capnp <config>` in `dir`, fetches the worker's suite result,
 * and stops workerd. The port comes from workerd itself (--control-fd), so none is guessed.
 */
async function runWorkerd(dir, config, base) {
  // The config's compatibility date, for the report (test/runtimes/workerd/config.capnp).
  const capnp = readFileSync(join(dir, "config.capnp"), "utf8");
  const date = capnp.match(new RegExp(`const ${config}Worker\\b[^]*?compatibilityDate = "([^"]+)"`))?.[1] ?? "?";
  const name = `workerd ${config} (compatibility date ${date})`;
  let bin;
  let version;
  try {
    bin = (await import("workerd")).default.default;
    version = (await sh(bin, ["--version"], { timeout: 10_000 })).out.trim().replace(/^workerd /, "binary ");
  } catch (error) {
    return report(name, "", undefined, `the workerd devDependency does not run: ${error.message}`);
  }
  const started = Date.now();
  const child = spawn(bin, ["serve", "config.capnp", config, "--control-fd=3"], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe", "pipe"],
  });
  let err = "";
  child.stdout.on("data", (d) => (err += d));
  child.stderr.on("data", (d) => (err += d));
  const exited = new Promise((resolve) => {
    child.on("close", resolve);
    child.on("error", (error) => resolve(error.message));
  });
  const problem = (what) => `${what}${err.trim() ? `: ${err.trim().split("\n").slice(0, 6).join(" | ")}` : ""}`;
  try {
    const port = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(problem(`not listening within ${RUNTIME_TIMEOUT_MS / 1000} s`))), RUNTIME_TIMEOUT_MS);
      let control = "";
      child.stdio[3].on("data", (d) => {
        control += d;
        for (const line of control.split("\n")) {
          const message = line.trim() ? JSON.parse(line) : undefined;
          if (message?.event === "listen" && message.socket === "http") {
            clearTimeout(timer);
            resolve(message.port);
          }
        }
      });
      exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(problem(`workerd exited (${code})`)));
      });
    });
    const query = new URLSearchParams({ base, key: `workerd-${config}` });
    const response = await fetch(`http://127.0.0.1:${port}/?${query}`, { signal: AbortSignal.timeout(RUNTIME_TIMEOUT_MS) });
    const text = await response.text();
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    let result;
    try {
      result = JSON.parse(text);
    } catch {
      return report(name, version, undefined, problem(`status ${response.status}, ${text.slice(0, 200)}`));
    }
    report(name, `${version} (${seconds} s)`, result);
  } catch (error) {
    report(name, version, undefined, error.message);
  } finally {
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(killer);
  }
}

// --- main ------------------------------------------------------------------------------------

const { tarball } = pack();
const consumer = installInto(tarball);
rmSync(dirname(tarball), { recursive: true, force: true });
writeFileSync(join(consumer, "package.json"), '{ "private": true, "type": "module" }\n');

const smoke = join(consumer, "smoke.mjs");
const common = { bundle: true, format: "esm", target: "es2022", logLevel: "silent", write: false };
const cliBuild = await build({
  ...common,
  entryPoints: [join(root, "test/runtimes/cli-entry.ts")],
  platform: "neutral",
  external: ["eventsource-wasm", "eventsource-wasm/parser"],
});
writeFileSync(smoke, cliBuild.outputFiles[0].text);

// The page's and the worker's copies of the package are resolved by esbuild as their
// bundlers would: from the consumer's node_modules, with the export conditions of the
// "browser" platform, or of Wrangler (workerd, worker, browser).
const packageFromConsumer = {
  name: "package-from-consumer",
  setup(b) {
    b.onResolve({ filter: /^eventsource-wasm(\/.*)?$/ }, (args) =>
      args.resolveDir === consumer ? undefined : b.resolve(args.path, { kind: args.kind, resolveDir: consumer }),
    );
  },
};
const bundleError = (how, error) => `esbuild ${how}: ${error.errors?.map((e) => e.text).join("; ") ?? error.message}`;
let pageScript;
let bundleProblem;
try {
  const pageBuild = await build({
    ...common,
    entryPoints: [join(root, "test/runtimes/browser-entry.ts")],
    platform: "browser",
    plugins: [packageFromConsumer],
  });
  pageScript = pageBuild.outputFiles[0].text;
} catch (error) {
  bundleProblem = bundleError("--platform=browser", error);
}

// The worker: a `.wasm` import stays a module of its own beside the bundle, as Wrangler's
// default CompiledWasm rule uploads it; here the package's one file, parser.wasm.
const workerdDir = mkdtempSync(join(tmpdir(), "eventsource-wasm-workerd-"));
let workerdProblem;
try {
  await build({
    ...common,
    entryPoints: [join(root, "test/runtimes/workerd/worker-entry.ts")],
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    outfile: join(workerdDir, "worker.js"),
    write: true,
    plugins: [
      packageFromConsumer,
      {
        name: "wasm-module",
        setup(b) {
          b.onResolve({ filter: /\.wasm$/ }, (args) => {
            copyFileSync(join(args.resolveDir, args.path), join(workerdDir, "parser.wasm"));
            return { path: "./parser.wasm", external: true };
          });
        },
      },
    ],
  });
  copyFileSync(join(root, "test/runtimes/workerd/config.capnp"), join(workerdDir, "config.capnp"));
} catch (error) {
  workerdProblem = bundleError("for workerd", error);
}

const { server, base } = await startServer(pageScript ?? "");
try {
  await ensureRuntimes();
  for (const runtime of runtimes) await runCli(runtime, smoke, consumer, base);
  for (const config of ["current", "old"].filter((c) => wanted(`workerd ${c}`))) {
    if (workerdProblem !== undefined) report(`workerd ${config}`, "", undefined, workerdProblem);
    else await runWorkerd(workerdDir, config, base);
  }
  if (wanted("chromium")) {
    if (bundleProblem !== undefined) report("chromium", "", undefined, bundleProblem);
    else await runChromium(base);
  }
} finally {
  server.closeAllConnections();
  server.close();
  rmSync(consumer, { recursive: true, force: true });
  rmSync(workerdDir, { recursive: true, force: true });
}
console.log(failures === 0 ? "runtimes: all passed" : `runtimes: ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
