// `npm run test:browsers`: the package as a cross-origin page uses it, in Chromium, Firefox
// and WebKit, each case run by the browser's own EventSource beside ours (dist/web.js, so
// `npm run build` first) in the same page, with the same expected outcome.
//
// The page is served from one origin (127.0.0.1, port A) and the feed from another (port B;
// port C is a third origin that a redirect goes to). The feed refuses every CORS preflight
// (OPTIONS -> 403) unless the variant's URL says `preflight=allow`, and counts them. The
// browsers are the system's: Chromium and Firefox ESR driven by puppeteer-core (Firefox over
// WebDriver BiDi), WebKitGTK through WebKitWebDriver (plain WebDriver over HTTP) under Xvfb.
// Give browser names (chromium, firefox, webkit) as arguments to run only those. Every step
// is bounded in time; everything started here is stopped here. Exits non-zero on a failure.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FIREFOX = process.env.FIREFOX_PATH ?? "/usr/bin/firefox-esr";
const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER_PATH ?? "/usr/bin/WebKitWebDriver";
const LAUNCH_MS = 60_000;
const STEP_MS = 20_000;
const SUITE_MS = 270_000;

// --- the cases ------------------------------------------------------------------------------

const STREAM =
  "data: one\n\nevent: tick\ndata: two\ndata: lines\nid: 1\n\ndata: é ✓ 😀\n\n: a comment\r\ndata: crlf\r\n\r\n" +
  "id\ndata: reset\n\nevent: end\ndata: bye\n\n";
const streamEvents = (o) => [
  ["message", "one", "", o],
  ["tick", "two\nlines", "1", o],
  ["message", "é ✓ 😀", "1", o],
  ["message", "crlf", "1", o],
  ["message", "reset", "", o],
  ["end", "bye", "", o],
];
const echo = (fields) => JSON.stringify({ method: "GET", body: "", contentType: null, token: null, ...fields });

/**
 * Each variant is one source. `expect`: `events` (exact), `preflights` (a count, or [min]),
 * `gets` (requests that were not preflights), `acrh` (every preflight's
 * Access-Control-Request-Headers), `engine`, `timedOut`, `requests` (the requests' ports and
 * paths: "B /redirect, C /seq"), `showRequests` (in the table). `differs`: an outcome that
 * the native EventSource does not share, and why.
 */
