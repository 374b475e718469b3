// Whether the page's own Content-Security-Policy forbids compiling WebAssembly, read before
// the compile: a compile that CSP refuses fires a `securitypolicyviolation` event (and sends
// the policy's report) in Chromium and Firefox, and nothing in `WebAssembly` can tell without
// compiling. A policy in a <meta> element can be read; one sent as a response header cannot,
// so under such a policy the compile is still tried once. Written for size (about 0.2 kB
// gzipped in a bundle): two regex literals gzip smaller than one regex built for both names.

/**
 * Why a `<meta http-equiv="Content-Security-Policy">` of this document refuses WebAssembly,
 * or undefined (no document, no such policy, or one that allows it).
 */
export function metaPolicyRefusesWasm(): string | undefined {
  try {
    const doc = (globalThis as unknown as { document?: { querySelectorAll(s: string): Iterable<{ content: string }> } }).document;
    for (const meta of doc?.querySelectorAll('meta[http-equiv="content-security-policy" i]') ?? []) {
      // A <meta> may hold several policies, comma-separated; each one must allow the compile.
      for (const policy of meta.content.split(",")) {
        // CSP 3: the compile is checked against the first script-src directive, or the first
        // default-src where there is none; 'unsafe-eval' allows it as 'wasm-unsafe-eval' does.
        const sources = (/(?:^|;)\s*script-src(?![^\s;])([^;]*)/i.exec(policy) ?? /(?:^|;)\s*default-src(?![^\s;])([^;]*)/i.exec(policy))?.[1];
        if (sources !== undefined && !/(?:^|\s)'(?:wasm-)?unsafe-eval'(?!\S)/i.test(sources)) return "a <meta> CSP forbids WebAssembly";
      }
    }
  } catch {
    // A DOM that cannot be read tells nothing: the compile decides.
  }
  return undefined;
}
