// Bytes to strings (and strings to bytes) for both engines: the one place that decodes. The
// parsers hand over byte spans; how cheaply they become strings decides most of the speed
// (docs/PARSER.md, "Decoding"), so the cheapest exact call is used for each span: Node's
// Buffer methods where runtime.ts found them, web-standard ones elsewhere.

import { latin1Slice, nodeBuffer, nodeIsAscii, ucs2Slice } from "./runtime.js";

/**
 * bytes[start, end) with one char per byte (U+0000-U+00FF, the byte's value): exact for every
 * ASCII span of it, so a whole chunk can be decoded once and its ASCII fields sliced out of
 * it, and its offsets are the bytes'.
 */
export function latin1String(bytes: Uint8Array, start: number, end: number): string {
  if (latin1Slice !== undefined) return latin1Slice.call(bytes, start, end);
  if (end - start <= SHORT_SPAN) {
    return String.fromCharCode.apply(null, span(bytes, start, end) as unknown as number[]);
  }
  // Not TextDecoder("latin1"): the Encoding standard makes that windows-1252, which maps
  // 0x80-0x9F elsewhere, and the TS engine's slow path relies on getting each byte back.
  // Text is mostly ASCII, which UTF-8 decodes one char per byte with one native call (where
  // String.fromCharCode.apply in pieces made the TS engine 0.3-0.67x eventsource-parser in
  // Chromium); other bytes are widened to UTF-16 code units of the same value and decoded so.
  const text = asciiString(bytes, start, end);
  if (text !== undefined) return text;
  const wide = new Uint16Array(end - start);
  wide.set(span(bytes, start, end));
  utf16Decoder ??= new TextDecoder("utf-16le", { ignoreBOM: true });
  return utf16Decoder.decode(wide);
}

// Up to this length a span is decoded by String.fromCharCode.apply, where a TextDecoder call
// costs more than the chars. Past it the browsers disagree: in Chromium fromCharCode.apply
// is faster up to a few hundred bytes (the TS engine on market ticks in 64-byte chunks:
// 1.70x eventsource-parser so, 1.04x with TextDecoder), in WebKit it is much slower (0.52x
// so, 1.30x with TextDecoder; the WASM engine's fields 0.68x and 1.30x), measured with
// bench/browser-parse.mjs at 43132ac. WebKit's loss is the larger one.
const SHORT_SPAN = 24;

let utf16Decoder: TextDecoder | undefined;

/** bytes[start, end) as UTF-16LE code units, as assembly/ writes them: no lone surrogate. */
export function utf16String(bytes: Uint8Array, start: number, end: number): string {
  if (ucs2Slice !== undefined) return ucs2Slice.call(bytes, start, end);
  // (A lone surrogate would become U+FFFD here and stay itself in ucs2Slice.)
  utf16Decoder ??= new TextDecoder("utf-16le", { ignoreBOM: true });
  return utf16Decoder.decode(span(bytes, start, end));
}

/** Spans of one ArrayBuffer (the WASM engine's memory) as strings, by method calls on one object. */
export interface SpanDecoder {
  /** As latin1String on the whole buffer. */
  latin1Slice(start: number, end: number): string;
  /** As utf16String on the whole buffer. */
  ucs2Slice(start: number, end: number): string;
}

// Web-standard SpanDecoder.
class WebSpans implements SpanDecoder {
  readonly #bytes: Uint8Array;

  constructor(buffer: ArrayBuffer) {
    this.#bytes = new Uint8Array(buffer);
  }