function cases(B, C) {
  const b = `http://127.0.0.1:${B}`;
  const c = `http://127.0.0.1:${C}`;
  const reconnected = (data) => [["message", "first", "7", b], ["message", data, "7", b], ["end", "bye", "7", b]];
  return [
    {
      name: "events",
      variants: [
        { name: "native", impl: "native", path: "/events", expect: { events: streamEvents(b), preflights: 0, gets: 1 } },
        { name: "ours", path: "/events", expect: { events: streamEvents(b), preflights: 0, gets: 1, engine: "wasm" } },
      ],
    },
    {
      name: "redirect 307 to a third origin",
      variants: ["native", "ours"].map((impl) => ({
        name: impl,
        impl,
        path: "/redirect",
        expect: {
          events: [["message", "first", "", c], ["message", "second", "", c], ["end", "bye", "", c]],
          preflights: 0,
          showRequests: true,
          // Reconnections go to the final URL, as the spec's request keeps its redirected URL
          // list (whatwg/html#503) and Chromium does; Firefox and WebKit go back to the URL
          // given, so the native one's requests are shown, not checked.
          ...(impl === "ours" ? { requests: "B /redirect, C /seq, C /seq" } : {}),
        },
      })),
    },
    {
      name: "cookies",
      cookie: "esw=1; path=/; SameSite=Lax",
      variants: [
        { name: "native", impl: "native", path: "/cookie", expect: { events: [["message", "(none)", "", b], ["end", "bye", "", b]] } },
        { name: "ours", path: "/cookie", expect: { events: [["message", "(none)", "", b], ["end", "bye", "", b]] } },
        ...["native", "ours"].map((impl) => ({
          name: `${impl} withCredentials`,
          impl,
          path: "/cookie",
          init: { withCredentials: true },
          expect: { events: [["message", "esw=1", "", b], ["end", "bye", "", b]], preflights: 0 },
        })),
      ],
    },
    {
      name: "drop and reconnection",
      variants: [
        { name: "native", impl: "native", path: "/drop", cutAfter: 1, expect: { events: reconnected("header=7 query=(none)"), preflights: 0, gets: 2 } },
        {
          name: "ours, lastEventIdQuery",
          path: "/drop",
          cutAfter: 1,
          init: { lastEventIdQuery: "lastEventId" },
          expect: { events: reconnected("header=(none) query=7"), preflights: 0, gets: 2 },
        },
        {
          name: "ours, preflight allowed",
          path: "/drop",
          preflight: true,
          cutAfter: 1,
          expect: { events: reconnected("header=7 query=(none)"), preflights: 1, acrh: "last-event-id", gets: 2 },
        },
        {
          name: "ours, preflight refused",
          path: "/drop",
          cutAfter: 1,
          deadline: 2500,
          differs: "a script's request with Last-Event-ID is preflighted; the feed refuses it",
          expect: { events: [["message", "first", "7", b]], preflights: [1], gets: 1, timedOut: true },
        },
      ],
    },
    {
      name: "custom header (ours only)",
      variants: [
        {
          name: "ours, preflight allowed",
          path: "/echo",
          preflight: true,
          init: { headers: { "X-Token": "t1" } },
          expect: { events: [["message", echo({ token: "t1" }), "", b], ["end", "bye", "", b]], preflights: 1, acrh: "x-token" },
        },
        {
          name: "ours, preflight refused",
          path: "/echo",
          deadline: 1500,
          init: { headers: { "X-Token": "t1" } },
          expect: { events: [], preflights: [1], gets: 0, acrh: "x-token", timedOut: true },
        },
      ],
    },
    {
      name: "POST (ours only)",
      variants: [
        {
          name: "ours, JSON, preflight allowed",
          path: "/echo",
          preflight: true,
          init: { method: "POST", body: '{"a":1}', headers: { "content-type": "application/json" } },
          expect: {
            events: [["message", echo({ method: "POST", body: '{"a":1}', contentType: "application/json" }), "", b], ["end", "bye", "", b]],
            preflights: 1,
            acrh: "content-type",
          },
        },
        {
          name: "ours, text, no preflight",
          path: "/echo",
          init: { method: "POST", body: "hello" },
          expect: {
            events: [["message", echo({ method: "POST", body: "hello", contentType: "text/plain;charset=UTF-8" }), "", b], ["end", "bye", "", b]],
            preflights: 0,
          },
        },
      ],
    },
    {
      name: "dedicated worker",
      variants: [
        { name: "native", impl: "native", worker: true, path: "/events", expect: { events: streamEvents(b), preflights: 0 } },
        { name: "ours", worker: true, path: "/events", expect: { events: streamEvents(b), preflights: 0, engine: "wasm" } },
      ],
    },
    {
      name: "CSP without wasm-unsafe-eval",
      csp: "default-src 'self'; connect-src 'self' http://127.0.0.1:*",
      variants: [
        { name: "native", impl: "native", path: "/events", expect: { events: streamEvents(b), preflights: 0 } },
        { name: "ours", path: "/events", expect: { events: streamEvents(b), preflights: 0, engine: "js" } },
      ],
    },
  ];
}

// --- servers --------------------------------------------------------------------------------

/** Per variant key, every request the feed saw. */
const feedLog = new Map();
/** Per variant key, how to cut its first /drop connection. */
const cuts = new Map();
/** Per run, the page's report. */
const reports = new Map();
const ports = {};

function entries(key) {
  if (!feedLog.has(key)) feedLog.set(key, []);
  return feedLog.get(key);
}

