import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { dirname, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Plugin, PluginBuild } from "esbuild";
import { defineConfig, type Options } from "tsup";

/** `./<name>.js` or `./<name>.cjs`: a build beside this one, in this one's module format. */
function sibling(build: PluginBuild, name: string): string {
  return `./${name}.${build.initialOptions.format === "cjs" ? "cjs" : "js"}`;
}

/**
 * An entry in `src/<dir>/` reaches the core through `../index.js`; in dist/ that is the core's
 * own build beside it (`./<core>.js` or `./<core>.cjs`), not a second copy inlined.
 * `eventsource-wasm/nats` takes the Node build (index); `eventsource-wasm/shared`, for pages and
 * workers, the browser build, the one a page's own `import "eventsource-wasm"` resolves to.
 */
function coreAsSibling(dir: string, core: "index" | "browser"): Plugin {
  return {
    name: `core-as-sibling-${dir}`,
    setup(build) {
      const file = sibling(build, core);
      build.onResolve({ filter: /^\.\.\/index\.js$/ }, (args) =>
        args.importer.includes(`${sep}src${sep}${dir}${sep}`) ? { path: file, external: true } : undefined,
      );
    },
  };
}

const natsExternal = [/^@nats-io\//];

const root = dirname(fileURLToPath(import.meta.url));
const parserDir = resolve(root, "src/parser") + sep;
const cliDir = resolve(root, "src/cli") + sep;
const natsDir = resolve(root, "src/nats") + sep;

/**
 * Every layer above the parser reaches it through the `eventsource-wasm/parser` build
 * (`./parser.js` / `./parser.cjs` beside it) instead of a copy of its own. So the WASM
 * module is shipped once per module format, and a program that imports both entries gets
 * one ParseError class (instanceof holds across them) and one compiled module. Only names
 * the parser entry exports can be used this way: a layer importing a parser internal fails
 * to link, which test/package/dist.test.ts would catch.
 */
function parserAsSibling(parser = "parser"): Plugin {
  return {
    name: "parser-as-sibling",
    setup(build) {
      const file = sibling(build, parser);
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (args.importer === "" || args.importer.startsWith(parserDir)) return undefined;
        const target = resolve(args.resolveDir, args.path);
        return target.startsWith(parserDir) ? { path: file, external: true } : undefined;
      });
    },
  };
}

/**
 * The parser builds (for pages, and for everything else) take the WASM module from the one
 * module beside them that holds it (`./parser-wasm.js` / `.cjs`): stored once per module format.
 */
function wasmAsSibling(): Plugin {
  const generated = resolve(root, "src/wasm/parser.generated");
  return {
    name: "wasm-as-sibling",
    setup(build) {
      const file = sibling(build, "parser-wasm");
      build.onResolve({ filter: /parser\.generated\.js$/ }, (args) =>
        resolve(args.resolveDir, args.path).replace(/\.js$/, "") === generated ? { path: file, external: true } : undefined,
      );
    },
  };
}

/**
 * The command uses the library build beside it (`./index.js`), as a program that depends
 * on the package would, rather than a second copy of the library and its WASM module.
 * package.json (for --version) is the one thing outside src/cli/ it keeps inline.
 */
function cliUsesLibrary(): Plugin {
  return {
    name: "cli-uses-library",
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (!args.importer.startsWith(cliDir)) return undefined;
        const target = resolve(args.resolveDir, args.path);
        if (target.startsWith(cliDir) || target.endsWith(".json")) return undefined;
        if (target.startsWith(natsDir)) return { path: "./nats.js", external: true };
        return { path: "./index.js", external: true };
      });
    },
  };
}

/**
 * Browsers, workers and other non-Node runtimes get src/client/transport/default.web.ts
 * (fetch) wherever the Node build has default.ts (node:http), so their build never
 * imports node:http.
 */
function webDefaultTransport(): Plugin {
  const nodeDefault = resolve(root, "src/client/transport/default");
  return {
    name: "web-default-transport",
    setup(build) {
      build.onResolve({ filter: /(^|[/\\])default(\.[jt]s)?$/ }, (args) =>
        resolve(args.resolveDir, args.path).replace(/\.[jt]s$/, "") === nodeDefault
          ? build.resolve(args.path.replace(/default(\.[jt]s)?$/, "default.web.js"), {
              kind: args.kind,
              resolveDir: args.resolveDir,
            })
          : undefined,
      );
    },
  };
}

/**
 * The browser build (the "browser" export condition: pages and workers, as bundlers resolve
 * them) takes `<name>.browser.ts` wherever such a file stands beside the module imported:
 * the variants that hold only what a browser runs. There fetch follows redirects itself and
 * fails with no Node error codes, so Fetch's redirect rules, the TLS error table and the
 * fallbacks for workerd and Node stay out of a page's bundle (Deno, workerd and other
 * runtimes keep them in dist/web.js); and the parser has no Node buffer module to look for.
 */
function browserVariants(): Plugin {
  const clientDir = resolve(root, "src/client") + sep;
  return {
    name: "browser-variants",
    setup(build) {
      build.onResolve({ filter: /^\.\.?\/.*\.js$/ }, (args) => {
        const target = resolve(args.resolveDir, args.path);
        if (!target.startsWith(clientDir) && !target.startsWith(parserDir)) return undefined;
        const variant = target.replace(/\.js$/, ".browser.ts");
        return existsSync(variant) ? { path: variant } : undefined;
      });
    },
  };
}

/**
 * The workerd entries reach everything through the builds beside them in dist/: the parser
 * (`./parser.js`, whose one module state they register the WebAssembly.Module with), the web
 * build (`./web.js`), and `./parser.wasm`, which workerd and Wrangler compile at build time.
 */