  latin1Slice(start: number, end: number): string {
    return latin1String(this.#bytes, start, end);
  }

  ucs2Slice(start: number, end: number): string {
    return utf16String(this.#bytes, start, end);
  }
}

/**
 * A SpanDecoder for `buffer`: a Buffer over it where Node's methods were found (no copy),
 * else the web-standard fallbacks. For a buffer that outlives many calls: a method call on
 * one object reaches Node's decoder with less work than `latin1String`'s call through
 * Function.prototype.call: the WASM engine taking that call instead counted about 7% more
 * instructions on market ticks at 64-byte chunks (against 7f93882).
 */
export function spanDecoder(buffer: ArrayBuffer): SpanDecoder {
  if (nodeBuffer !== undefined && latin1Slice !== undefined && ucs2Slice !== undefined) {
    return nodeBuffer.Buffer.from(buffer) as unknown as SpanDecoder;
  }
  return new WebSpans(buffer);
}

/**
 * latin1String(bytes, start, end) when those bytes are all ASCII, else undefined. Without
 * Node's isAscii and latin1Slice, one TextDecoder call both checks and decodes them: UTF-8
 * makes one char of an ASCII byte; of the other bytes, a valid sequence makes fewer chars
 * than bytes, and an invalid one at most one U+FFFD per byte, so the same length and no
 * U+FFFD means all ASCII.
 */
export function asciiString(bytes: Uint8Array, start: number, end: number): string | undefined {
  if (latin1Slice !== undefined && nodeIsAscii !== undefined) {
    return nodeIsAscii(span(bytes, start, end)) ? latin1Slice.call(bytes, start, end) : undefined;
  }
  const text = utf8Decoder.decode(span(bytes, start, end));
  // Not copied into a string of V8's own, though Chromium's TextDecoder makes an external
  // string: the copy cost more than it saved in Chromium 156 (the TS engine on market ticks,
  // 0.69x eventsource-parser with it, 0.92x without, in 64 KiB chunks; 0.68x and 0.89x in
  // 1460-byte chunks; CPU time, against e3a4240). The TS engine reads the chunk's bytes, not
  // its chars, where it can (see EventBuffers' asciiLines).
  return text.length !== end - start || text.indexOf("\uFFFD") !== -1 ? undefined : text;
}

// `ignoreBOM: true` everywhere: the stream's one leading BOM is stripped by the parser itself;
// a default decoder would also strip a U+FEFF that starts a decoded span, which is data.
const utf8Decoder = new TextDecoder("utf-8", { ignoreBOM: true });
// Node 20 decodes long non-ASCII input about twice as fast in streaming mode (119 bytes:
// 200 ns against 333 ns and 1190 bytes: 1.2 us against 2.7 us at b0dfb3c; 64 KiB of CJK text:
// 70 us against 180 us at 825ba56), and the same on short input. A call that ends on an ASCII byte
// leaves the decoder with nothing pending, so a span followed by an ASCII byte is decoded
// with that byte, which is then cut off: the same text as decoding the span alone.
const streamDecoder = new TextDecoder("utf-8", { ignoreBOM: true });
const STREAM = { stream: true };
const STREAM_MIN = 48;

/** bytes[start, end), a whole value, WHATWG-decoded from UTF-8 (U+FFFD for bad bytes). */
export function utf8String(bytes: Uint8Array, start: number, end: number): string {
  if (end - start >= STREAM_MIN && end < bytes.length && bytes[end]! < 0x80) {
    return streamDecoder.decode(bytes.subarray(start, end + 1), STREAM).slice(0, -1);
  }
  return utf8Decoder.decode(bytes.subarray(start, end));
}

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
// its species constructor, which cost 3% of the time of non-ASCII text in 1460-byte chunks (ec64461).
export function span(bytes: Uint8Array, start: number, end: number): Uint8Array {
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

const encoder = new TextEncoder();
/** U+FFFD in UTF-8: what a lone surrogate encodes to. */
const REPLACEMENT = Uint8Array.of(0xef, 0xbf, 0xbd);

/**
 * UTF-8 encoding of one stream's string chunks. A chunk may end between the two halves of a
 * surrogate pair (a string cut by code unit, as `slice` does): its high surrogate is held for
 * the next string, so the pair encodes as the one character it is. A held surrogate that no
 * low one follows is a lone surrogate: U+FFFD, as TextEncoder makes it.
 */
export class StringEncoder {
  #high = "";

  /** Whether a high surrogate waits for the next string. */
  get holding(): boolean {
    return this.#high !== "";
  }

  /** The next string's bytes, after those of a held surrogate. */
  encode(chunk: string): Uint8Array {
    if (this.#high !== "") {
      chunk = this.#high + chunk;
      this.#high = "";
    }
    const last = chunk.charCodeAt(chunk.length - 1);
    if (last >= 0xd800 && last < 0xdc00) {
      this.#high = chunk.slice(-1);
      chunk = chunk.slice(0, -1);
    }
    return encoder.encode(chunk);
  }

  /**
   * Bytes fed after the strings: no low half can follow a held surrogate now, so its U+FFFD
   * goes before them.
   */
  before(bytes: Uint8Array): Uint8Array {
    if (this.#high === "") return bytes;
    this.#high = "";
    const out = new Uint8Array(REPLACEMENT.length + bytes.length);
    out.set(REPLACEMENT);
    out.set(bytes, REPLACEMENT.length);
    return out;
  }

  /** The stream ended: a held surrogate belongs to its unfinished line, which is dropped. */
  reset(): void {
    this.#high = "";
  }
}
