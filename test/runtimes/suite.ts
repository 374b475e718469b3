// The smoke suite every runtime runs against the packed package (scripts/test-runtimes.mjs
// bundles it with the spec cases; `eventsource-wasm` itself is resolved by each runtime, or
// by esbuild for the browser, through the package's "exports"). Only web APIs here: the
// same code runs in Node, Bun, Deno, a page and a worker.
import { specCases } from "../support/spec-cases.js";
import type { Output } from "../support/oracle.js";

type Library = typeof import("eventsource-wasm");
type ParserLibrary = typeof import("eventsource-wasm/parser");

export interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}

export interface SuiteResult {
  checks: Check[];
  engine: string;
  /** The runtime's own EventSource existed before the package was loaded. */
  nativeEventSource: boolean;
}

const enc = new TextEncoder();
const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

function parse(lib: ParserLibrary, engine: "js" | "wasm", chunks: Uint8Array[], options: object) {
  const outputs: Output[] = [];
  const parser = lib.createParser(
    {
      onEvent: (e) => outputs.push({ kind: "event", type: e.type, data: e.data, lastEventId: e.lastEventId }),
      onRetry: (ms) => outputs.push({ kind: "retry", ms }),
      onComment: (text) => outputs.push({ kind: "comment", text }),
      onError: (err) => outputs.push({ kind: "error", code: err.code }),
    },
    { ...options, engine },
  );
  for (const chunk of chunks) parser.feed(chunk);
  parser.end();
  return { outputs, lastEventId: parser.lastEventId, engine: parser.engine };
}

function specChecks(lib: ParserLibrary, engines: ("js" | "wasm")[]): Check[] {
  const checks: Check[] = [];
  for (const engine of engines) {
    const failures: string[] = [];
    for (const c of specCases) {
      const bytes = typeof c.input === "string" ? enc.encode(c.input) : new Uint8Array(c.input);
      const chunkings = {
        whole: [bytes],
        "byte by byte": Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)),
      };
      for (const [how, chunks] of Object.entries(chunkings)) {
        const got = parse(lib, engine, chunks, c.options ?? {});
        const lastOk = c.lastEventId === undefined || got.lastEventId === c.lastEventId;
        if (got.engine !== engine || !sameJson(got.outputs, c.expected) || !lastOk) {
          failures.push(`${c.name} (${how}): ${JSON.stringify(got.outputs)}`);
        }
      }
    }
    checks.push({
      name: `spec cases, ${engine} engine (${specCases.length} cases x 2 chunkings)`,
      ok: failures.length === 0,
      ...(failures.length > 0 ? { detail: failures.slice(0, 3).join("; ") } : {}),
    });
  }
  return checks;
}

/** Resolves with the value, or rejects after `ms` (a hung stream must fail the check, not the run). */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

type Source = InstanceType<Library["EventSource"]>;

/** Opens a source and resolves with what `collect` returns once it calls `done`. */
function withSource<T>(
  lib: Library,
  url: string,
  init: ConstructorParameters<Library["EventSource"]>[1],
  collect: (es: Source, done: (value: T) => void, fail: (error: unknown) => void) => void,
): Promise<T> {
  let es: Source | undefined;
  return within(
    8000,
    url,
    new Promise<T>((resolve, reject) => {
      es = new lib.EventSource(url, init);
      collect(es, resolve, reject);
    }),
  ).finally(() => es?.close());
}

