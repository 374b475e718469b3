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

  test("both builds use the WASM engine by default on Node", () => {
    const esm = JSON.parse(node(["--input-type=module", "-e", program(`import { createParser } from "eventsource-wasm";`)]));
    const cjs = JSON.parse(node(["--input-type=commonjs", "-e", program(`const { createParser } = require("eventsource-wasm");`)]));
    expect(esm.engine).toBe("wasm");
    expect(cjs.engine).toBe("wasm");
  });

  test("both builds export EventSource, and it reaches a local feed", () => {
    const feed = (load: string) => `
${load}
const http = require("node:http");
const server = http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/event-stream" });
  res.end("event: tick\\ndata: 42\\n\\n");
});
server.listen(0, "127.0.0.1", () => {
  const es = new EventSource("http://127.0.0.1:" + server.address().port + "/");
  es.addEventListener("tick", (e) => {
    console.log(JSON.stringify({ data: e.data, engine: es.engine, open: EventSource.OPEN, isMessage: e instanceof MessageEvent }));
    es.close();
    server.close();
  });
});
`;
    const expected = { data: "42", engine: "wasm", open: 1, isMessage: true };
    expect(JSON.parse(node(["--input-type=module", "-e", feed(`import { EventSource } from "eventsource-wasm"; import { createRequire } from "node:module"; const require = createRequire(import.meta.url);`)]))).toEqual(expected);
    expect(JSON.parse(node(["--input-type=commonjs", "-e", feed(`const { EventSource } = require("eventsource-wasm");`)]))).toEqual(expected);
  });

  test("type declarations are built for both", () => {
    expect(existsSync(`${root}dist/index.d.ts`)).toBe(true);
    expect(existsSync(`${root}dist/index.d.cts`)).toBe(true);
  });
});