function feed(req, res) {
  const local = req.socket.localPort === ports.B ? "B" : "C";
  const url = new URL(req.url, "http://127.0.0.1");
  const key = url.searchParams.get("k") ?? "";
  const log = entries(key);
  const acrh = req.headers["access-control-request-headers"] ?? null;
  log.push({ method: req.method, at: `${local} ${url.pathname}`, acrh });
  // The exact origin (and "null" after a cross-origin redirect), so that credentials pass.
  const cors = { "access-control-allow-origin": req.headers.origin ?? "*", "access-control-allow-credentials": "true", vary: "origin" };
  if (req.method === "OPTIONS") {
    if (url.searchParams.get("preflight") !== "allow") return void res.writeHead(403).end();
    return void res
      .writeHead(204, { ...cors, "access-control-allow-headers": acrh ?? "", "access-control-allow-methods": "GET, POST", "access-control-max-age": "0" })
      .end();
  }
  const n = log.filter((e) => e.method !== "OPTIONS" && e.at.endsWith(` ${url.pathname}`)).length;
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (d) => (body += d));
  req.on("end", () => {
    const sse = (text) => {
      res.writeHead(200, { ...cors, "content-type": "text/event-stream", "cache-control": "no-store" });
      res.write(text);
    };
    const end = "event: end\ndata: bye\n\n";
    switch (url.pathname) {
      case "/events":
        return sse(STREAM);
      case "/redirect":
        return void res.writeHead(307, { ...cors, location: `http://127.0.0.1:${ports.C}/seq?k=${encodeURIComponent(key)}` }).end();
      case "/seq":
        if (n === 1) return void (sse("retry: 50\ndata: first\n\n"), res.end());
        return sse(`data: second\n\n${end}`);
      case "/cookie":
        return sse(`data: ${req.headers.cookie ?? "(none)"}\n\n${end}`);
      case "/drop":
        if (n === 1) {
          cuts.set(key, () => req.socket.destroy());
          return sse("retry: 50\nid: 7\ndata: first\n\n");
        }
        return sse(`data: header=${req.headers["last-event-id"] ?? "(none)"} query=${url.searchParams.get("lastEventId") ?? "(none)"}\n\n${end}`);
      case "/echo": {
        const seen = { method: req.method, body, contentType: req.headers["content-type"] ?? null, token: req.headers["x-token"] ?? null };
        return sse(`data: ${JSON.stringify(seen)}\n\n${end}`);
      }
      default:
        res.writeHead(404, cors).end();
    }
  });
}

const FILES = { "/browsers/": join(root, "test", "browsers"), "/dist/": join(root, "dist") };

function page(req, res) {
  const url = new URL(req.url, "http://127.0.0.1");
  if (url.pathname === "/case") {
    const spec = JSON.parse(url.searchParams.get("spec"));
    const headers = { "content-type": "text/html; charset=utf-8" };
    if (spec.csp) headers["content-security-policy"] = spec.csp;
    return void res.writeHead(200, headers).end('<!doctype html><meta charset="utf-8"><script type="module" src="/browsers/page.js"></script>');
  }
  if (url.pathname === "/cut") {
    cuts.get(url.searchParams.get("k"))?.();
    return void res.writeHead(204).end();
  }
  if (url.pathname === "/result" && req.method === "POST") {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      reports.get(url.searchParams.get("run"))?.(JSON.parse(body));
      res.writeHead(204).end();
    });
    return;
  }
  for (const [prefix, dir] of Object.entries(FILES)) {
    const name = url.pathname.slice(prefix.length);
    if (url.pathname.startsWith(prefix) && /^[\w-]+\.js$/.test(name) && existsSync(join(dir, name))) {
      return void res.writeHead(200, { "content-type": "text/javascript" }).end(readFileSync(join(dir, name)));
    }
  }
  res.writeHead(404).end();
}

function listen(handler) {
  const server = createServer(handler);
  server.keepAliveTimeout = 1000;
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server)));
}

// --- browsers -------------------------------------------------------------------------------

