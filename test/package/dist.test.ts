// The built package, as users get it: both module systems load it synchronously by its name.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** An app of `contents` as `esbuild --bundle --minify --platform=browser` makes it. */
async function minifiedApp(contents: string, external: string[] = []): Promise<string> {
  const { build } = await import("esbuild");
  const result = await build({ stdin: { contents, resolveDir: root }, bundle: true, minify: true, write: false, logLevel: "silent", format: "esm", platform: "browser", external });
  return result.outputFiles[0]!.text;
}

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
    const built = ["index.js", "index.cjs", "parser.js", "parser.cjs", "web.js", "browser.js", "cli.js"];
    if (!built.every((f) => existsSync(`${root}dist/${f}`))) {
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

  // The WASM module's string constant (a copy inlined twice would be PARSER_WASM2).
  const WASM_MAGIC = /\bPARSER_WASM\d* =/;
  const read = (file: string) => readFileSync(`${root}dist/${file}`, "utf8");
  const imports = (file: string) =>
    [...read(file).matchAll(/^(?:import|export)\b[^;]*?from\s*"([^"]+)"|require\("([^"]+)"\)/gm)].map((m) => m[1] ?? m[2]);

  test("the WASM module is shipped once per module format: in parser-wasm, which both parser builds import", () => {
    expect(read("parser-wasm.js")).toMatch(WASM_MAGIC);
    expect(read("parser-wasm.cjs")).toMatch(WASM_MAGIC);
    for (const file of ["parser.js", "parser.cjs", "browser-parser.js", "browser-parser.cjs", "index.js", "index.cjs", "web.js", "web.cjs", "browser.js", "browser.cjs", "cli.js"]) {
      expect(read(file), file).not.toMatch(WASM_MAGIC);
    }
    for (const build of ["parser", "browser-parser"]) {
      expect(imports(`${build}.js`), build).toEqual(["./parser-wasm.js"]);
      expect(imports(`${build}.cjs`), build).toEqual(["./parser-wasm.cjs"]);
    }
  });

  test("the command imports the library build beside it; the NATS entry only when `ingest` runs", () => {
    expect(imports("cli.js")).toContain("./index.js");
    expect(imports("cli.js")).not.toContain("./nats.js");
    expect(read("cli.js")).toContain('await import("./nats.js")');
    expect(node(["dist/cli.js", "--version"]).trim()).toBe(
      JSON.parse(readFileSync(`${root}package.json`, "utf8")).version,
    );
  });

  test("eventsource-wasm/parser has no client code and no node: import", () => {
    for (const file of ["parser.js", "parser.cjs"]) {
      expect(imports(file).filter((s) => s.startsWith("node:") || !s.startsWith(".")), file).toEqual([]);
      expect(read(file), file).not.toMatch(/class EventSource\b/);
    }
    const esm = JSON.parse(node(["--input-type=module", "-e", program(`import { createParser } from "eventsource-wasm/parser";`)]));
    const cjs = JSON.parse(node(["--input-type=commonjs", "-e", program(`const { createParser } = require("eventsource-wasm/parser");`)]));
    expect(esm).toEqual({ engine: "wasm", out: expected });
    expect(cjs).toEqual({ engine: "wasm", out: expected });
  });

  test("both entries share one parser: ParseError is one class", () => {
    const check = `
const { ParseError: A, createParser: a } = await import("eventsource-wasm");
const { ParseError: B, createParser: b } = await import("eventsource-wasm/parser");
console.log(JSON.stringify([A === B, a === b]));`;
    expect(JSON.parse(node(["--input-type=module", "-e", check]))).toEqual([true, true]);
  });

  test("the web build (browsers, workers, Deno) imports no node: module", () => {
    for (const file of ["web.js", "web.cjs"]) {
      expect(imports(file).filter((s) => s.startsWith("node:") || !s.startsWith(".")), file).toEqual([]);
    }
  });

  test("the browser build (pages and workers) imports no node: module, and the parser through ./browser-parser", () => {
    for (const [file, parser] of [["browser.js", "./browser-parser.js"], ["browser.cjs", "./browser-parser.cjs"]]) {
      expect(imports(file).filter((s) => s.startsWith("node:") || !s.startsWith(".")), file).toEqual([]);
      expect(imports(file), file).toContain(parser);
    }
    // What it leaves to the browser: Fetch's redirect rules and Node's TLS error codes.
    for (const file of ["browser.js", "browser.cjs"]) {
      expect(read(file), file).not.toMatch(/TOO_MANY_REDIRECTS|CERT_HAS_EXPIRED/);
    }
    expect(read("web.js")).toMatch(/TOO_MANY_REDIRECTS/);
  });

  test("an app of the browser build carries none of the branches BROWSER_BUILD turns off (bundled and minified)", async () => {
    const bundle = (file: string) => minifiedApp(`export { EventSource } from "./dist/${file}";`, ["./parser.js"]);
    // The Node transport's decoding errors, unref'd timers, a redirect followed here, the
    // cache headers (a browser's fetch adds them past its CORS checks), fetch's "manual"
    // redirects (a browser's fetch follows them).
    const nodeOnly = ["codingError", "unref", "crossOrigin", "cache-control", '"manual"'];
    const browser = await bundle("browser.js");
    const web = await bundle("web.js");
    for (const word of nodeOnly) {
      expect(browser, word).not.toContain(word);
      expect(web, word).toContain(word);
    }
    // The browser variants' constant stubs (no TLS or decoding failure, no redirect to follow,
    // no handler called by the platform, always a browser): each call is behind BROWSER_BUILD,
    // so the app keeps neither the call nor the stub, which a minifier cannot inline.
    expect(browser).not.toMatch(/[\w$]+=\(\)=>(?:null|!0|!1)[,;]/);
    // Whether the transport is a page's fetch is never read there: it always is (the
    // `browser: true` that choose.browser.ts returns stays, unread).
    const browserFlag = /\.browser\b|\bbrowser:(?!!0)/;
    expect(browser).not.toMatch(browserFlag);
    expect(web).toMatch(browserFlag);
  });

  test("export conditions: Node gets the node:http build, Deno and bundlers without 'node' the web build", () => {
    const where = (conditions: string[]) =>
      node([...conditions.map((c) => `--conditions=${c}`), "--input-type=module", "-e", `console.log(import.meta.resolve("eventsource-wasm"))`])
        .trim()
        .replace(/^.*\/dist\//, "");
    expect(where([])).toBe("index.js");
    expect(where(["deno"])).toBe("web.js");
  });

  test("export conditions as bundlers resolve them: the browser build for browsers, workerd's and the web build elsewhere", async () => {
    const { build } = await import("esbuild");
    const resolved = async (options: { platform: "browser" | "neutral" | "node"; conditions?: string[]; format?: "esm" | "cjs"; entry?: string }) => {
      const entry = options.entry ?? "eventsource-wasm";
      const result = await build({
        stdin: { contents: options.format === "cjs" ? `require("${entry}")` : `import "${entry}"`, resolveDir: root },
        bundle: true,
        write: false,
        metafile: true,
        logLevel: "silent",
        format: options.format ?? "esm",
        platform: options.platform,
        ...(options.conditions ? { conditions: options.conditions } : {}),
        // (The builds' siblings: relative imports only, as a page's bundle would follow them.)
        external: options.entry === undefined ? ["./*parser.js", "./*parser.cjs", "./parser-wasm.*", "./parser.wasm"] : ["./parser-wasm.*", "./parser.js", "./parser.wasm"],
      });
      return Object.keys(result.metafile.inputs).filter((f) => f.startsWith("dist/"));
    };
    expect(await resolved({ platform: "browser" })).toEqual(["dist/browser.js"]);
    expect(await resolved({ platform: "browser", format: "cjs" })).toEqual(["dist/browser.cjs"]);
    expect(await resolved({ platform: "node" })).toEqual(["dist/index.js"]);
    expect(await resolved({ platform: "neutral", conditions: ["import"] })).toEqual(["dist/web.js"]);
    // Wrangler's conditions: "workerd" comes first in the package's map, so it wins over "browser".
    expect(await resolved({ platform: "neutral", conditions: ["workerd", "worker", "browser"] })).toEqual(["dist/web.js", "dist/workerd.js"]);
    // The parser alone: the one without Node's buffer probes in pages, workerd's, the other.
    const parser = "eventsource-wasm/parser";
    expect(await resolved({ platform: "browser", entry: parser })).toEqual(["dist/browser-parser.js"]);
    expect(await resolved({ platform: "browser", format: "cjs", entry: parser })).toEqual(["dist/browser-parser.cjs"]);
    expect(await resolved({ platform: "node", entry: parser })).toEqual(["dist/parser.js"]);
    expect(await resolved({ platform: "neutral", conditions: ["import"], entry: parser })).toEqual(["dist/parser.js"]);
    expect(await resolved({ platform: "neutral", conditions: ["workerd", "worker", "browser"], entry: parser })).toEqual(["dist/workerd-parser.js"]);
  });

  test("a page's parser has no probe for Node's buffer module or environment, and a page that imports both entries has one parser (bundled and minified)", async () => {
    const page = await minifiedApp(`export { createParser } from "eventsource-wasm/parser";`);
    const node = await minifiedApp(`export { createParser } from "./dist/parser.js";`);
    for (const word of ["getBuiltinModule", "Buffer", "EVENTSOURCE_NO_WASM"]) {
      expect(page, word).not.toMatch(new RegExp(`\\b${word}\\b`));
      expect(node, word).toMatch(new RegExp(`\\b${word}\\b`));
    }
    const both = await minifiedApp(`import { ParseError as A } from "eventsource-wasm"; import { ParseError as B } from "eventsource-wasm/parser"; export const same = A === B;`);
    expect(both.match(/name="ParseError"/g)).toHaveLength(1);
  });

  test("an app that imports createParser or EventSource carries no ParserStream (bundled and minified)", async () => {
    // Both parser builds: the page's one minifies syntax, which must not unwrap the pure call.
    for (const from of ["./dist/parser.js", "eventsource-wasm/parser"]) {
      const bundle = (names: string) => minifiedApp(`export { ${names} } from "${from}";`);
      expect(await bundle("createParser"), from).not.toMatch(/TransformStream/);
      expect(await bundle("createParser, ParserStream"), from).toMatch(/extends TransformStream/);
    }
    expect(await minifiedApp(`export { EventSource } from "eventsource-wasm";`)).not.toMatch(/extends TransformStream/);
  });

  test("no source maps are shipped", () => {
    expect(readdirSync(`${root}dist`).filter((f) => f.endsWith(".map"))).toEqual([]);
  });
});
