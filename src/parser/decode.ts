// String decoding for the TypeScript engine. The parser hands over byte spans; how cheaply
// they become strings decides most of the speed (docs/PARSER.md, "Decoding"), so the
// cheapest exact call is used for each span.

type NodeBufferModule = {
  Buffer: {
    prototype: {
      latin1Slice?: (this: Uint8Array, start: number, end: number) => string;
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

/**
 * bytes[start, end) as a string with one char per byte: exact for every ASCII span of it, so a
 * whole chunk can be decoded once and its ASCII fields sliced out of it.
 */
export function latin1String(bytes: Uint8Array, start: number, end: number): string {
  if (latin1Slice !== undefined) return latin1Slice.call(bytes, start, end);
  // Not TextDecoder("latin1"): that is windows-1252, which maps 0x80-0x9F elsewhere, and a
  // slow path of a non-ASCII line relies on getting its exact bytes back.
  let out = "";
  for (let i = start; i < end; i += 8192) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 8192)) as unknown as number[]);
  }
  return out;
}

/** Whether bytes[start, end) are all below 0x80. */
export function isAsciiSpan(bytes: Uint8Array, start: number, end: number): boolean {
  if (nodeIsAscii !== undefined && end - start > 64) {
    return nodeIsAscii(span(bytes, start, end));
  }
  for (let i = start; i < end; i++) if (bytes[i]! >= 0x80) return false;
  return true;
}

// Decoding in streaming mode runs about 2.5x faster on long non-ASCII input in Node 20
// (64 KiB of CJK text: 70 µs against 180 µs; measured), and costs the same on short input.
// `ignoreBOM: true`: the stream's one leading BOM is stripped by the parser itself; a default
// decoder would also strip a U+FEFF that starts a decoded span, which is data.
const STREAM = { stream: true };

/**
 * WHATWG UTF-8 decoding of one stream's chunks: the bytes of a code point that a chunk splits
 * are kept for the next one.
 */
export class LineDecoder {
  #decoder = new TextDecoder("utf-8", { ignoreBOM: true });

  /** bytes[start, end), after the bytes of every earlier call since reset(). */
  decode(bytes: Uint8Array, start: number, end: number): string {
    return this.#decoder.decode(span(bytes, start, end), STREAM);
  }

  /** Forgets the bytes of a split code point. */
  reset(): void {
    this.#decoder.decode();
  }
}

// bytes[start, end) as a plain Uint8Array view: a Buffer's subarray() makes a Buffer through
// its species constructor, which cost 3% of the time of non-ASCII text in 1460-byte chunks.
function span(bytes: Uint8Array, start: number, end: number): Uint8Array {
  if (start === 0 && end === bytes.length) return bytes;
  return new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start);
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