function bounded(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms))),
  ]);
}

/** Chromium or Firefox through puppeteer-core: one page, navigated once per case. */
async function puppeteerBrowser(name) {
  const { default: puppeteer } = await import("puppeteer-core");
  const profile = name === "chromium" ? mkdtempSync(join(tmpdir(), "esw-chromium-")) : null;
  const options =
    name === "chromium"
      ? {
          browser: "chrome",
          executablePath: CHROMIUM,
          userDataDir: profile,
          args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        }
      : { browser: "firefox", executablePath: FIREFOX };
  const cleanup = () => profile && rmSync(profile, { recursive: true, force: true });
  let browser;
  try {
    browser = await puppeteer.launch({ ...options, headless: true, timeout: LAUNCH_MS, protocolTimeout: STEP_MS });
  } catch (error) {
    cleanup();
    throw error;
  }
  let tab;
  try {
    tab = await bounded(browser.newPage(), STEP_MS, "new page");
  } catch (error) {
    await browser.close().catch(() => {});
    cleanup();
    throw error;
  }
  let consoleErrors = [];
  tab.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  tab.on("pageerror", (e) => consoleErrors.push(String(e?.message ?? e)));
  return {
    name,
    version: await browser.version(),
    open: (url) => tab.goto(url, { timeout: STEP_MS, waitUntil: "load" }),
    takeConsole() {
      const out = consoleErrors;
      consoleErrors = [];
      return out;
    },
    async close() {
      await bounded(browser.close(), STEP_MS, "closing").catch(() => browser.process()?.kill("SIGKILL"));
      cleanup();
    },
  };
}

function stop(child) {
  if (child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, "SIGKILL"); // its process group: the driver's browser too
    } catch {}
  }
}

/** WebKitGTK: WebKitWebDriver (W3C WebDriver over HTTP, called with fetch) under Xvfb. */
async function webkitBrowser() {
  // The browser WebKitWebDriver starts: Debian ships it in /usr/lib/<multiarch>/<API version>/.
  const mini =
    process.env.MINIBROWSER_PATH ??
    readdirSync("/usr/lib")
      .flatMap((arch) => ["webkit2gtk-4.1", "webkit2gtk-4.0", "webkitgtk-6.0"].map((api) => join("/usr/lib", arch, api, "MiniBrowser")))
      .find((path) => existsSync(path));
  if (!existsSync(WEBKIT_DRIVER) || mini === undefined) throw new Error("WebKitWebDriver or MiniBrowser missing (apt-get install -y webkit2gtk-driver)");
  const children = [];
  const close = async (session) => {
    if (session) await bounded(call("DELETE", `/session/${session}`), 10_000, "closing").catch(() => {});
    for (const child of children.reverse()) stop(child);
  };
  let base;
  async function call(method, path, body) {
    const res = await fetch(base + path, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(LAUNCH_MS),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`WebDriver ${method} ${path}: ${json.value?.error} ${json.value?.message ?? ""}`);
    return json.value;
  }
  try {
    const xvfb = spawn("Xvfb", ["-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp"], {
      stdio: ["ignore", "ignore", "pipe", "pipe"],
      detached: true,
    });
    children.push(xvfb);
    const display = await bounded(
      new Promise((ok, fail) => {
        xvfb.stdio[3].on("data", (d) => ok(String(d).trim()));
        xvfb.on("exit", (code) => fail(new Error(`Xvfb exited (${code})`)));
        xvfb.on("error", fail);
      }),
      STEP_MS,
      "Xvfb",
    );
    const probe = await listen(() => {});
    const port = probe.address().port;
    await new Promise((ok) => probe.close(ok));
    const driver = spawn(WEBKIT_DRIVER, [`--port=${port}`], { env: { ...process.env, DISPLAY: `:${display}` }, stdio: "ignore", detached: true });
    children.push(driver);
    base = `http://127.0.0.1:${port}`;
    const started = Date.now();
    while (!(await fetch(`${base}/status`).then((r) => r.ok, () => false))) {
      if (Date.now() - started > STEP_MS) throw new Error("WebKitWebDriver did not start");
      await new Promise((ok) => setTimeout(ok, 100));
    }
    const { sessionId, capabilities } = await call("POST", "/session", {
      capabilities: { alwaysMatch: { "webkitgtk:browserOptions": { binary: mini, args: ["--automation"] } } },
    });
    await call("POST", `/session/${sessionId}/timeouts`, { pageLoad: STEP_MS, script: STEP_MS });
    return {
      name: "webkit",
      version: `WebKitGTK ${capabilities.browserVersion}`,
      open: (url) => call("POST", `/session/${sessionId}/url`, { url }),
      takeConsole: () => null, // classic WebDriver has no console log
      close: () => close(sessionId),
    };
  } catch (error) {
    await close();
    throw error;
  }
}

