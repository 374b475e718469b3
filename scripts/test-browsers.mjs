// `npm run test:browsers`: the package as a cross-origin page uses it, in Chromium, Firefox
// and WebKit, each case run by the browser's own EventSource beside ours (dist/browser.js, so
// `npm run build` first) in the same page, with the same expected outcome.
//
// The page is served from one origin (127.0.0.1, port A) and the feed from another (port B;
// port C is a third origin that a redirect goes to). The feed refuses every CORS preflight
// (OPTIONS -> 403) unless the variant's URL says `preflight=allow`, and counts them. The
// browsers are the system's: Chromium and Firefox ESR driven by puppeteer-core (Firefox over
// WebDriver BiDi), WebKitGTK through WebKitWebDriver (plain WebDriver over HTTP) under Xvfb.
// Then the SharedEventSource cases (test/browsers/shared-cases.mjs), several pages at once.
// Give browser names (chromium, firefox, webkit) as arguments to run only those, and --shared
// for only the SharedEventSource cases. Every step is bounded in time; everything started
// here is stopped here. Exits non-zero on a failure.
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { cases, check, STREAM } from "../test/browsers/cases.mjs";
import { bounded, LAUNCH_MS, puppeteerBrowser, STEP_MS, webkitBrowser } from "../test/browsers/drivers.mjs";
import { runSharedCases, sharedFeed, sharedPage } from "../test/browsers/shared-cases.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SUITE_MS = 270_000;

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
  if (url.pathname.startsWith("/shared/")) return sharedFeed(req, res, url, key, cors);
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
  if (sharedPage(req, res, url)) return;
  if (url.pathname === "/case") {
    const spec = JSON.parse(url.searchParams.get("spec"));
    const headers = { "content-type": "text/html; charset=utf-8" };
    if (spec.csp) headers["content-security-policy"] = spec.csp;
    // A policy in a <meta> element, as static hosts without header control deliver it.
    const meta = spec.cspMeta ? `<meta http-equiv="Content-Security-Policy" content="${spec.cspMeta}">` : "";
    return void res.writeHead(200, headers).end(`<!doctype html><meta charset="utf-8">${meta}<script type="module" src="/browsers/page.js"></script>`);
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
  const spec = { run, cookie: c.cookie, csp: c.csp, cspMeta: c.cspMeta, variants: variants.map(({ expect, differs, ...v }) => v) };
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

async function main() {
  const dist = join(root, "dist", "browser.js");
  if (!existsSync(dist)) throw new Error("dist/browser.js is missing: run npm run build first");
  const args = process.argv.slice(2);
  // --shared: only the SharedEventSource cases.
  const sharedOnly = args.includes("--shared");
  const wanted = args.filter((a) => !a.startsWith("--"));
  const names = ["chromium", "firefox", "webkit"].filter((n) => wanted.length === 0 || wanted.includes(n));
  const servers = [await listen(page), await listen(feed), await listen(feed)];
  [ports.A, ports.B, ports.C] = servers.map((s) => s.address().port);
  const origins = Object.fromEntries(Object.entries(ports).map(([k, p]) => [k, `http://127.0.0.1:${p}`]));
  const list = cases(ports.B, ports.C);
  const table = new Map(); // "case / variant" -> { browser: cell }
  const notes = [];
  let failed = 0;
  const openBrowsers = new Set();
  // Over time, or interrupted: close what is open (the WebKit driver and Xvfb would outlive
  // this process), then leave.
  const abandon = (why) => {
    console.log(`FAIL: ${why}`);
    const closing = [...openBrowsers].map((b) => bounded(b.close(), 10_000, "closing"));
    void Promise.allSettled(closing).then(() => process.exit(1));
  };
  const watchdog = setTimeout(() => abandon(`the suite ran over ${SUITE_MS / 1000} s`), SUITE_MS);
  for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => abandon(signal));
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
        for (const c of sharedOnly ? [] : list) {
          const r = await runCase(browser, c, origins);
          if (r.error) {
            failed++;
            notes.push(`${name} / ${c.name}: ${r.error}`);
          }
          const outcomes = r.got?.results ?? {};
          for (const v of r.variants) {
            const { problems, summary } = check(v, outcomes[v.key], feedLog.get(v.key) ?? []);
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
          if (c.cspMeta && r.got?.violations?.length) {
            failed++;
            notes.push(`${name} / ${c.name}: FAIL: ${r.got.violations.length} securitypolicyviolation event(s) (${r.got.violations.join("; ")})`);
          }
          if (c.csp || c.cspMeta || r.error) {
            const seen = r.got?.violations ?? [];
            notes.push(`${name} / ${c.name}: ${seen.length} securitypolicyviolation event(s)${seen.length ? ` (${seen.join("; ")})` : ""}`);
            notes.push(`${name} / ${c.name}: console errors: ${r.console === null ? "not readable over WebDriver" : r.console.length ? r.console.join(" | ") : "none"}`);
          }
        }
        const sharedStarted = Date.now();
        for (const r of await runSharedCases(browser, origins, feedLog)) {
          const row = `SharedEventSource / ${r.name}`;
          if (!table.has(row)) table.set(row, {});
          table.get(row)[name] = `${r.problems.length ? "FAIL" : "ok"}: ${r.summary}`;
          if (r.problems.length) {
            failed++;
            notes.push(`${name} / ${row}: ${r.problems.join("; ")}`);
          }
        }
        notes.push(`${name}: SharedEventSource cases ${((Date.now() - sharedStarted) / 1000).toFixed(1)} s`);
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
