// warnings.ts: what a run says about its connections while it goes on, in process; and,
// through the built command, against servers that fail in the ways it reports.
import type { IncomingMessage, ServerResponse } from "node:http";
import { describe, expect, test } from "vitest";
import { ConnectionReport, type ReportedError } from "../../src/cli/warnings.js";
import { dataOf, once, RESUME_LINES, runCli, serve, useCli } from "../support/cli.js";

useCli();

function report(opts: { verbose?: boolean; quiet?: boolean } = {}, url = "http://me:pw@h/feed") {
  const lines: string[] = [];
  const r = new ConnectionReport(new URL(url), { verbose: false, quiet: false, ...opts, print: (l) => lines.push(l) });
  return { r, lines };
}

const hangUp: ReportedError = { code: "NETWORK", message: "socket hang up", willReconnect: true, delay: 10 };
const ended: ReportedError = { code: "STREAM_ENDED", message: "the server ended the stream", willReconnect: true, delay: 3000 };
const idle: ReportedError = { code: "IDLE_TIMEOUT", message: "no data received for 300 ms", willReconnect: true, delay: 1500 };

describe("ConnectionReport", () => {
  test("a failed attempt is reported once per change of reason, with the delay, attempt and Last-Event-ID", () => {
    const { r, lines } = report();
    r.error(hangUp, "7");
    r.error(hangUp, "7");
    r.error(idle, "7");
    r.error(hangUp, "");
    expect(lines).toEqual([
      'warning: socket hang up; retrying in 10 ms (attempt 1, Last-Event-ID "7")',
      'warning: no data received for 300 ms; retrying in 1.5 s (attempt 3, Last-Event-ID "7")',
      "warning: socket hang up; retrying in 10 ms (attempt 4)",
    ]);
  });

  test("the first connection that works after failures is reported; the count starts again", () => {
    const { r, lines } = report();
    r.error(hangUp, "");
    r.error(hangUp, "");
    r.open("js");
    r.error(hangUp, "");
    r.open("js");
    r.open("js"); // no failure before: nothing to say
    expect(lines.slice(1)).toEqual(["connected again after 2 failed attempts", "warning: socket hang up; retrying in 10 ms (attempt 1)", "connected again after 1 failed attempt"]);
  });

  test("a stream the server ended is routine: -v only, and not a failed attempt", () => {
    const { r, lines } = report();
    r.error(ended, "1");
    r.open("js");
    expect(lines).toEqual([]);
    const v = report({ verbose: true });
    v.r.error(ended, "1");
    expect(v.lines).toEqual(['the server ended the stream; retrying in 3 s (attempt 1, Last-Event-ID "1")']);
  });

  test("a skipped event and an id that cannot be sent are warned about; other final errors are not (they end the run)", () => {
    const { r, lines } = report();
    r.error({ code: "EVENT_TOO_LARGE", message: "event over maxEventSize", willReconnect: false }, "");
    r.error({ code: "LAST_EVENT_ID_NOT_SENT", message: "id not sent", willReconnect: true, delay: 0 }, "");
    r.error({ code: "HTTP_STATUS", status: 404, willReconnect: false }, "");
    expect(lines).toEqual(["warning: event over maxEventSize", "warning: id not sent"]);
  });

  test("-q: no warnings at all", () => {
    const { r, lines } = report({ quiet: true });
    r.error(hangUp, "1");
    r.open("js");
    r.error({ code: "EVENT_TOO_LARGE", message: "big", willReconnect: false }, "");
    expect(lines).toEqual([]);
  });

  test("-v: requests (without the URL's credentials), every attempt, connections and redirects", () => {
    const { r, lines } = report({ verbose: true });
    r.request("GET", "http://h/feed", undefined);
    r.open("wasm");
    r.request("GET", "http://h/feed", Buffer.from("é1").toString("latin1"));
    r.request("GET", "http://h/moved", Buffer.from("é1").toString("latin1"));
    r.open("wasm");
    r.error(hangUp, "2");
    r.error(hangUp, "2");
    expect(lines).toEqual([
      "request: GET http://h/feed",
      "connected to http://h/feed (engine wasm)",
      'request: GET http://h/feed (Last-Event-ID "é1")',
      'request: GET http://h/moved (Last-Event-ID "é1")',
      "connected to http://h/moved (redirected from http://h/feed) (engine wasm)",
      'warning: socket hang up; retrying in 10 ms (attempt 1, Last-Event-ID "2")',
      'warning: socket hang up; retrying in 10 ms (attempt 2, Last-Event-ID "2")',
    ]);
  });
});