// --- running and checking -------------------------------------------------------------------

let runs = 0;

async function runCase(browser, c, origins) {
  const run = `${browser.name}-${++runs}`;
  const variants = c.variants.map((v, i) => {
    const key = `${run}-${i}`;
    return {
      ...v,
      key,
      impl: v.impl ?? "ours",
      url: `${origins.B}${v.path}?k=${key}${v.preflight ? "&preflight=allow" : ""}`,
      init: v.init ?? {},
      deadline: v.deadline ?? 8000,
    };
  });
  const spec = { run, cookie: c.cookie, csp: c.csp, variants: variants.map(({ expect, differs, ...v }) => v) };
  const report = new Promise((ok) => reports.set(run, ok));
  browser.takeConsole();
  try {
    await bounded(browser.open(`${origins.A}/case?spec=${encodeURIComponent(JSON.stringify(spec))}`), STEP_MS, "loading the page");
    const got = await bounded(report, STEP_MS, "the page's report");
    return { got, variants, console: browser.takeConsole() };
  } catch (error) {
    return { error: error.message, variants, console: browser.takeConsole() };
  } finally {
    reports.delete(run);
  }
}

/** Problems with one variant's outcome (empty: as expected), and a short summary. */
function check(v, outcome) {
  const log = feedLog.get(v.key) ?? [];
  const preflights = log.filter((e) => e.method === "OPTIONS");
  const gets = log.filter((e) => e.method !== "OPTIONS");
  if (outcome === undefined) return { problems: ["no outcome"], summary: "no outcome" };
  if (outcome.unavailable) return { problems: [], summary: "n/a (no EventSource here)", unavailable: true };
  if (outcome.thrown) return { problems: [`threw ${outcome.thrown}`], summary: "threw" };
  const e = v.expect;
  const problems = [];
  if (e.events && !isDeepStrictEqual(outcome.events, e.events)) {
    problems.push(`events ${JSON.stringify(outcome.events)}, expected ${JSON.stringify(e.events)}`);
  }
  if (Array.isArray(e.preflights) ? preflights.length < e.preflights[0] : e.preflights !== undefined && preflights.length !== e.preflights) {
    problems.push(`${preflights.length} preflights, expected ${Array.isArray(e.preflights) ? `at least ${e.preflights[0]}` : e.preflights}`);
  }
  if (e.gets !== undefined && gets.length !== e.gets) problems.push(`${gets.length} requests, expected ${e.gets}`);
  for (const p of preflights) if (e.acrh !== undefined && p.acrh !== e.acrh) problems.push(`preflight for headers "${p.acrh}", expected "${e.acrh}"`);
  if (e.engine !== undefined && outcome.engine !== e.engine) problems.push(`engine ${outcome.engine}, expected ${e.engine}`);
  if (outcome.timedOut !== (e.timedOut ?? false)) problems.push(outcome.timedOut ? "timed out" : "ended, expected to time out");
  const requests = gets.map((x) => x.at).join(", ");
  if (e.requests !== undefined && requests !== e.requests) problems.push(`requests ${requests}, expected ${e.requests}`);
  const summary = [
    `${outcome.events.length} ev`,
    `${gets.length} req`,
    `${preflights.length} pf`,
    outcome.errors.length ? `${outcome.errors.length} err` : null,
    outcome.engine,
    outcome.timedOut ? "no end" : null,
    e.showRequests ? `requests: ${requests}` : null,
  ]
    .filter(Boolean)
    .join(", ");
  return { problems, summary };
}

