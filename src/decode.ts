// String decoding shared by both engines. The parser hands over byte spans; how cheaply they
// become strings decides most of the speed (see ../shared/DESIGN.md, "Decoding strings
// cheaply"), so the cheapest exact call is used for each span.

type NodeBuffer = {
  latin1Slice(start: number, end: number): string;
};
type NodeBufferModule = {
  Buffer: { from(ab: ArrayBufferLike, byteOffset: number, length: number): NodeBuffer };
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

// `ignoreBOM: true`: the stream's one leading BOM is stripped by the parser itself; a default
// decoder would also strip a U+FEFF that starts any field value, which is data.
const utf8Decoder = new TextDecoder("utf-8", { ignoreBOM: true });
// Only ever used on ASCII bytes, where windows-1252 (what "latin1" means to TextDecoder) and
// ISO-8859-1 agree.
const latin1Decoder = new TextDecoder("latin1");

/** A whole chunk as a string with one char per byte: exact for every ASCII span of it. */
export function latin1String(bytes: Uint8Array, start: number, end: number): string {
  if (nodeBuffer !== undefined) {
    return nodeBuffer.Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).latin1Slice(
      start,
      end,
    );
  }
  return latin1Decoder.decode(bytes.subarray(start, end));
}

/** Whether bytes[start, end) are all below 0x80. */
export function isAsciiSpan(bytes: Uint8Array, start: number, end: number): boolean {
  if (nodeBuffer?.isAscii !== undefined && end - start > 64) {
    return nodeBuffer.isAscii(bytes.subarray(start, end));
  }
  for (let i = start; i < end; i++) if (bytes[i]! >= 0x80) return false;
  return true;
}

/** WHATWG UTF-8 decode (U+FFFD for bad bytes, BOM kept) of bytes[start, end). */
export function utf8Span(bytes: Uint8Array, start: number, end: number): string {
  return utf8Decoder.decode(bytes.subarray(start, end));
}
