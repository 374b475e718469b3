// Whether the page's own Content-Security-Policy forbids compiling WebAssembly, read before
// the compile: a compile that CSP refuses fires a `securitypolicyviolation` event (and sends
// the policy's report) in Chromium and Firefox, and nothing in `WebAssembly` can tell without
// compiling. A policy in a <meta> element can be read; one sent as a response header cannot,
// so under such a policy the compile is still tried once.

// CSP 3: compiling WebAssembly is checked against the first script-src directive, or the first
// default-src where there is none; 'unsafe-eval' allows it as 'wasm-unsafe-eval' does.
const directive = (name: string) => new RegExp(`(?:^|;)\\s*${name}(?![^\\s;])([^;]*)`, "i");
const SCRIPT_SRC = directive("script-src");
const DEFAULT_SRC = directive("default-src");
const ALLOWS = /(?:^|\s)'(?:wasm-)?unsafe-eval'(?!\S)/i;

/**
 * Why a `<meta http-equiv="Content-Security-Policy">` of this document refuses WebAssembly,
 * or undefined (no document, no such policy, or one that allows it).
 */
export function metaPolicyRefusesWasm(): string | undefined {
  try {
    const metas = (globalThis as unknown as { document?: { querySelectorAll(s: string): Iterable<{ content: string }> } }).document?.querySelectorAll(
      'meta[http-equiv="content-security-policy" i]',
    );
    for (const meta of metas ?? []) {
      // A <meta> may hold several policies, comma-separated; each one must allow the compile.
      for (const policy of meta.content.split(",")) {
        const sources = (SCRIPT_SRC.exec(policy) ?? DEFAULT_SRC.exec(policy))?.[1];
        if (sources !== undefined && !ALLOWS.test(sources)) return "a <meta> Content-Security-Policy forbids WebAssembly";
      }
    }
  } catch {
    // A DOM that cannot be read tells nothing: the compile decides.
  }
  return undefined;
}
