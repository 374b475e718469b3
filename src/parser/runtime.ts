// What Node (and runtimes that copy its buffer module) offers the parser beyond the web
// standards: Buffer's decoding methods, each checked once, and environment variables. The
// browser build takes runtime.browser.ts instead, where there are none, so that a page's
// bundle carries neither the probes nor the branches that use them.

type NodeBufferModule = {
  Buffer: {
    prototype: {
      latin1Slice?: (this: Uint8Array, start: number, end: number) => string;
      ucs2Slice?: (this: Uint8Array, start: number, end: number) => string;
    };
    byteLength(value: string, encoding: "utf8"): number;
    from(buffer: ArrayBuffer): Uint8Array;
  };
  isAscii?: (input: ArrayBufferView) => boolean;
};

// Node's buffer module, found the one way for both engines: getBuiltinModule (Node 20.16+,
// and runtimes that copy it), else the Buffer global (older Node 20). Neither is assumed:
// where neither is there (browsers, workers) or a method fails its check below, the
// web-standard fallbacks serve.
export const nodeBuffer: NodeBufferModule | undefined = (() => {
  try {
    const g = globalThis as {
      process?: { getBuiltinModule?: (id: string) => unknown };
      Buffer?: NodeBufferModule["Buffer"];
    };
    const mod = g.process?.getBuiltinModule?.("node:buffer") as NodeBufferModule | undefined;
    if (mod?.Buffer !== undefined) return mod;
    return g.Buffer !== undefined ? { Buffer: g.Buffer } : undefined;
  } catch {
    return undefined;
  }
})();

// Buffer's slice methods work on any Uint8Array (so no Buffer object is made per chunk: that
// allocation was a fifth of the time at 64-byte chunks, at 82f1d15) and on WASM memory. Each
// is checked on bytes whose decoding tells a real one from a look-alike.
function checked<T extends (this: Uint8Array, start: number, end: number) => string>(
  method: T | undefined,
  bytes: Uint8Array,
  expected: string,
): T | undefined {
  try {
    if (method?.call(bytes, 0, bytes.length) === expected) return method;
  } catch {
    // fall through to the web-standard decoder
  }
  return undefined;
}
export const latin1Slice = checked(nodeBuffer?.Buffer.prototype.latin1Slice, Uint8Array.of(0x41, 0x80, 0x9f, 0xe9), "A\u0080\u009f\u00e9");
export const ucs2Slice = checked(nodeBuffer?.Buffer.prototype.ucs2Slice, Uint8Array.of(0x41, 0, 0x3d, 0xd8), "A\ud83d");
export const nodeIsAscii = nodeBuffer?.isAscii;

/**
 * An environment variable, or undefined when unset or when the runtime refuses the read (Deno
 * without --allow-env throws NotCapable): a setting that cannot be read is not set.
 */
export const readEnv: ((name: string) => string | undefined) | undefined = (name) => {
  try {
    const value = (globalThis as { process?: { env?: Record<string, unknown> } }).process?.env?.[name];
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
};