async function main() {
  const dist = join(root, "dist", "web.js");
  if (!existsSync(dist)) throw new Error("dist/web.js is missing: run npm run build first");
  const wanted = process.argv.slice(2);
  const names = ["chromium", "firefox", "webkit"].filter((n) => wanted.length === 0 || wanted.includes(n));
  const servers = [await listen(page), await listen(feed), await listen(feed)];
  [ports.A, ports.B, ports.C] = servers.map((s) => s.address().port);
  const origins = Object.fromEntries(Object.entries(ports).map(([k, p]) => [k, `http://127.0.0.1:${p}`]));
  const list = cases(ports.B, ports.C);
  const table = new Map(); // "case / variant" -> { browser: cell }
  const notes = [];
  let failed = 0;
  const openBrowsers = new Set();
  const watchdog = setTimeout(() => {
    console.log(`FAIL: the suite ran over ${SUITE_MS / 1000} s`);
    for (const b of openBrowsers) void b.close();
    process.exit(1);
  }, SUITE_MS);
  try {
    for (const name of names) {
      const started = Date.now();
      let browser;
      try {
        browser = await bounded(name === "webkit" ? webkitBrowser() : puppeteerBrowser(name), LAUNCH_MS + 5000, `starting ${name}`);
      } catch (error) {
        failed++;
        notes.push(`${name}: could not start: ${error.message.split("\n")[0]}`);
        continue;
      }
      openBrowsers.add(browser);
      notes.push(`${name}: ${browser.version}`);
      try {
        for (const c of list) {
          const r = await runCase(browser, c, origins);
          if (r.error) {
            failed++;
            notes.push(`${name} / ${c.name}: ${r.error}`);
          }
          const outcomes = r.got?.results ?? {};
          for (const v of r.variants) {
            const { problems, summary } = check(v, outcomes[v.key]);
            const row = `${c.name} / ${v.name}`;
            if (!table.has(row)) table.set(row, {});
            table.get(row)[name] = `${problems.length ? "FAIL" : "ok"}: ${summary}${v.differs && !problems.length ? " (differs from native)" : ""}`;
            if (problems.length) {
              failed++;
              notes.push(`${name} / ${row}: ${problems.join("; ")}`);
            }
          }
          if (r.got?.workerError) notes.push(`${name} / ${c.name}: worker error ${r.got.workerError}`);
          if (r.got?.pageErrors?.length) notes.push(`${name} / ${c.name}: page errors: ${r.got.pageErrors.join(" | ")}`);
          if (c.csp || r.error) {
            const seen = r.got?.violations ?? [];
            notes.push(`${name} / ${c.name}: ${seen.length} securitypolicyviolation event(s)${seen.length ? ` (${seen.join("; ")})` : ""}`);
            notes.push(`${name} / ${c.name}: console errors: ${r.console === null ? "not readable over WebDriver" : r.console.length ? r.console.join(" | ") : "none"}`);
          }
        }
      } finally {
        openBrowsers.delete(browser);
        await browser.close();
      }
      notes.push(`${name}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    clearTimeout(watchdog);
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
  }

  const width = Math.max(...[...table.keys()].map((k) => k.length));
  console.log(`${"case / variant".padEnd(width)} | ${names.join(" | ")}`);
  for (const [row, cells] of table) console.log(`${row.padEnd(width)} | ${names.map((n) => cells[n] ?? "-").join(" | ")}`);
  console.log("");
  for (const note of notes) console.log(note);
  console.log(failed === 0 ? "\nall cases as expected" : `\n${failed} failure(s)`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
