// A parser module compiled by the platform instead of by us: workerd (Cloudflare Workers)
// refuses to compile WebAssembly from bytes at run time ("Wasm code generation disallowed by
// embedder") but compiles a `.wasm` file imported at build time into a WebAssembly.Module.
let supplied: WebAssembly.Module | undefined;

/**
 * Makes the WASM engine instantiate `module`, a `WebAssembly.Module` of the package's
 * dist/parser.wasm (the SIMD build), instead of compiling the bytes it embeds. Call it before
 * the first parser is made; the package's `workerd` entry does it on import.
 *
 * Typed `object`, not `WebAssembly.Module`: the declarations must compile in projects whose
 * libs have no WebAssembly namespace (es2022 without dom).
 */
export function useWasmModule(module: object): void {
  supplied = module as WebAssembly.Module;
}

export function suppliedWasmModule(): WebAssembly.Module | undefined {
  return supplied;
}
