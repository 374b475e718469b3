// The built package, as users get it: both module systems load it synchronously by its name.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));

function node(args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
}

const program = (load: string) => `
${load}
const out = [];
const p = createParser({ onEvent: (e) => out.push(e.type + "|" + e.data + "|" + e.lastEventId) });
p.feed(new TextEncoder().encode("id: 7\\nevent: tick\\ndata: 1\\n\\ndata: é\\n\\n"));
console.log(JSON.stringify({ engine: p.engine, out }));
`;

describe("dist", () => {
  beforeAll(() => {
    if (!existsSync(`${root}dist/index.js`) || !existsSync(`${root}dist/index.cjs`)) {
      execFileSync("npm", ["run", "build"], { cwd: root, stdio: "ignore" });
    }
  }, 120_000);

  const expected = ["tick|1|7", "message|é|7"];

  test("ESM: import { createParser } from 'eventsource-wasm'", () => {
    const result = JSON.parse(
      node(["--input-type=module", "-e", program(`import { createParser } from "eventsource-wasm";`)]),
    );
    expect(result.out).toEqual(expected);
  });

  test("CJS: require('eventsource-wasm') is synchronous", () => {
    const result = JSON.parse(
      node(["--input-type=commonjs", "-e", program(`const { createParser } = require("eventsource-wasm");`)]),
    );
    expect(result.out).toEqual(expected);
  });

  test("both builds pick the same engine", () => {
    const esm = JSON.parse(node(["--input-type=module", "-e", program(`import { createParser } from "eventsource-wasm";`)]));
    const cjs = JSON.parse(node(["--input-type=commonjs", "-e", program(`const { createParser } = require("eventsource-wasm");`)]));
    expect(esm.engine).toBe(cjs.engine);
  });

  test("type declarations are built for both", () => {
    expect(existsSync(`${root}dist/index.d.ts`)).toBe(true);
    expect(existsSync(`${root}dist/index.d.cts`)).toBe(true);
  });
});
