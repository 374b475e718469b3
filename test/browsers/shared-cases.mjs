// The browser suite's SharedEventSource cases (scripts/test-browsers.mjs runs them after the
// others): several pages (tabs) of the page origin open `eventsource-wasm/shared` on one feed
// of the feed origin, and the feed and the pages' reports say whether they shared one
// connection, and whether a takeover lost or repeated an event.
//
// The feed (/shared/tick) numbers its events (id = number, from the Last-Event-ID header or
// the `lastEventId` query on), and each event's data is the number of the connection that
// sent it. It sends nothing (/shared/gone: no answer) until the case opens its gate, once
// every page is there, so that every page can be asked for every event from the first.
import { bounded, STEP_MS } from "./drivers.mjs";

const EVERY_MS = 25;
const PAGES = 3;
const WAIT_MS = 10_000;

/** Per key: the feed's connections ({ header, query }: the Last-Event-ID each carried). */
const conns = new Map();
/** Per key: the gate ({ open, waiters }). */
const gates = new Map();
/** Per "run/page": the page's latest report, and a command for its next one. */
const states = new Map();
const commands = new Map();

function gate(key) {
  if (!gates.has(key)) gates.set(key, { open: false, waiters: [] });
  return gates.get(key);
}

function whenOpen(key) {
  const g = gate(key);
  return g.open ? Promise.resolve() : new Promise((ok) => g.waiters.push(ok));
}

function openGate(key) {
  const g = gate(key);
  g.open = true;
  for (const ok of g.waiters.splice(0)) ok();
}

/** The feed's part (its CORS headers given): GET /shared/tick and /shared/gone. */
export function sharedFeed(req, res, url, key, cors) {
  if (!conns.has(key)) conns.set(key, []);
  const list = conns.get(key);
  list.push({ header: req.headers["last-event-id"] ?? null, query: url.searchParams.get("lastEventId") });
  const conn = list.length;
  if (url.pathname === "/shared/gone") return void whenOpen(key).then(() => res.writeHead(404, cors).end());
  res.writeHead(200, { ...cors, "content-type": "text/event-stream", "cache-control": "no-store" });
  res.write(": hello\n\n");
  let id = Number(req.headers["last-event-id"] ?? url.searchParams.get("lastEventId") ?? 0);
  let closed = false;
  let timer;
  res.on("close", () => ((closed = true), clearInterval(timer)));
  void whenOpen(key).then(() => {
    if (!closed) timer = setInterval(() => res.write(`id: ${++id}\ndata: ${conn}\n\n`), EVERY_MS);
  });
}

/** The page server's part: the pages, and their reports. True when it answered. */
export function sharedPage(req, res, url) {
  if (url.pathname === "/shared") {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    return res.end('<!doctype html><meta charset="utf-8"><script type="module" src="/browsers/shared-page.js"></script>'), true;
  }
  if (url.pathname !== "/shared-state" || req.method !== "POST") return false;
  const at = `${url.searchParams.get("run")}/${url.searchParams.get("page")}`;
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (d) => (body += d));
  req.on("end", () => {
    states.set(at, JSON.parse(body));
    const command = commands.get(at) ?? {};
    commands.delete(at);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(command));
  });
  return true;
}

async function until(cond, what, ms = WAIT_MS) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`no ${what} within ${ms / 1000} s`);
    await new Promise((ok) => setTimeout(ok, 20));
  }
}

/** Problems with one page's events: an unbroken run of ids from 1, in order, none twice. */
function runProblems(i, s) {
  const bad = s.ids.findIndex((id, j) => id !== j + 1);
  return bad === -1 ? [] : [`page ${i}: ids ${s.ids.slice(Math.max(0, bad - 2), bad + 3).join(",")} at ${bad} (not 1..n)`];
}

let runs = 0;

