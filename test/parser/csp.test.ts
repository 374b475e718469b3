// Reading a page's <meta> Content-Security-Policy before compiling WebAssembly. The browsers
// themselves (test/browsers, the "CSP in a <meta> element" case) check that no violation fires;
// here the policy reading, on documents that answer querySelectorAll as a page's does.
import { afterEach, expect, test } from "vitest";
import { metaPolicyRefusesWasm } from "../../src/parser/csp.js";

type Meta = { "http-equiv"?: string; content: string };

// As a page answers the one selector the reader uses: a case-insensitive, exact match.
function withMetas(metas: Meta[]): void {
  (globalThis as { document?: unknown }).document = {
    querySelectorAll(selector: string) {
      expect(selector).toBe('meta[http-equiv="content-security-policy" i]');
      return metas.filter((m) => m["http-equiv"]?.toLowerCase() === "content-security-policy");
    },
  };
}

afterEach(() => {
  delete (globalThis as { document?: unknown }).document;
});

const csp = (content: string): Meta => ({ "http-equiv": "Content-Security-Policy", content });

test("no document, or no policy in one: nothing refuses", () => {
  expect(metaPolicyRefusesWasm()).toBeUndefined();
  withMetas([{ "http-equiv": "refresh", content: "5" }, { content: "width=device-width" }]);
  expect(metaPolicyRefusesWasm()).toBeUndefined();
});

test.each([
  ["default-src 'self'", true],
  ["script-src 'self'", true],
  ["default-src 'self' 'wasm-unsafe-eval'", false],
  ["script-src 'self' 'unsafe-eval'", false],
  ["SCRIPT-SRC 'self' 'WASM-UNSAFE-EVAL'", false],
  // script-src decides over default-src, whichever comes first.
  ["default-src 'wasm-unsafe-eval'; script-src 'self'", true],
  ["script-src 'self'; default-src 'wasm-unsafe-eval'", true],
  ["script-src 'wasm-unsafe-eval'; default-src 'none'", false],
  // The first directive of a name counts; a later duplicate is ignored.
  ["script-src 'self'; script-src 'wasm-unsafe-eval'", true],
  ["default-src 'none'; default-src 'wasm-unsafe-eval'", true],
  // Neither directive: compiling is not restricted.
  ["connect-src 'self'; img-src *", false],
  ["script-src-elem 'self'", false],
  ["default-src 'self';script-src 'wasm-unsafe-eval'", false],
  ["  script-src 'self' ; img-src *", true],
  // An empty source list allows nothing.
  ["script-src; default-src 'wasm-unsafe-eval'", true],
  // Whitespace of any kind between tokens; a source that only contains the keyword is not it.
  ["script-src\t'self'\n'wasm-unsafe-eval'", false],
  ["script-src 'self' https://x/'wasm-unsafe-eval'", true],
  ["script-src 'unsafe-eval'x 'self'", true],
])("%j refuses: %s", (policy, refuses) => {
  withMetas([csp(policy)]);
  expect(metaPolicyRefusesWasm() !== undefined).toBe(refuses);
});

test("several policies, in one element or in several: each must allow it", () => {
  withMetas([csp("default-src *, script-src 'self'")]);
  expect(metaPolicyRefusesWasm()).toMatch(/CSP forbids WebAssembly/);
  withMetas([csp("script-src 'wasm-unsafe-eval'"), { "http-equiv": "content-security-policy", content: "default-src 'self'" }]);
  expect(metaPolicyRefusesWasm()).toMatch(/CSP forbids WebAssembly/);
  withMetas([csp("script-src 'wasm-unsafe-eval'"), csp("default-src 'unsafe-eval'")]);
  expect(metaPolicyRefusesWasm()).toBeUndefined();
});

test("a report-only policy refuses nothing", () => {
  withMetas([{ "http-equiv": "Content-Security-Policy-Report-Only", content: "default-src 'self'" }]);
  expect(metaPolicyRefusesWasm()).toBeUndefined();
});

test("a document that throws when read tells nothing", () => {
  (globalThis as { document?: unknown }).document = {
    querySelectorAll() {
      throw new Error("detached");
    },
  };
  expect(metaPolicyRefusesWasm()).toBeUndefined();
});
