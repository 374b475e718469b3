// The TypeScript engine: the fallback when WebAssembly is unavailable, and the twin that the
// WASM engine is tested against. It implements docs/PARSER.md.
//
// Lines are found in the bytes (so that the size bound counts bytes), but values are sliced
// out of strings: a chunk is decoded with one native call (latin1 when it is ASCII, the
// parser's streaming UTF-8 decoder otherwise) and walked with a second cursor. Decoding the
// stream as a whole equals decoding each value alone, because every delimiter is ASCII and a
// UTF-8 decoder never lets an ASCII byte be swallowed by a bad sequence; a code point split
// across chunks is held by the decoder and only ever belongs to the line carried over. (A
// non-ASCII chunk up to 4 KiB keeps its unfinished line as bytes instead: see #scan.)
//
// This file finds the lines of each chunk and decodes them; js-events.ts, which this class
// extends, applies them to the spec's buffers (walking runs of whole lines itself) and
// dispatches the events.

import { LineDecoder, StringEncoder, asciiString, latin1String, span, utf8Length } from "./decode.js";
import { EventBuffers } from "./js-events.js";
import { SMALL_CHUNK, firstLineEnd, indexOrEnd, lastLineEnd, lineEnd } from "./lines.js";
import { bomMatched, stripBom, survey, surveyAscii, surveyFirst, surveyLast } from "./lines.js";
import type { EngineName, EventStreamParser } from "./types.js";

const LF = 0x0a;
const CR = 0x0d;
// A copy of the unfinished line costs a second decode call (in browsers a TextDecoder call:
// market ticks in 1460-byte chunks in Chromium 156, 0.89x eventsource-parser so, 1.01x with a
// slice; CPU time, against e3a4240); keeping a chunk this small alive costs little.
const SLICED_CARRY = 4096;

export class JsParser extends EventBuffers implements EventStreamParser {
  readonly engine: EngineName = "js";

  // Stream position state.
  #bomBytes = 0; // bytes of a possible leading BOM seen so far; 3 once past the stream start
  #afterCR = false; // the previous chunk ended in CR: an LF now is part of that line end
  // An unfinished line, carried across chunks: its text so far (joining pieces is V8's cheap
  // string concatenation) and its bytes, which the size bound counts. The text lacks a code
  // point whose bytes the chunk split: #decoder holds them until the next chunk (#pending).
  #line = "";
  #lineLen = 0;
  readonly #decoder = new LineDecoder();
  #pending = false; // the last chunk decoded ended in a byte >= 0x80: go on decoding
  #skipLine = false; // the unfinished line is over the size bound and is being dropped
  #utf8 = false; // the last chunk decoded had fewer chars than bytes: not ASCII
  // Bytes of the unfinished line not decoded yet (counted in #lineLen): #held[0, #heldLen).
  #held: Uint8Array | undefined;
  #heldLen = 0;
  #strings: StringEncoder | undefined; // made at the first string chunk (see StringEncoder)

  // Chunks fed while this parser reads one (from its callbacks, or from another parser's that
  // one of ours led to): they follow the chunk being read, so they wait for it, in feed order.
  #reading = false;
  #queue: Uint8Array[] | undefined;