/**
 * One case on PAGES new pages: `steps(ctx)` drives it and returns its problems. ctx: { key,
 * pages: [{ i, state(), closeTab(), stopped }], live(), conns(), preflights() }. `stopped`:
 * its source was closed (the page stays open until the case ends).
 */
async function withPages(browser, origins, feedLog, c, steps) {
  const run = `${browser.name}-shared-${++runs}`;
  const url = `${origins.B}${c.path}?k=${run}${c.preflight ? "&preflight=allow" : ""}`;
  const pages = [];
  try {
    for (let i = 0; i < PAGES; i++) {
      const spec = { run, page: i, url, init: { syncDelay: 100, ...c.init } };
      const tab = await bounded(browser.openTab(`${origins.A}/shared?spec=${encodeURIComponent(JSON.stringify(spec))}`), STEP_MS, `opening page ${i}`);
      const page = {
        i,
        closed: false,
        stopped: false,
        state: () => states.get(`${run}/${i}`),
        async closeTab() {
          page.closed = true;
          await bounded(tab.close(), STEP_MS, `closing page ${i}`);
        },
      };
      pages.push(page);
    }
    const ctx = {
      key: run,
      pages,
      live: () => pages.filter((p) => !p.closed && !p.stopped),
      conns: () => conns.get(run) ?? [],
      preflights: () => (feedLog.get(run) ?? []).filter((e) => e.method === "OPTIONS"),
    };
    const problems = await steps(ctx);
    for (const p of pages) problems.push(...(p.state()?.pageErrors ?? []).map((e) => `page ${p.i}: ${e}`));
    return { problems, summary: `${ctx.conns().length} conn, ${ctx.preflights().length} pf, ${pages.map((p) => p.state()?.ids.length ?? "-").join("/")} ev` };
  } catch (error) {
    const seen = pages.map((p) => `${p.i}: ${p.closed ? "closed, " : p.stopped ? "stopped, " : ""}readyState ${p.state()?.readyState}${p.state()?.holder ? ", holder" : ""}, ${p.state()?.ids.length} ev`);
    return { problems: [`${error.message} (pages ${seen.join("; ")}; ${conns.get(run)?.length ?? 0} conn)`], summary: "FAIL" };
  } finally {
    for (const p of pages) if (!p.closed) await p.closeTab().catch(() => {});
    for (const key of [...states.keys()].filter((k) => k.startsWith(`${run}/`))) states.delete(key);
  }
}

const lastId = (p) => p.state()?.ids.at(-1) ?? 0;
const count = (p) => p.state()?.ids.length ?? 0;

async function threePages(ctx) {
  const { pages, key } = ctx;
  await until(() => pages.every((p) => p.state()?.readyState === 1), "OPEN in every page");
  openGate(key);
  await until(() => pages.every((p) => lastId(p) >= 20), "20 events in every page");
  const problems = pages.flatMap((p) => runProblems(p.i, p.state()));
  if (ctx.conns().length !== 1) problems.push(`${ctx.conns().length} connections, expected 1`);
  const holders = pages.filter((p) => p.state().holder).length;
  if (holders !== 1) problems.push(`${holders} holders, expected 1`);
  for (const p of pages) if (p.state().opens !== 1 || p.state().errors.length) problems.push(`page ${p.i}: ${p.state().opens} open, errors ${p.state().errors}`);
  return problems;
}

