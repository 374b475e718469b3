// args.ts: the options of `eventsource-wasm <url>`, in process; and, through the built
// command, what bad usage and the inputs named by options (-d @file, --data @-) do.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { HELP, parseCli, SUBCOMMANDS, type CliOptions } from "../../src/cli/args.js";
import { dataOf, once, runCli, serve, useCli } from "../support/cli.js";

const cli = useCli();

function options(argv: string[]): CliOptions {
  const r = parseCli(argv);
  if (r.kind !== "run") throw new Error(`expected run, got ${JSON.stringify(r)}`);
  return r.options;
}

describe("parseCli", () => {
  test("defaults", () => {
    const o = options(["http://127.0.0.1:8080/feed"]);
    expect(o).toMatchObject({ headers: {}, events: [], engine: "auto", pretty: false, stats: false, verbose: false });
    expect(o.url.href).toBe("http://127.0.0.1:8080/feed");
    expect(o.count ?? o.retries ?? o.maxEventSize ?? o.idleTimeout ?? o.lastEventId).toBeUndefined();
  });

  test.each([
    ["--max-event-size", "1024", "maxEventSize", 1024],
    ["--max-event-size", "64k", "maxEventSize", 65536],
    ["--max-event-size", "2MiB", "maxEventSize", 2 * 1024 * 1024],
    ["--max-event-size", "1g", "maxEventSize", 1024 ** 3],
    ["--idle-timeout", "1500", "idleTimeout", 1500],
    ["--idle-timeout", "500ms", "idleTimeout", 500],
    ["--idle-timeout", "30s", "idleTimeout", 30_000],
    ["--idle-timeout", "1.5s", "idleTimeout", 1500],
    ["--idle-timeout", "2m", "idleTimeout", 120_000],
    ["--event-timeout", "45s", "eventTimeout", 45_000],
    ["--retries", "0", "retries", 0],
    ["--count", "3", "count", 3],
    ["--stats-interval", "100ms", "statsInterval", 100],
  ] as const)("%s %s", (flag, value, key, expected) => {
    expect(options([flag, value, "http://x/"])[key]).toBe(expected);
  });

  test("headers: trimmed, repeated names joined, value may contain colons", () => {
    const o = options(["-H", "Authorization: Bearer a:b", "-H", "X-A: 1", "-H", "x-a:2", "-H", "Empty:", "http://x/"]);
    expect(o.headers).toEqual({ Authorization: "Bearer a:b", "X-A": "1, 2", Empty: "" });
  });

  test("flags and short forms", () => {
    const o = options(["-e", "a", "--event", "b", "-n", "5", "-X", "post", "-d", "x=1", "-v", "--pretty", "--stats", "https://h/"]);
    expect(o).toMatchObject({ events: ["a", "b"], count: 5, method: "POST", body: "x=1", verbose: true, pretty: true, stats: true });
    expect(parseCli(["-h"]).kind).toBe("help");
    expect(parseCli(["--version", "http://x/"]).kind).toBe("version");
  });

  test.each([
    [["--count", "-1", "http://x/"]],
    [["--count", "1.5", "http://x/"]],
    [["--idle-timeout", "5h", "http://x/"]],
    [["--max-event-size", "0", "http://x/"]],
    [["--last-event-id", "a\nb", "http://x/"]],
    [["-H", "Bad Name: x", "http://x/"]],
    [["-H", ": x", "http://x/"]],
    [["-e", "", "http://x/"]],
    [["--pretty=yes", "http://x/"]],
    [["ws://x/"]],
  ])("usage error: %j", (argv) => {
    expect(parseCli(argv).kind).toBe("usage-error");
  });

  test.each([
    ["an unknown option", ["--bogus", "http://127.0.0.1:1/"], /^Unknown option '--bogus'$/],
    ["no URL", [], /^missing <url>$/],
    ["a bad URL", ["not a url"], /^invalid URL/],
    ["a non-http URL", ["file:///etc/passwd"], /only http: and https:/],
    ["two URLs", ["http://a/", "http://b/"], /one URL only/],
    ["a bad --engine", ["--engine", "fast", "http://127.0.0.1:1/"], /--engine.*auto, wasm or js/],
    ["a bad header", ["-H", "no colon", "http://127.0.0.1:1/"], /^invalid header/],
    ["a bad --count", ["--count", "0", "http://127.0.0.1:1/"], /--count.*at least 1/],
    ["a bad --max-event-size", ["--max-event-size", "lots", "http://127.0.0.1:1/"], /--max-event-size/],
    ["a missing option value", ["http://127.0.0.1:1/", "--idle-timeout"], /idle-timeout/],
  ])("the message for %s", (_name, argv, message) => {
    const r = parseCli(argv);
    expect(r.kind).toBe("usage-error");
    expect((r as { message: string }).message).toMatch(message);
  });
});