// These count on an idle timeout firing only where the server is silent on purpose: run
// one at a time, so that other processes of this file do not delay a response past it.
describe("the built command's reports of an outage", () => {
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
    const r = await runCli([s.url, "--idle-timeout", "1s"]);
    expect(r.code).toBe(0);
    expect(dataOf(r.stdout)).toEqual(["a"]);
    expect(s.requests).toHaveLength(8);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toEqual([
      expect.stringMatching(/^warning: network error: socket hang up.*; retrying in 10 ms \(attempt 2, Last-Event-ID "1"\)$/),
      expect.stringMatching(/^warning: no data received for 1(000 ms| s); retrying in 10 ms \(attempt 5, Last-Event-ID "1"\)$/),
      expect.stringMatching(/^warning: network error: socket hang up.*; retrying in 10 ms \(attempt 7, Last-Event-ID "1"\)$/),
      "last event id: 1",
      `resume with: eventsource-wasm --last-event-id 1 ${s.url} --idle-timeout 1s`,
    ]);
  });

  test("-q silences the warnings (not where to resume); -v reports every request, attempt and connection", async () => {
    const q = await serve(outage);
    const s = await serve(outage);
    const [quiet, verbose] = await Promise.all([runCli([q.url, "--idle-timeout", "1s", "-q"]), runCli([s.url, "--idle-timeout", "1s", "-v"])]);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toMatch(/^last event id: 1\nresume with: .* -q\n$/);
    expect(verbose.code).toBe(0);
    const lines = verbose.stderr.trimEnd().split("\n");
    expect(lines.filter((l) => l.startsWith("request: GET "))).toHaveLength(8);
    expect(lines).toContain(`request: GET ${s.url} (Last-Event-ID "1")`);
    expect(lines.filter((l) => /retrying in 10 ms \(attempt \d/.test(l))).toHaveLength(7);
    expect(lines).toContain('the server ended the stream; retrying in 10 ms (attempt 1, Last-Event-ID "1")');
    expect(lines[1]).toMatch(/^connected to http:\/\/127\.0\.0\.1:\d+\/ \(engine (wasm|js)\)$/);
    expect(lines.at(-3)).toBe("the server ended the stream (HTTP 204 No Content)");
  });

  test("--idle-timeout reconnects a silent connection (with Last-Event-ID); -v says so", async () => {
    const s = await serve((_req, res, n) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(`retry: 10\nid: ${n}\ndata: event ${n}\n\n`); // then silence, connection open
    });
    const r = await runCli([s.url, "--idle-timeout", "1s", "--count", "2", "-v"]);
    expect(r.code).toBe(0);
    expect(dataOf(r.stdout)).toEqual(["event 1", "event 2"]);
    expect(r.stderr).toMatch(/warning: no data received for 1(000 ms| s); retrying in 10 ms \(attempt 1, Last-Event-ID "1"\)/);
    expect(s.requests[1]!.headers["last-event-id"]).toBe("1");
  });
});

describe.concurrent("the built command's reports", () => {
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
    // No id in the stream: nothing to resume from, so nothing said about it.
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

  test("URL credentials answer a 401 and never show on stderr; a non-ASCII Last-Event-ID shows as text", async () => {
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
    expect(r.stderr).toMatch(RESUME_LINES);
    expect(r.stderr).toContain(`resume with: eventsource-wasm --last-event-id 'é1' '${s.url.replace("http://", "http://me:***@")}' -v\n`);
  });

  test("--max-event-size skips a larger event with a warning, and the stream goes on", async () => {
    const s = await serve(once(`retry: 10\ndata: small\n\ndata: ${"x".repeat(5000)}\n\ndata: after\n\n`));
    const r = await runCli([s.url, "--max-event-size", "1k"]);
    expect(r.code).toBe(0);
    expect(dataOf(r.stdout)).toEqual(["small", "after"]);
    expect(r.stderr).toMatch(/^warning: .*maxEventSize.*\n$/);
  });
});
