// String decoding for the TypeScript engine. The parser hands over byte spans; how cheaply
// they become strings decides most of the speed (docs/PARSER.md, "Decoding"), so the
// cheapest exact call is used for each span.

type NodeBufferModule = {
  Buffer: {
    prototype: {
      latin1Slice?: (this: Uint8Array, start: number, end: number) => string;
      latin1Write?: (this: Uint8Array, text: string, offset: number, length: number) => number;
    };
    byteLength(value: string, encoding: "utf8"): number;
  };
  isAscii?: (input: ArrayBufferView) => boolean;
};

// Node-only fast paths, looked up once and behind a check so that Deno, Bun and other
// runtimes without them get the web-standard fallbacks below.
const nodeBuffer: NodeBufferModule | undefined = (() => {
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
      .process;
    return proc?.getBuiltinModule?.("node:buffer") as NodeBufferModule | undefined;
  } catch {
    return undefined;
  }
})();

// Node's latin1Slice works on any Uint8Array, so no Buffer object has to be made per chunk
// (that allocation showed up as a fifth of the time at 64-byte chunks). Checked, not assumed.
const latin1Slice = (() => {
  const slice = nodeBuffer?.Buffer.prototype.latin1Slice;
  try {
    if (slice?.call(Uint8Array.of(0x41, 0xe9), 0, 2) === "A\u00e9") return slice;
  } catch {
    // fall through to the web-standard decoder
  }
  return undefined;
})();

const nodeIsAscii = nodeBuffer?.isAscii;

// Its inverse, for a carried line's bytes: also checked.
const latin1Write = (() => {
  const write = nodeBuffer?.Buffer.prototype.latin1Write;
  try {
    const out = new Uint8Array(2);
    if (write?.call(out, "A\u00e9", 0, 2) === 2 && out[0] === 0x41 && out[1] === 0xe9) return write;
  } catch {
    // fall through to the loop
  }
  return undefined;
})();

/**
 * bytes[start, end) as a string with one char per byte: exact for every ASCII span of it, so a
 * whole chunk can be decoded once and its ASCII fields sliced out of it.
 */
export function latin1String(bytes: Uint8Array, start: number, end: number): string {
  if (latin1Slice !== undefined) return latin1Slice.call(bytes, start, end);
  // Not TextDecoder("latin1"): that is windows-1252, which maps 0x80-0x9F elsewhere, and a
  // carried line relies on getting its exact bytes back.
  let out = "";
  for (let i = start; i < end; i += 8192) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 8192)) as unknown as number[]);
  }
  return out;
}

/** Whether bytes[start, end) are all below 0x80. */
export function isAsciiSpan(bytes: Uint8Array, start: number, end: number): boolean {
  if (nodeIsAscii !== undefined && end - start > 64) {
    return nodeIsAscii(bytes.subarray(start, end));
  }
  for (let i = start; i < end; i++) if (bytes[i]! >= 0x80) return false;
  return true;
}

// Decoding in streaming mode runs about 2.5x faster on long non-ASCII input in Node 20
// (64 KiB of CJK text: 70 µs against 180 µs; measured), and costs the same on short input.
// It is safe to share because every call ends on an ASCII byte, which leaves the decoder
// with no pending bytes. `ignoreBOM: true`: the stream's one leading BOM is stripped by the
// parser itself; a default decoder would also strip a U+FEFF that starts a decoded span, which
// is data.
const lineDecoder = new TextDecoder("utf-8", { ignoreBOM: true });
const STREAM = { stream: true };

/**
 * WHATWG UTF-8 decode of whole lines, bytes[start, end), where bytes[end - 1] is ASCII (a
 * line end). Faster than a non-streaming decode on long input.
 */
export function utf8Lines(bytes: Uint8Array, start: number, end: number): string {
  return lineDecoder.decode(bytes.subarray(start, end), STREAM);
}

// Where utf8Joined() puts its bytes: kept for the next call up to this size, so that a
// parser does not allocate per chunk and the process does not keep a large one.
const JOIN_KEEP = 256 * 1024;
let joinScratch = new Uint8Array(4096);

/**
 * WHATWG UTF-8 decode of whole lines: the bytes that a latin1 string holds (one char per
 * byte: a carried line) followed by bytes[start, end), where bytes[end - 1] is a line end.
 */
export function utf8Joined(latin1: string, bytes: Uint8Array, start: number, end: number): string {
  const size = latin1.length + end - start;
  let out = joinScratch;
  if (size > out.length) {
    out = new Uint8Array(Math.max(size, out.length * 2));
    if (out.length <= JOIN_KEEP) joinScratch = out;
  }
  if (latin1Write !== undefined) {
    latin1Write.call(out, latin1, 0, latin1.length);
  } else {
    for (let i = 0; i < latin1.length; i++) out[i] = latin1.charCodeAt(i);
  }
  out.set(bytes.subarray(start, end), latin1.length);
  return lineDecoder.decode(out.subarray(0, size), STREAM);
}

/**
 * The UTF-8 byte length of a string without lone surrogates (as every decoder output is): the
 * bytes it was decoded from, when they were valid UTF-8.
 */
export function utf8Length(text: string): number {
  if (nodeBuffer !== undefined) return nodeBuffer.Buffer.byteLength(text, "utf8");
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // One more byte from U+0080, two more from U+0800; a surrogate pair (4 bytes) is two
    // chars, the high one counting the two more.
    if (c >= 0x80) n += c < 0x800 ? 1 : c >= 0xdc00 && c < 0xe000 ? 0 : 2;
  }
  return n;
}
