/**
 * The browser build's variants (`<name>.browser.ts`, swapped in by tsup.config.ts's
 * browserVariants): each stands in for its module, so it exports the same names, and does
 * what a browser's fetch leaves to it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { getEventListeners } from "node:events";
import { describe, expect, test } from "vitest";
import * as abort from "../../src/client/abort.browser.js";
import * as failures from "../../src/client/failures.browser.js";
import * as body from "../../src/client/transport/body.browser.js";
import * as choose from "../../src/client/transport/choose.browser.js";
import * as redirect from "../../src/client/redirect.browser.js";
import * as platform from "../../src/client/transport/platform.browser.js";
import type { TransportResponse } from "../../src/client/transport/types.js";

const clientDir = fileURLToPath(new URL("../../src/client/", import.meta.url));
const files = readdirSync(clientDir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
const variants = files.filter((f) => f.endsWith(".browser.ts"));

/**
 * The names (not types) that the modules of the browser build import from `module` (a path
 * under src/client/).
 */
function importedFrom(module: string): string[] {
  const names = new Set<string>();
  for (const file of files) {
    // A module with a variant is not in the browser build: what it imports does not count.
    if (files.includes(file.replace(/\.ts$/, ".browser.ts"))) continue;
    const source = readFileSync(join(clientDir, file), "utf8");
    for (const [, list, from] of source.matchAll(/^import \{([^}]*)\} from "(\.[^"]+)\.js";/gm)) {
      if (relative(clientDir, resolve(dirname(join(clientDir, file)), from!)) !== module) continue;
      for (const name of list!.split(",").map((n) => n.trim())) {
        if (name !== "" && !name.startsWith("type ")) names.add(name.split(" as ")[0]!);
      }
    }
  }
  return [...names].sort();
}

describe("browser variants", () => {
  test("there are some", () => {
    expect(variants.length).toBeGreaterThan(0);
  });

  test.each(variants)("%s exports what the client imports from the module it replaces, and nothing else", async (file) => {
    const module = file.replace(/\.browser\.ts$/, "");
    const variant = Object.keys(await import(`${clientDir}${file}`));
    const original = Object.keys(await import(`${clientDir}${module}.ts`));
    expect(variant.filter((name) => !original.includes(name))).toEqual([]);
    const used = importedFrom(module);
    expect(used.length, `nothing imports ${module}`).toBeGreaterThan(0);
    expect(used.filter((name) => !variant.includes(name))).toEqual([]);
  });

  test("no failure is permanent: a browser's fetch carries no error code", () => {
    const tls = Object.assign(new Error("certificate has expired"), { code: "CERT_HAS_EXPIRED" });
    const error = new TypeError("Failed to fetch", { cause: tls });
    expect(failures.tlsFailure(error, new URL("https://a.test/"))).toBeNull();
    const corrupt = Object.assign(new Error("incorrect header check"), { code: "Z_DATA_ERROR" });
    expect(failures.decodingFailure(new TypeError("terminated", { cause: corrupt }))).toBeNull();
  });

  test("no response is a redirect to follow: the browser followed it", () => {
    let cancelled = false;
    const response = {
      status: 307,
      statusText: "",
      header: (name: string) => (name === "location" ? "/next" : null),
      headers: () => new Headers({ location: "/next" }),
      cancel: () => void (cancelled = true),
    } as unknown as TransportResponse;
    expect(redirect.redirectOf(response, new URL("http://a.test/"), "GET", null, 0, 20)).toBeNull();
    expect(cancelled).toBe(false);
  });

  test("a redirect never drops the body's headers: the browser did what was needed", () => {
    for (const name of ["content-type", "content-length", "content-encoding", "x-other"]) {
      expect(redirect.isRequestBodyHeader(name), name).toBe(false);
    }
  });

  test("each watch of a signal is its own listener: called once on abort, removed by its unwatch", () => {
    const controller = new AbortController();
    const calls: string[] = [];
    const stopA = abort.watchAbort(controller.signal, () => calls.push("a"));
    abort.watchAbort(controller.signal, () => calls.push("b"));
    const stopC = abort.watchAbort(controller.signal, () => calls.push("c"));
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(3);
    stopA();
    stopA();
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(2);
    controller.abort();
    controller.abort();
    expect(calls).toEqual(["b", "c"]);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    stopC();
  });

  test("always a browser, whose fetch gets the `cache` field", async () => {
    expect(platform.inBrowser()).toBe(true);
    expect(platform.BROWSER_BUILD).toBe(true);
    const seen: unknown[] = [];
    const fetchFn = async (_url: string, init: unknown) => {
      seen.push({ ...(init as object) });
      return { status: 200, statusText: "", headers: new Headers(), body: null };
    };
    const init = { method: "GET", headers: {}, redirect: "follow" as const, cache: "no-store" as const, signal: new AbortController().signal };
    await platform.send(fetchFn, "http://a.test/", init);
    expect(seen).toEqual([expect.objectContaining({ cache: "no-store", redirect: "follow" })]);
  });

  test("fetch is the one transport: the Node transport's options are refused, their defaults taken", async () => {
    const calls: unknown[] = [];
    const fetchFn = async (_url: string, init: unknown) => {
      calls.push(init);
      return { status: 204, statusText: "", headers: new Headers(), body: null };
    };
    for (const node of [{ tls: { rejectUnauthorized: false } }, { proxy: "http://127.0.0.1:1" }, { compression: false }, { compression: "no" }, { http2: true }, { http2: false }]) {
      expect(() => choose.chooseTransport(node as never), JSON.stringify(node)).toThrow(/Node transport/);
    }
    const { transport, browser } = choose.chooseTransport({ fetch: fetchFn, compression: true, http2: "auto" });
    expect(browser).toBe(true);
    await transport({ url: new URL("http://a.test/"), method: "GET", headers: {}, body: null, signal: new AbortController().signal });
    expect(calls).toEqual([expect.objectContaining({ redirect: "follow", mode: "cors", credentials: "same-origin" })]);
  });

  test("a body is read as a ReadableStream; a Node stream is not one", async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array([1, 2]));
        controller.close();
      },
    });
    const reader = body.bodyOf(stream);
    expect(typeof reader).toBe("function");
    expect(await (reader as () => { read(): Promise<unknown> })().read()).toEqual({ done: false, value: new Uint8Array([1, 2]) });
    expect(body.bodyOf(null)).toBeNull();
    const iterable = { async *[Symbol.asyncIterator]() {} };
    expect(body.bodyOf(iterable)).toMatch(/not a ReadableStream \(got Object\)/);
    expect(body.bodyOf("data: x\n\n")).toMatch(/not a ReadableStream \(got string\)/);
    expect(body.bodyOf(undefined)).toMatch(/not a ReadableStream \(got undefined\)/);
  });
});
