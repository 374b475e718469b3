// resume.ts: the command line that goes on from the last event printed, in process; and,
// through the built command, a run that resumes another.
import { describe, expect, test } from "vitest";
import { resumeCommand, resumeLines, shellQuote } from "../../src/cli/resume.js";
import { dataOf, runCli, serve, useCli } from "../support/cli.js";

useCli();

describe("shellQuote", () => {
  test.each([
    ["plain", "plain"],
    ["http://h:8080/a?b=1,2", "'http://h:8080/a?b=1,2'"],
    ["Authorization: x", "'Authorization: x'"],
    ["it's", "'it'\\''s'"],
    ["", "''"],
    ["*", "'*'"],
    ["$HOME", "'$HOME'"],
    ["a\tb", "'a\tb'"],
  ])("%j is %s", (arg, quoted) => {
    expect(shellQuote(arg)).toBe(quoted);
  });
});

describe("resumeCommand", () => {
  test("the same arguments in the same order, with --last-event-id first", () => {
    expect(resumeCommand(["http://h/feed", "-e", "tick", "--count", "10", "-kv"], "42")).toBe(
      "eventsource-wasm --last-event-id 42 http://h/feed -e tick --count 10 -k -v",
    );
  });

  test("a --last-event-id of the run's own is replaced, in every form", () => {
    expect(resumeCommand(["--last-event-id", "1", "http://h/"], "2")).toBe("eventsource-wasm --last-event-id 2 http://h/");
    expect(resumeCommand(["--last-event-id=1", "http://h/"], "2")).toBe("eventsource-wasm --last-event-id 2 http://h/");
  });

  test("values as they were written: inline, or the next argument", () => {
    expect(resumeCommand(["--idle-timeout=30s", "-Hx-a: 1", "-H", "x-b: 2", "http://h/"], "9")).toBe(
      "eventsource-wasm --last-event-id 9 --idle-timeout=30s '-Hx-a: 1' -H 'x-b: 2' http://h/",
    );
  });

  test("secrets are shown as ***: URL and proxy passwords, Authorization, Proxy-Authorization and Cookie", () => {
    const line = resumeCommand(
      ["https://me:pw@h/", "-H", "Authorization: Bearer t0k", "-H", "cookie: s=1", "-HProxy-Authorization: Basic x", "-x", "http://u:p@proxy:3128", "-H", "X-Plain: shown"],
      "5",
    );
    expect(line).toBe(
      "eventsource-wasm --last-event-id 5 'https://me:***@h/' -H 'Authorization: ***' -H 'cookie: ***' '-HProxy-Authorization: ***' -x 'http://u:***@proxy:3128' -H 'X-Plain: shown'",
    );
    for (const secret of ["pw", "t0k", "s=1", "Basic x", ":p@"]) expect(line).not.toContain(secret);
  });

  test("a user without a password, and an @ in the path, are left alone", () => {
    expect(resumeCommand(["http://me@h/", "-x", "proxy:3128"], "1")).toBe("eventsource-wasm --last-event-id 1 http://me@h/ -x proxy:3128");
    expect(resumeCommand(["http://h/a:b@c"], "1")).toBe("eventsource-wasm --last-event-id 1 http://h/a:b@c");
  });

  test("an id that starts with - is attached to its option; one with spaces or quotes is quoted", () => {
    expect(resumeCommand(["http://h/"], "-5")).toBe("eventsource-wasm --last-event-id=-5 http://h/");
    expect(resumeCommand(["http://h/"], "a 'b'")).toBe("eventsource-wasm --last-event-id 'a '\\''b'\\''' http://h/");
  });

  test("-- before the URL is kept", () => {
    expect(resumeCommand(["-v", "--", "http://h/"], "1")).toBe("eventsource-wasm --last-event-id 1 -v -- http://h/");
  });
});

describe("resumeLines", () => {
  test("the id on a line of its own, then the command", () => {
    expect(resumeLines(["http://h/"], "7")).toEqual(["last event id: 7", "resume with: eventsource-wasm --last-event-id 7 http://h/"]);
  });

  test("nothing without an id: the next request would start the stream over", () => {
    expect(resumeLines(["http://h/"], "")).toEqual([]);
  });
});

describe.concurrent("the built command resumes where the last run stopped", () => {
  test("--count: the resume line, run as printed, gets the next events, none twice", async () => {
    // Ids 1..10; a request with Last-Event-ID n gets the events after n, then the stream ends.
    const s = await serve((req, res) => {
      const from = Number(req.headers["last-event-id"] ?? 0);
      if (from >= 10) return void res.writeHead(204).end();
      res.writeHead(200, { "content-type": "text/event-stream" });
      let body = "retry: 10\n";
      for (let id = from + 1; id <= 10; id++) body += `id: ${id}\ndata: e${id}\n\n`;
      res.end(body);
    });
    const first = await runCli([s.url, "--count", "4"]);
    expect(first.code).toBe(0);
    expect(dataOf(first.stdout)).toEqual(["e1", "e2", "e3", "e4"]);
    const resume = /^resume with: eventsource-wasm (.*)$/m.exec(first.stderr)![1]!;
    expect(first.stderr).toBe(`last event id: 4\nresume with: eventsource-wasm ${resume}\n`);
    // No argument needs quoting here, so the line splits on spaces as a shell would.
    const second = await runCli(resume.split(" "));
    expect(second.code).toBe(0);
    expect(dataOf(second.stdout)).toEqual(["e5", "e6", "e7", "e8"]);
    expect(s.requests.map((q) => q.headers["last-event-id"])).toEqual([undefined, "4"]);
  });

  test("an error after events: the reason, then where to resume", async () => {
    const s = await serve((_req, res, n) => {
      if (n > 1) return void res.writeHead(500).end();
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end("retry: 10\nid: a1\ndata: x\n\n");
    });
    const r = await runCli([s.url]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(`error: HTTP 500 Internal Server Error\nlast event id: a1\nresume with: eventsource-wasm --last-event-id a1 ${s.url}\n`);
  });

  test("no event printed: nothing to resume from, nothing said", async () => {
    const s = await serve((_req, res) => res.writeHead(404).end());
    const r = await runCli([s.url, "--last-event-id", "3"]);
    expect(r.stderr).toBe("error: HTTP 404 Not Found\n");
  });
});