async function check(name: string, body: () => Promise<string | undefined>): Promise<Check> {
  try {
    const problem = await body();
    return problem === undefined ? { name, ok: true } : { name, ok: false, detail: problem };
  } catch (error) {
    return { name, ok: false, detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

/**
 * `base` is the test server (scripts/test-runtimes.mjs); `key` keeps this run's state there
 * apart from other runtimes'. `loadLibrary` imports the package only after the runtime's own
 * EventSource (if any) has been noted.
 */
export async function runSuite(
  base: string,
  key: string,
  loadLibrary: () => Promise<[Library, ParserLibrary]>,
): Promise<SuiteResult> {
  const native = (globalThis as { EventSource?: unknown }).EventSource;
  const [lib, parserLib] = await loadLibrary();
  const checks: Check[] = [];
  const hasWasm = typeof WebAssembly === "object";

  checks.push({
    name: native === undefined ? "no global EventSource is installed" : "the runtime's own EventSource is not replaced",
    ok: (globalThis as { EventSource?: unknown }).EventSource === native && lib.EventSource !== native,
  });
  const auto = parserLib.createParser({ onEvent() {} });
  checks.push({
    name: `engine "auto" picks ${hasWasm ? "wasm" : "js"}`,
    ok: auto.engine === (hasWasm ? "wasm" : "js"),
    detail: `got ${auto.engine}`,
  });
  checks.push({
    name: "both entries share one parser build (one ParseError class)",
    ok: lib.ParseError === parserLib.ParseError && lib.createParser === parserLib.createParser,
  });
  checks.push(...specChecks(parserLib, hasWasm ? ["js", "wasm"] : ["js"]));

  const u = (path: string) => `${base}${path}?key=${encodeURIComponent(key)}`;

  checks.push(
    await check("custom headers and a POST body reach the server", () =>
      withSource<string | undefined>(
        lib,
        u("/sse/echo"),
        { method: "POST", body: "the body", headers: { "X-Smoke": "smoke-1" } },
        (es, done) => {
          es.onmessage = (e) => {
            const got = JSON.parse(e.data);
            const want = { method: "POST", body: "the body", header: "smoke-1", accept: "text/event-stream" };
            done(sameJson(got, want) ? undefined : `server saw ${e.data}`);
          };
        },
      ),
    ),
  );

  checks.push(
    await check("named events reach their listeners as MessageEvents, unnamed ones onmessage", () =>
      withSource<string | undefined>(lib, u("/sse/named"), {}, (es, done) => {
        const seen: string[] = [];
        const note = (e: Event & { data: string }) => {
          // The runtime's own MessageEvent, or one that reads as it (src/client/message-event.ts).
          const like = e instanceof MessageEvent && e.constructor === MessageEvent && e.source === null && e.ports.length === 0;
          seen.push(`${e.type}:${e.data}${like ? "" : " (not a MessageEvent)"}`);
          if (seen.length === 3) {
            const want = ["tick:1", "tock:2", "message:3"];
            done(sameJson(seen, want) ? undefined : `got ${seen.join(",")}`);
          }
        };
        es.addEventListener("tick", note);
        es.addEventListener("tock", note);
        es.onmessage = note;
      }),
    ),
  );

  checks.push(
    await check("a dropped stream reconnects and sends Last-Event-ID", () =>
      withSource<string | undefined>(lib, u("/sse/drop"), {}, (es, done) => {
        const seen: string[] = [];
        let errors = 0;
        es.onerror = () => {
          errors++;
        };
        es.onmessage = (e) => {
          seen.push(`${e.data}@${e.lastEventId}`);
          // The server cuts the first connection when asked (see scripts/test-runtimes.mjs).
          if (seen.length === 1) void fetch(u("/sse/cut")).then((r) => r.body?.cancel(), () => {});
          if (seen.length === 2) {
            // The second connection echoes the Last-Event-ID header it received.
            const want = ["first@41", "last-event-id=41@41"];
            done(sameJson(seen, want) && errors >= 1 ? undefined : `got ${seen.join(",")}, ${errors} error events`);
          }
        };
      }),
    ),
  );

  // Where the runtime's own EventTarget calls on<type> handler properties (workerd's does), the
  // library must not call them again: every way of listening hears each event once, across a
  // reconnection too.
  checks.push(
    await check("each handler and listener runs once per event (open, message, error)", () =>
      withSource<string | undefined>(lib, `${base}/sse/drop?key=${encodeURIComponent(`${key}-once`)}`, {}, (es, done) => {
        const calls: Record<string, number> = {};
        const count = (name: string) => () => {
          calls[name] = (calls[name] ?? 0) + 1;
        };
        es.onopen = count("onopen");
        es.onerror = count("onerror");
        es.addEventListener("open", count("open listener"));
        es.addEventListener("error", count("error listener"));
        es.addEventListener("message", count("message listener"));
        es.onmessage = (e) => {
          count("onmessage")();
          if (e.data === "first") {
            void fetch(`${base}/sse/cut?key=${encodeURIComponent(`${key}-once`)}`).then((r) => r.body?.cancel(), () => {});
            return;
          }
          // A second call, if any, would come in the same dispatch or soon after it.
          setTimeout(() => {
            const want = { onopen: 2, onerror: 1, "open listener": 2, "error listener": 1, "message listener": 2, onmessage: 2 };
            const got = Object.fromEntries(Object.keys(want).map((k) => [k, calls[k] ?? 0]));
            done(sameJson(got, want) ? undefined : `calls ${JSON.stringify(got)}`);
          }, 100);
        };
      }),
    ),
  );

  checks.push(
    await check("close() stops events and ends the connection", async () => {
      const after = await withSource<string | undefined>(lib, u("/sse/stream"), {}, (es, done) => {
        let count = 0;
        es.onmessage = () => {
          count++;
          if (count > 1) return done("an event arrived after close()");
          es.close();
          if (es.readyState !== lib.EventSource.CLOSED) return done(`readyState ${es.readyState} after close()`);
          // The server writes every 20 ms: a listener still attached would have heard more.
          setTimeout(() => done(undefined), 200);
        };
      });
      if (after !== undefined) return after;
      // The server notes when the request's connection closes.
      const deadline = Date.now() + 2000;
      for (;;) {
        const state = await (await fetch(u("/closed"))).text();
        if (state === "closed") return undefined;
        if (Date.now() > deadline) return "the server still has the connection open";
        await new Promise((r) => setTimeout(r, 50));
      }
    }),
  );

  // In a page or a worker, a relative URL resolves against the document's or the worker's
  // base URL, as the spec's "parse a URL" does.
  const here = (globalThis as { location?: { href: string } }).location;
  if (here !== undefined) {
    checks.push(
      await check("a relative URL resolves against the base URL", () =>
        withSource<string | undefined>(lib, `sse/named?key=${encodeURIComponent(key)}`, {}, (es, done) => {
          const want = new URL(`sse/named?key=${encodeURIComponent(key)}`, here.href).href;
          es.onmessage = () => done(es.url === want ? undefined : `url ${es.url}, expected ${want}`);
        }),
      ),
    );
  }

  if (hasWasm) {
    checks.push(
      await check("an EventSource parses with the wasm engine by default", () =>
        withSource<string | undefined>(lib, u("/sse/named"), {}, (es, done) => {
          es.onmessage = () => done(es.engine === "wasm" ? undefined : `engine ${es.engine}`);
        }),
      ),
    );
  }

  return { checks, engine: auto.engine, nativeEventSource: native !== undefined };
}