  feed(chunk: Uint8Array | string): void {
    const bytes =
      typeof chunk === "string"
        ? (this.#strings ??= new StringEncoder()).encode(chunk)
        : this.#strings === undefined
          ? chunk
          : this.#strings.before(chunk);
    if (this.#reading) {
      // Copied, as the caller may reuse its buffer once feed() returns.
      (this.#queue ??= []).push(bytes === chunk ? bytes.slice() : bytes);
      return;
    }
    this.#reading = true;
    try {
      this.#read(bytes);
      if (this.#queue !== undefined) this.#drain();
    } catch (error) {
      // A callback threw: the stream ends there, as the WASM engine ends it (whose module has
      // scanned the rest of the chunk): its rest, the chunks queued while it was read, and
      // what the decoder or #held kept of its end are dropped.
      this.end();
      throw error;
    } finally {
      this.#reading = false;
    }
  }

  #drain(): void {
    while (this.#queue !== undefined) {
      const next = this.#queue.shift()!;
      if (this.#queue.length === 0) this.#queue = undefined;
      this.#read(next);
    }
  }

  #read(chunk: Uint8Array): void {
    let bytes = chunk;
    if (this.#bomBytes < 3) {
      bytes = stripBom(bytes, this.#bomBytes);
      this.#bomBytes = bomMatched;
      if (bytes.length === 0) return;
    }
    this.closed = false;
    this.#scan(bytes);
  }

  end(): void {
    // Chunks fed from a callback before it ended the stream belonged to the old stream.
    this.#queue = undefined;
    this.#strings?.reset();
    this.#line = "";
    this.#lineLen = 0;
    this.#dropPending();
    this.#skipLine = false;
    this.#afterCR = false;
    this.#bomBytes = 0;
    this.endEvent();
  }

  reset(): void {
    this.resetLastEventId();
    this.end();
  }

  #scan(bytes: Uint8Array): void {
    const n = bytes.length;
    let pos = 0;
    if (this.#afterCR) {
      this.#afterCR = false;
      if (bytes[0] === LF && ++pos === n) return;
    }
    // Where the lines are, and whether the bytes from pos are all ASCII. A small chunk is
    // surveyed in one loop over its bytes (a native call costs as much as the loop at 64
    // bytes); a large one is checked and, when ASCII, decoded by one call (asciiString) and
    // searched as a string (see below).
    let first: number; // the first line end, or n (-1: not looked for yet)
    let last: number; // the last line end, or -1
    let ascii: boolean;
    let str = "";
    const small = n <= SMALL_CHUNK;
    if (small) {
      survey(bytes, pos);
      first = surveyFirst;
      last = surveyLast;
      ascii = surveyAscii;
    } else {
      // (From 0, not pos: a byte before pos is an LF.)
      // A chunk after one that was not ASCII is taken for one too, unchecked (non-ASCII text
      // in 1460-byte chunks: 91.1M instructions per pass so, 92.1M checked, counted at
      // 347885c); its decoding tells.
      str = this.#utf8 ? "" : (asciiString(bytes, 0, n) ?? "");
      ascii = str !== "";
      if (ascii) {
        // One char per byte, for finding line ends: V8's string search is much faster than
        // a loop over the bytes, and the offsets are the bytes'. The last LF is searched for
        // back from the end, which crosses only the unfinished line, then CRs after it: a
        // search back for a CR that is not there crossed the whole chunk (a third of the
        // time of market ticks at 1460-byte chunks, measured at 9fac018).
        first = Math.min(indexOrEnd(str, "\n", pos), indexOrEnd(str, "\r", pos));
        last = -1;
        if (first < n) {
          last = str.lastIndexOf("\n");
          for (let cr = str.indexOf("\r", last + 1); cr >= 0; cr = str.indexOf("\r", cr + 1)) last = cr;
        }
      } else {
        // (Other text seldom needs its first line end: see below.)
        first = -1;
        last = lastLineEnd(bytes, pos);
      }
    }
    if (this.#skipLine) {
      // A line over the size bound: none of it is decoded, up to its end.
      if (last < pos) return;
      this.#skipLine = false;
      pos = this.#afterLineEnd(bytes, first < 0 ? firstLineEnd(bytes, pos) : first);
      if (pos === n) return;
    }
    const carried = this.#lineLen > 0;

    if (ascii && !this.#pending && this.#heldLen === 0) {
      // All ASCII: one string, whose chars are the bytes.
      if (last < pos) {
        this.#carry(str !== "" && pos === 0 ? str : latin1String(bytes, pos, n), n - pos);
        return;
      }
      if (str === "") str = latin1String(bytes, 0, n);
      // The line carried from earlier chunks ends at this chunk's first line end.
      if (carried) {
        this.#endCarried(str.slice(pos, first), first - pos);
        if (this.closed) return;
        pos = this.#afterLineEnd(bytes, first);
      }
      if (last >= pos) {
        this.asciiLines(str, bytes, pos, last);
        if (this.closed) return;
        pos = this.#afterLineEnd(bytes, last);
      }
      // The unfinished line. Sliced out of the string of a chunk up to SLICED_CARRY bytes
      // (which it then keeps alive); otherwise copied, so that a carried line never holds a
      // large chunk.
      if (pos < n) this.#carry(n <= SLICED_CARRY ? str.slice(pos) : latin1String(bytes, pos, n), n - pos);
      return;
    }

    // A chunk over SLICED_CARRY bytes is decoded with one call, its unfinished line too
    // (whose split code point, if any, the decoder keeps). A smaller one is decoded up to its
    // last line end: its unfinished line waits, undecoded, for the next chunk's bytes, so
    // that one call decodes both, unless the held bytes would pass SLICED_CARRY (a call
    // costs about 1,100 instructions besides its bytes', Node 20: non-ASCII text in 64-byte
    // chunks, 179.6M instructions per pass so, 193.5M decoded chunk by chunk, counted at
    // 036186d; in 1460-byte chunks no search back for the last line end and no copy of the
    // unfinished line, 92.1M against 92.9M, at acfc123).
    const hold = n <= SLICED_CARRY && (last >= pos || this.#heldLen + n - pos <= SLICED_CARRY);
    if (hold && last < pos) {
      this.#hold(bytes, pos, n);
      return;
    }
    const stop = hold ? last + 1 : n;
    const text = this.#decode(bytes, pos, stop);
    // (Decoded up to a line end, an ASCII byte, the decoder keeps nothing.)
    this.#pending = !hold && bytes[n - 1]! >= 0x80;
    this.#utf8 = text.length < stop - pos;
    if (last < pos) {
      this.#carry(text, n - pos);
      return;
    }
    // The text's last CR or LF is the chunk's last (delimiters are ASCII, decoded one to one
    // and in order): searched for by the char the bytes have there.
    const tail = hold ? text.length : text.lastIndexOf(bytes[last] === LF ? "\n" : "\r") + 1;
    // When even all the bytes of the whole lines could not break the size bound, no line
    // needs measuring (a line's data and type bytes come from its own bytes); and when they
    // are valid UTF-8, the byte length of any part of the text follows from its chars. Any
    // invalid sequence decodes to U+FFFD, so a text without one came from valid UTF-8; and as
    // a U+FFFD counts 3 bytes for the 1 to 3 it replaced, so does a text whose chars count
    // exactly its bytes: each U+FFFD in it was sent as one (20,000 CJK events with one each,
    // TS engine, Node 20: 0.61x eventsource-parser line by line at 1460-byte chunks, 0.92x so;
    // 0.55x and 0.83x at 64 KiB; timed against a3f4122).
    // The carried line's text joins the chunk's, and then takes validLines' paths too,
    // with no search for its end in the bytes (non-ASCII text in 1460-byte chunks: 93.4M
    // instructions per pass so, 95.2M through processLine, counted at 5dac9bc). Joined by
    // Array.join, whose string is flat: the chars of a concatenation are read through it
    // (101.2M).
    const lines = carried && this.#line !== "" ? [this.#line, text].join("") : text;
    const end = lines.length - text.length + tail;
    const bad = lines.indexOf("\uFFFD");
    let carriedLen = this.#lineLen;
    const linesBytes = carriedLen + last + 1 - pos; // the bytes lines[0, end) came from
    const valid = !this.discarding && this.dataLen + this.typeLen + linesBytes <= this.maxEventSize && (bad < 0 || bad >= end || utf8Length(lines.slice(0, end)) === linesBytes);
    this.#line = "";
    this.#lineLen = 0;
    if (valid) {
      this.validLines(lines, 0, end);
    } else {
      // Line by line: a byte cursor measures each line for the size bound (the first one
      // with the carried bytes) while the char cursor slices its values. Both meet the same
      // line ends, since those are ASCII.
      let q = 0;
      while (pos <= last) {
        const eol = firstLineEnd(bytes, pos);
        const textEol = lineEnd(lines, q);
        this.processLine(lines, q, textEol, eol - pos + carriedLen);
        if (this.closed) return;
        carriedLen = 0;
        pos = this.#afterLineEnd(bytes, eol);
        q = textEol + pos - eol;
      }
    }
    if (this.closed) return;
    pos = this.#afterLineEnd(bytes, last);
    if (pos < n) {
      // Not a slice, which would keep the chunk's text alive: in V8, a slice of a
      // concatenation is a slice of a fresh flat copy, as long as the line only.
      if (hold) this.#hold(bytes, pos, n);
      else this.#carry((" " + text.slice(tail)).slice(1), n - pos);
    }
  }

  // The position after the line end at `eol` (CR, LF or CRLF). A CR that ends the chunk may
  // be the first half of a CRLF: the next chunk will tell.
  #afterLineEnd(bytes: Uint8Array, eol: number): number {
    if (bytes[eol] !== CR) return eol + 1;
    if (eol + 1 === bytes.length) {
      this.#afterCR = true;
      return eol + 1;
    }
    return bytes[eol + 1] === LF ? eol + 2 : eol + 1;
  }

  // A line that the chunk does not finish: `piece`, `bytes` long, is its text from this
  // chunk (a copy or a slice of a small chunk's string, as the caller may reuse its buffer
  // once feed() returns), unless the line now breaks the size bound, in which case nothing
  // more of it is kept.
  #carry(piece: string, bytes: number): void {
    if (this.overflows(this.#lineLen + bytes)) {
      this.#line = "";
      this.#lineLen = 0;
      // (Unless onError ended the stream: the next one starts afresh.)
      this.#skipLine = !this.closed;
      // The bytes of a split code point are the dropped line's.
      this.#dropPending();
    } else {
      this.#line += piece;
      this.#lineLen += bytes;
    }
  }

  #dropPending(): void {
    if (this.#pending) this.#decoder.reset();
    this.#pending = false;
    this.#heldLen = 0;
  }

  // bytes[pos, n) of the unfinished line, held undecoded (see #scan).
  #hold(bytes: Uint8Array, pos: number, n: number): void {
    this.#carry("", n - pos);
    if (!this.#skipLine && !this.closed) {
      const h = this.#heldLen;
      let held = this.#held;
      // Grown as chunks need (with room for a next chunk of this one's size), up to
      // 2 * SLICED_CARRY: a stream of short chunks holds a few hundred bytes, not 8 KiB.
      if (held === undefined || h + n > held.length) {
        held = new Uint8Array(2 * Math.min(SLICED_CARRY, h + n));
        if (h !== 0) held.set(this.#held!.subarray(0, h));
        this.#held = held;
      }
      held.set(span(bytes, pos, n), h);
      this.#heldLen = h + n - pos;
    }
  }

  // bytes[pos, n) decoded after the held bytes, if any: with them, in one call, when they
  // fit in #held.
  #decode(bytes: Uint8Array, pos: number, n: number): string {
    const h = this.#heldLen;
    if (h === 0) return this.#decoder.decode(bytes, pos, n);
    this.#heldLen = 0;
    const held = this.#held!;
    if (h + n - pos > held.length) return this.#decoder.decode(held, 0, h) + this.#decoder.decode(bytes, pos, n);
    // The whole chunk where it fits: copying bytes past n costs less than making a view of
    // the span (non-ASCII text in 64-byte chunks: 179.2M instructions per pass so, 185.4M
    // with the view at 93bfc83).
    held.set(pos === 0 && h + bytes.length <= held.length ? bytes : span(bytes, pos, n), h);
    return this.#decoder.decode(held, 0, h + n - pos);
  }

  // The end of the carried line: `piece`, `bytes` long (processLine applies the bound).
  #endCarried(piece: string, bytes: number): void {
    const line = this.#line + piece;
    const len = this.#lineLen + bytes;
    this.#line = "";
    this.#lineLen = 0;
    this.processLine(line, 0, line.length, len);
  }
}
