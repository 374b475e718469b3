// run.ts, the run of `eventsource-wasm <url>`, through the built command against servers on
// 127.0.0.1: what it requests, what ends it, and how it goes on after failures.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { startFeedServer, tickData, type FeedServer } from "../../examples/feed-server.mjs";
import { CERT, closeLater, dataOf, once, ROOT, runCli, serve, serveTls, useCli, type RunResult } from "../support/cli.js";

const cli = useCli();

const STREAM = "retry: 10\ndata: hello\n\nevent: greet\nid: 7\ndata: multi\n\nevent: other\ndata:\n\nid\ndata: id reset\n\n";

describe.concurrent("eventsource-wasm <url>", () => {
  test("--event filters by type (repeatable), in stream order", async () => {
    const r = await runCli([(await serve(once(STREAM))).url, "--event", "other", "-e", "greet"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l).type)).toEqual(["greet", "other"]);
    const m = await runCli([(await serve(once(STREAM))).url, "--event", "message"]);
    expect(dataOf(m.stdout)).toEqual(["hello", "id reset"]);
  });

  test("-H headers and --last-event-id reach the server; -X/-d send a method and body", async () => {
    const s = await serve(once("retry: 10\ndata: x\n\n"));
    const r = await runCli([s.url, "-H", "Authorization: Bearer t0ken", "--header", "X-Trace:  abc: def ", "--last-event-id", "41", "-X", "post", "-d", '{"q":1}']);
    expect(r.code).toBe(0);
    const first = s.requests[0]!;
    expect(first.headers.authorization).toBe("Bearer t0ken");
    expect(first.headers["x-trace"]).toBe("abc: def");
    expect(first.headers["last-event-id"]).toBe("41");
    expect(first.method).toBe("POST");
    expect(first.body).toBe('{"q":1}');
    // The reconnection (answered with 204) resumes from the stream's own last id.
    expect(s.requests[1]!.headers["last-event-id"]).toBe("41");
    expect(r.stderr).toContain("resume with: eventsource-wasm --last-event-id 41 ");
    expect(r.stderr).not.toContain("t0ken");
  });

  test("--count N exits 0 after exactly N events of an endless stream", async () => {
    const feed = (await startFeedServer({ seed: 5 })) as FeedServer;
    closeLater(feed.close);
    const r = await runCli([feed.url, "--count", "1000", "--event", "tick"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(1000);
    expect(JSON.parse(lines[999]!)).toEqual({ type: "tick", data: tickData(1000, 5), id: "1000" });
    expect(r.stderr).toMatch(/^last event id: 1000\n/);
  });

  test("a reader that goes away (| head) ends it quietly with 0", async () => {
    const feed = (await startFeedServer({})) as FeedServer;
    closeLater(feed.close);
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
    // Not even where to resume: what the reader got of the events written is not known.
    expect(r.stderr).toBe("");
  });

  test.each([
    ["-k", ["-k"]],
    ["--cacert", ["--cacert", CERT]],
  ])("%s accepts the local server's certificate", async (_name, flags) => {
    const s = await serveTls(once("retry: 10\nid: 3\ndata: over tls\n\n"));
    const r = await runCli([s.url, ...flags]);
    expect(r.code).toBe(0);
    expect(dataOf(r.stdout)).toEqual(["over tls"]);
    expect(s.requests()).toBe(2); // the stream, then the 204
  });

  test("exit 2 on a --cacert file that cannot be read or holds no certificate", async () => {
    const missing = await runCli(["--cacert", join(cli.tmp, "nope.pem"), "http://127.0.0.1:1/"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: cannot read --cacert .*nope\.pem/);
    const notPem = await runCli(["--cacert", join(ROOT, "package.json"), "http://127.0.0.1:1/"]);
    expect(notPem.code).toBe(2);
    expect(notPem.stderr).toMatch(/no PEM certificate/);
  });
});

describe.concurrent("--retry-status", () => {
  // 503 twice (Retry-After: 0, so no wait), then the stream, then 204.
  const busy = (n: number) => (_req: unknown, res: import("node:http").ServerResponse, k: number) => {
    if (k <= n) return void res.writeHead(503, { "retry-after": "0" }).end("busy");
    once("retry: 10\nid: 1\ndata: at last\n\n")(_req as never, res, k - n);
  };

  test("a listed status is retried (with its Retry-After), reported as a failed attempt", async () => {
    const s = await serve(busy(2));
    const r = await runCli([s.url, "--retry-status", "502,503,504"]);
    expect(r.code).toBe(0);
    expect(dataOf(r.stdout)).toEqual(["at last"]);
    expect(s.requests).toHaveLength(4);
    expect(r.stderr).toMatch(/^warning: HTTP 503 Service Unavailable; retrying in 0 ms \(attempt 1\)\nconnected again after 2 failed attempts\n/);
  });

  test("a status not listed still ends the run with 3", async () => {
    const s = await serve(busy(2));
    const r = await runCli([s.url, "--retry-status", "502"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe("error: HTTP 503 Service Unavailable\n");
    expect(s.requests).toHaveLength(1);
  });

  test("with --retries: 5 once they run out, naming the status", async () => {
    const s = await serve(busy(100));
    const r = await runCli([s.url, "--retry-status", "503", "--retries", "2"]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/\nerror: HTTP 503 Service Unavailable \(gave up after 2 reconnection attempts\)\n$/);
    expect(s.requests).toHaveLength(3);
  });
});

// `npm start` is examples/demo.mjs on the built CLI: the same, smaller. One at a time: the
// time-limited run must have started printing within its seconds on a busy machine.
describe("the demo", () => {
  test.each([
    ["to the end", ["--events", "20000", "--drop-every", "6000"], /events {8}20,000 of 20,000\n/],
    ["stopped by its time limit", ["--events", "100000", "--rate", "2000", "--seconds", "3"], /\(stopped early\)/],
  ])("runs %s and checks exactly-once delivery", async (_name, args, expected) => {
    const r = await new Promise<RunResult>((done) => {
      const child = spawn(process.execPath, [join(ROOT, "examples", "demo.mjs"), ...args], {
        env: { ...process.env, EVENTSOURCE_WASM_CLI: cli.path },
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
});