function workerdSiblings(): Plugin {
  const dir = resolve(root, "src/workerd") + sep;
  const siblings: Record<string, string> = {
    "./parser.wasm": "./parser.wasm",
    "./parser.js": "./workerd-parser.js",
    "../parser/index.js": "./parser.js",
    "../index.js": "./web.js",
  };
  return {
    name: "workerd-siblings",
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (!args.importer.startsWith(dir)) return undefined;
        const path = siblings[args.path];
        if (path === undefined) throw new Error(`src/workerd/ may import only ${Object.keys(siblings).join(", ")}`);
        return { path, external: true };
      });
    },
  };
}

/** dist/parser.wasm: the SIMD build of assembly/, as `npm run build:wasm` wrote it (asconfig.json). */
function emitParserWasm(): void {
  const asconfig = JSON.parse(readFileSync(resolve(root, "asconfig.json"), "utf8"));
  copyFileSync(resolve(root, asconfig.targets.simd.outFile), resolve(root, "dist/parser.wasm"));
}

// Source maps: none. They were 55% of the unpacked package, and the code they would map
// to is shipped unminified, one file per entry, with the source's names and comments, so
// a stack trace already points at readable lines. Applications that bundle us make their
// own maps from this code.
const common: Options = {
  target: "es2022",
  splitting: false,
  // esbuild's own tree shaking (on when bundling). tsup's `treeshake` would rerun it through
  // rollup from an ESM build, and plugins would then see every format as ESM.
  treeshake: false,
  // `node:` imports as written: Deno resolves builtins only with the prefix.
  removeNodeProtocol: false,
  sourcemap: false,
  // No `clean`: the builds run at once, and one's clean could delete another's output;
  // `npm run build` empties dist/ first instead.
  clean: false,
};

export default defineConfig([
  // The WASM module, as a string (src/wasm/parser.generated.ts): imported by both parser builds.
  { ...common, platform: "neutral", entry: { "parser-wasm": "src/wasm/parser.generated.ts" }, format: ["esm", "cjs"], dts: false },
  // `eventsource-wasm/parser`: the parser alone, no client code, no node: import.
  { ...common, platform: "neutral", entry: { parser: "src/parser/index.ts" }, format: ["esm", "cjs"], dts: true, esbuildPlugins: [wasmAsSibling()] },
  // `eventsource-wasm/parser` in pages and workers (the "browser" condition): without the
  // probes for Node's buffer module (runtime.browser.ts), folded away as BROWSER_BUILD is.
  {
    ...common,
    platform: "browser",
    entry: { "browser-parser": "src/parser/index.ts" },
    format: ["esm", "cjs"],
    dts: false,
    minifySyntax: true,
    esbuildPlugins: [browserVariants(), wasmAsSibling()],
  },
  // `eventsource-wasm` on Node: EventSource over node:http, plus the parser.
  {
    ...common,
    platform: "node",
    entry: { index: "src/index.ts" },
    format: ["esm", "cjs"],
    dts: true,
    esbuildPlugins: [parserAsSibling()],
  },
  // `eventsource-wasm` everywhere else (package.json "exports"): EventSource over fetch.
  // The declarations are index.d.ts's: the API is the same.
  {
    ...common,
    platform: "browser",
    entry: { web: "src/index.ts" },
    format: ["esm", "cjs"],
    dts: false,
    // Until the client has no node: import left on this path, keep it visible rather
    // than failing the whole build: test/package/dist.test.ts checks that web.js imports none.
    external: [/^node:/],
    esbuildPlugins: [parserAsSibling(), webDefaultTransport()],
  },
  // `eventsource-wasm` in pages and workers (the "browser" condition, which bundlers targeting
  // browsers take): the web build with the browser variants (see browserVariants).
  {
    ...common,
    platform: "browser",
    entry: { browser: "src/index.ts" },
    format: ["esm", "cjs"],
    dts: false,
    // Folds platform.browser.ts's BROWSER_BUILD into the code that tests it, leaving out the
    // branches only other runtimes take (esbuild inlines a constant across modules only while
    // it bundles them, so an app's bundler could not). Names, doc comments and layout stay.
    minifySyntax: true,
    esbuildPlugins: [parserAsSibling("browser-parser"), browserVariants()],
  },
  // The `eventsource-wasm` command (package.json "bin"; its shebang is the first line of
  // src/cli/main.ts): ESM only and no types, since nothing imports it.
  { ...common, platform: "node", entry: { cli: "src/cli/main.ts" }, format: ["esm"], dts: false, external: natsExternal, esbuildPlugins: [cliUsesLibrary()] },
  // `eventsource-wasm` and `eventsource-wasm/parser` under the "workerd" export condition:
  // the WASM engine from dist/parser.wasm. ESM only, as workerd and Wrangler load it.
  {
    ...common,
    platform: "browser",
    entry: { workerd: "src/workerd/index.ts", "workerd-parser": "src/workerd/parser.ts" },
    format: ["esm"],
    dts: false,
    esbuildPlugins: [workerdSiblings()],
    onSuccess: async () => emitParserWasm(),
  },
  // `eventsource-wasm/shared`: one connection shared by the tabs of an origin.
  { ...common, platform: "browser", entry: { shared: "src/shared/index.ts" }, format: ["esm", "cjs"], dts: true, esbuildPlugins: [coreAsSibling("shared", "browser")] },
  // `eventsource-wasm/nats`: the NATS packages are optional peer dependencies, kept external.
  { ...common, platform: "node", entry: { nats: "src/nats/index.ts" }, format: ["esm", "cjs"], dts: true, external: natsExternal, esbuildPlugins: [coreAsSibling("nats", "index")] },
]);
