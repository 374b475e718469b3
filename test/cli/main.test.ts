// main.ts: the command's entry, through the built command: help, version, and the
// subcommands it dispatches to.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { SUBCOMMANDS } from "../../src/cli/args.js";
import { ROOT, runCli, useCli } from "../support/cli.js";

useCli();

describe.concurrent("eventsource-wasm", () => {
  test("--help documents every option, subcommand and exit status", async () => {
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
      "--retry-status",
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
      "resume with:",
    ]) {
      expect(help.stdout).toContain(opt);
    }
    for (const name of Object.keys(SUBCOMMANDS)) expect(help.stdout).toMatch(new RegExp(`^ {2}${name} +\\S`, "m"));
    // Every exit status the command uses is listed.
    for (const code of [0, 1, 2, 3, 4, 5, 6, 7, 130, 143]) expect(help.stdout).toMatch(new RegExp(`^ {2}${code} `, "m"));
  });

  test.each(Object.keys(SUBCOMMANDS))("the %s subcommand runs, with help of its own", async (name) => {
    const r = await runCli([name, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: eventsource-wasm ${name} `));
    const bad = await runCli([name, "--bogus"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(new RegExp(`Try 'eventsource-wasm ${name} --help'`));
  });

  test("--version prints the package's version", async () => {
    const version = await runCli(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout).toBe(`${JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version}\n`);
  });
});