describe("parseCli: the new flags", () => {
  test("-k, --cacert, -x, -q, --no-color", () => {
    const o = options(["-k", "--cacert", "ca.pem", "-x", "proxy:3128", "-q", "--no-color", "https://h/"]);
    expect(o).toMatchObject({ insecure: true, caFile: "ca.pem", proxy: "proxy:3128", quiet: true, noColor: true });
    expect(options(["http://h/"])).toMatchObject({ insecure: false, quiet: false, noColor: false });
    expect(parseCli(["-x", "socks5://p:1080", "http://h/"])).toMatchObject({ kind: "usage-error", message: expect.stringMatching(/--proxy/) });
    expect(parseCli(["-x", "https://p:3128", "http://h/"]).kind).toBe("usage-error");
    expect(options(["-x", "http://u:p@p:3128", "http://h/"]).proxy).toBe("http://u:p@p:3128");
  });

  test("-d @file and @- name a file (read later); other values are the body", () => {
    expect(options(["-d", "@body.json", "http://h/"])).toMatchObject({ bodyFile: "body.json" });
    expect(options(["-d", "@-", "http://h/"])).toMatchObject({ bodyFile: "-" });
    const plain = options(["-d", "a=@b", "http://h/"]);
    expect(plain.body).toBe("a=@b");
    expect(plain.bodyFile).toBeUndefined();
    expect(parseCli(["-d", "@", "http://h/"]).kind).toBe("usage-error");
  });

  test.each([
    ["localhost:8080/feed", "http://localhost:8080/feed"],
    ["127.0.0.1:9/x?y=1", "http://127.0.0.1:9/x?y=1"],
    ["example.com/stream", "http://example.com/stream"],
    ["https://example.com/s", "https://example.com/s"],
  ])("%s is %s", (given, href) => {
    expect(options([given]).url.href).toBe(href);
  });
});

describe("--retry-status", () => {
  test.each([
    [["502,503,504"], [502, 503, 504]],
    [["429", "503"], [429, 503]],
    [[" 502 , 502,503"], [502, 503]],
    [["204"], [204]],
  ])("%j is %j", (lists, statuses) => {
    expect(options([...lists.flatMap((l) => ["--retry-status", l]), "http://h/"]).retryStatuses).toEqual(statuses);
  });

  test("none unless given", () => {
    expect(options(["http://h/"]).retryStatuses).toBeUndefined();
  });

  test.each(["200", "99", "600", "5xx", "", "503,", "50"])("%j is bad usage", (list) => {
    expect(parseCli(["--retry-status", list, "http://h/"])).toMatchObject({
      kind: "usage-error",
      message: expect.stringMatching(/^invalid value for --retry-status: /),
    });
  });
});

describe("--help", () => {
  test("names every subcommand, with what it does", () => {
    const names = Object.keys(SUBCOMMANDS);
    expect(names.length).toBeGreaterThan(0);
    for (const [name, summary] of Object.entries(SUBCOMMANDS)) expect(HELP).toContain(`  ${name.padEnd(26)}${summary}\n`);
  });
});

describe.concurrent("the built command: bad usage and inputs", () => {
  // One of each way bad usage is found: by node's parseArgs, by our own rules, after parsing
  // (an unreadable file, below). Each rule is tested in process above.
  test.each([
    ["an unknown option", ["--bogus", "http://127.0.0.1:1/"], /Unknown option '--bogus'/],
    ["no URL", [], /missing <url>/],
    ["a bad --retry-status", ["--retry-status", "200", "http://127.0.0.1:1/"], /--retry-status/],
  ])("exit 2 on bad usage: %s", async (_name, args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^error: .*\nTry 'eventsource-wasm --help' for usage\.\n$/);
  });

  test("-d @file sends the file's bytes; -d @- sends stdin; an unreadable file is exit 2", async () => {
    const file = join(cli.tmp, "body.json");
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
    const missing = await runCli(["http://127.0.0.1:1/", "-d", `@${join(cli.tmp, "missing")}`]);
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