/** The holder goes (`how`: "tab", its page closed; "close", close() called) twice in a row. */
const takeovers = (how, carry) => async (ctx) => {
  const { pages, key } = ctx;
  await until(() => pages.every((p) => p.state()?.readyState === 1), "OPEN in every page");
  openGate(key);
  const problems = [];
  let from = 0;
  for (let round = 1; round <= 2; round++) {
    await until(() => ctx.live().every((p) => count(p) >= from + 10), `10 more events in every page (round ${round})`);
    const holders = ctx.live().filter((p) => p.state().holder);
    if (holders.length !== 1) throw new Error(`round ${round}: ${holders.length} holders, expected 1`);
    const [holder] = holders;
    const before = ctx.conns().length;
    if (how === "tab") await holder.closeTab();
    else {
      commands.set(`${key}/${holder.i}`, { close: true });
      await until(() => holder.state().readyState === 2, `CLOSED after close() (round ${round})`);
      holder.stopped = true;
    }
    await until(() => ctx.conns().length > before, `a new connection (round ${round})`);
    from = Math.max(...ctx.live().map(count));
  }
  await until(() => ctx.live().every((p) => count(p) >= from + 10), "10 events after the last takeover");
  const all = ctx.conns();
  if (all.length !== 3) problems.push(`${all.length} connections, expected 3`);
  const other = carry === "header" ? "query" : "header";
  if (all[0]?.header !== null || all[0]?.query !== null) problems.push(`first connection with an id (${JSON.stringify(all[0])})`);
  for (const [k, conn] of all.entries()) if (k > 0 && conn[other] !== null) problems.push(`connection ${k + 1} carried the id as ${other} too`);
  for (const p of pages) {
    const s = p.state();
    problems.push(...runProblems(p.i, s));
    // Each takeover: the events before it came from the old connection up to exactly the id
    // the new one resumed after (the furthest any page got), and the new one's after it.
    for (let k = 1; k < all.length; k++) {
      const first = s.conns.indexOf(k + 1);
      if (first === -1) continue;
      const resumed = Number(all[k][carry]);
      if (s.ids[first] !== resumed + 1 || s.conns[first - 1] !== k) {
        problems.push(`page ${p.i}: connection ${k + 1} resumed after ${JSON.stringify(all[k][carry])}, its first event here is id ${s.ids[first]} after one of connection ${s.conns[first - 1]}`);
      }
    }
  }
  const survivor = ctx.live();
  if (survivor.length !== 1 || survivor[0].state().readyState !== 1 || !survivor[0].state().holder) problems.push("the last page is not the OPEN holder");
  for (const p of pages) if (p.state().errors.length) problems.push(`page ${p.i}: errors ${p.state().errors}`);
  const preflights = ctx.preflights();
  const expected = carry === "header" ? 2 : 0;
  if (preflights.length !== expected) problems.push(`${preflights.length} preflights, expected ${expected}`);
  for (const p of preflights) if (p.acrh !== "last-event-id") problems.push(`preflight for "${p.acrh}"`);
  return problems;
};

async function gone(ctx) {
  const { pages, key } = ctx;
  await until(() => pages.every((p) => p.state()?.readyState === 0) && ctx.conns().length === 1, "every page waiting on one request");
  openGate(key);
  await until(() => pages.every((p) => p.state().readyState === 2), "CLOSED in every page");
  const problems = [];
  for (const p of pages) {
    const s = p.state();
    if (s.errors.join() !== "HTTP_STATUS" || s.ids.length || s.opens) problems.push(`page ${p.i}: errors ${s.errors}, ${s.ids.length} events, ${s.opens} open`);
  }
  if (ctx.conns().length !== 1) problems.push(`${ctx.conns().length} requests, expected 1`);
  return problems;
}

const CASES = [
  { name: "three pages, one connection", path: "/shared/tick", steps: threePages },
  { name: "holder's page closed, twice (Last-Event-ID, preflight allowed)", path: "/shared/tick", preflight: true, steps: takeovers("tab", "header") },
  { name: "holder's close(), twice (lastEventIdQuery)", path: "/shared/tick", init: { lastEventIdQuery: "lastEventId" }, steps: takeovers("close", "query") },
  { name: "feed fails for good (404)", path: "/shared/gone", steps: gone },
];

/** Runs every case in `browser`: [{ name, problems, summary }]. */
export async function runSharedCases(browser, origins, feedLog) {
  const out = [];
  for (const c of CASES) out.push({ name: c.name, ...(await withPages(browser, origins, feedLog, c, c.steps)) });
  return out;
}
