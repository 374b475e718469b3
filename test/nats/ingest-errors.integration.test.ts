// What a user sees when something is missing: no NATS server, a server without JetStream,
// or the optional NATS packages not installed (the core package must still work then).
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ingest, NatsUnavailableError } from "../../src/nats/index.js";
import { ensureDist, freePort, natsServerAvailable, root, startNats } from "./helpers.js";

function cli(args: string[], cwd = root, script = join(root, "dist/cli.js")) {
  const r = spawnSync(process.execPath, [script, ...args], { cwd, encoding: "utf8", timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("ingest: missing pieces", () => {
  beforeAll(() => ensureDist(), 180_000);

  test("no NATS server: a clear error naming the address, status 1", async () => {
    const port = await freePort();
    const r = cli(["ingest", "--nats", `nats://127.0.0.1:${port}`, "--stream", "S", "--subject", "s", "--feed", "a=http://127.0.0.1:9/"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`error: cannot connect to NATS at nats://127\\.0\\.0\\.1:${port}: .*nats-server -js`));
    await expect(
      ingest({ servers: `nats://127.0.0.1:${port}`, stream: "S", subject: "s", feeds: [{ name: "a", url: "http://127.0.0.1:9/" }] }),
    ).rejects.toBeInstanceOf(NatsUnavailableError);
  });

  test("usage errors: status 2 and the reason", () => {
    const r = cli(["ingest", "--stream", "S", "--subject", "s"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no feeds/);
    const dotted = cli(["ingest", "--stream", "S", "--subject", "s", "--feed", "a.b=http://x/"]);
    expect(dotted.status).toBe(2);
    expect(dotted.stderr).toMatch(/feed name "a\.b"/);
  });

  (natsServerAvailable() ? test : test.skip)("a server without JetStream: says so", async () => {
    const plain = await startNats({ jetstream: false });
    try {
      const r = cli(["ingest", "--nats", plain.url, "--stream", "S", "--subject", "s", "--feed", "a=http://127.0.0.1:9/"]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/has no JetStream.*-js/);
    } finally {
      await plain.dispose();
    }
  });

  describe("the package installed without the NATS packages", () => {
    let dir: string;
    let pkg: string;
    beforeAll(() => {
      // A project whose node_modules holds eventsource-wasm (dist + package.json) and nothing else.
      dir = mkdtempSync(join(tmpdir(), "esw-nonats-"));
      pkg = join(dir, "node_modules", "eventsource-wasm");
      mkdirSync(pkg, { recursive: true });
      cpSync(join(root, "dist"), join(pkg, "dist"), { recursive: true });
      cpSync(join(root, "package.json"), join(pkg, "package.json"));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    test("`ingest` names the missing packages, status 1; the core CLI still runs", () => {
      const script = join(pkg, "dist/cli.js");
      const r = cli(["ingest", "--stream", "S", "--subject", "s", "--feed", "a=http://127.0.0.1:9/"], dir, script);
      expect(r.status).toBe(1);
      for (const name of ["@nats-io/transport-node", "@nats-io/jetstream", "@nats-io/kv"]) expect(r.stderr).toContain(name);
      expect(r.stderr).toMatch(/npm install @nats-io\/transport-node @nats-io\/jetstream @nats-io\/kv/);
      const version = cli(["--version"], dir, script);
      expect(version.status).toBe(0);
    });

    test.each(["import", "require"])("library (%s): the entry loads; ingest() rejects with NatsDependencyError", (how) => {
      const load =
        how === "import"
          ? `const m = await import("eventsource-wasm/nats");`
          : `const m = require("eventsource-wasm/nats");`;
      const file = join(dir, how === "import" ? "probe.mjs" : "probe.cjs");
      writeFileSync(
        file,
        `(async () => { ${load}
          try { await m.ingest({ servers: "nats://127.0.0.1:9", stream: "S", subject: "s", feeds: [] }); console.log("no error"); }
          catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, missing: e.missing, isClass: e instanceof m.NatsDependencyError })); }
        })();`,
      );
      const out = JSON.parse(execFileSync(process.execPath, [file], { cwd: dir, encoding: "utf8" }));
      expect(out).toEqual({
        name: "NatsDependencyError",
        code: "NATS_PACKAGES_MISSING",
        missing: ["@nats-io/transport-node", "@nats-io/jetstream", "@nats-io/kv"],
        isClass: true,
      });
    });
  });
});
