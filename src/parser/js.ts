// The TypeScript engine: the fallback when WebAssembly is unavailable, and the twin that the
// WASM engine is tested against. It implements docs/PARSER.md.
//
// Lines are found in the bytes (so that the size bound counts bytes), but values are sliced
// out of strings: the whole lines of a chunk are decoded with one native call (latin1 when
// they are ASCII, UTF-8 otherwise) and walked with a second cursor. Decoding them together
// equals decoding each value alone, because every delimiter is ASCII and a UTF-8 decoder
// never lets an ASCII byte be swallowed by a bad sequence; so code points split across
// chunks only ever meet the line that is carried over, which is decoded once complete.

import { eventTooLarge } from "./errors.js";
import { FIELD_DATA, FIELD_EVENT, FIELD_ID, FIELD_NONE, FIELD_RETRY } from "../../assembly/abi.js";
import { isAsciiSpan, latin1String, utf8Length, utf8Lines } from "./decode.js";
import { FIELD_NAME_LENGTH, SMALL_CHUNK, allDigits, fieldAt, firstLineEnd, hasNull, indexOrEnd, lastLineEnd, sameChars } from "./lines.js";
import { LineBytes, bomMatched, lineEnd, stripBom, survey, surveyAscii, surveyFirst, surveyLast } from "./lines.js";
import type { EngineName, EventStreamParser, ParserCallbacks } from "./types.js";

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;

// A carried non-ASCII line is decoded together with the lines after it up to this many bytes.
const JOIN_MAX = 1024;
const encoder = new TextEncoder();

export class JsParser implements EventStreamParser {
  readonly engine: EngineName = "js";

  readonly #callbacks: ParserCallbacks;
  readonly #maxEventSize: number;
  readonly #initialLastEventId: string;

  // Stream position state.
  #bomBytes = 0; // bytes of a possible leading BOM seen so far; 3 once past the stream start
  #afterCR = false; // the previous chunk ended in CR: an LF now is part of that line end
  // An unfinished line, carried across chunks. While it is ASCII, as a latin1 string (one
  // char per byte): joining pieces is V8's cheap string concatenation, and its end is a
  // substring of the chunk's string. Once it has a byte >= 0x80 (#lineHigh), as bytes in
  // #lineBytes, which the chunk that ends it appends its whole lines to: one UTF-8 decode then
  // takes them all, with no native call per chunk to carry a piece (non-ASCII text in 64-byte
  // chunks ran at 0.63x eventsource-parser with latin1 pieces).
  #line = "";
  #lineHigh = false;
  readonly #lineBytes = new LineBytes();
  #skipLine = false; // the unfinished line is over the size bound and is being dropped

  // The spec's buffers.
  #data = "";
  #dataLen = 0; // bytes, as the spec's data buffer would hold them (values plus LFs)
  #type = "";
  #typeLen = 0;
  #lastType = ""; // the last non-empty event type read, to reuse its string
  #lastTypeLen = -1; // its UTF-8 byte length, once counted
  #idBuffer: string;
  #lastEventId: string;
  #discarding = false;
  #closed = false; // a callback called end() or reset(): stop reading the chunk at once

  constructor(callbacks: ParserCallbacks, maxEventSize: number, lastEventId: string) {
    this.#callbacks = callbacks;
    this.#maxEventSize = maxEventSize;
    this.#initialLastEventId = lastEventId;
    this.#idBuffer = lastEventId;
    this.#lastEventId = lastEventId;
  }

  get lastEventId(): string {
    return this.#lastEventId;
  }

  feed(chunk: Uint8Array | string): void {
    let bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
    if (this.#bomBytes < 3) {
      bytes = stripBom(bytes, this.#bomBytes);
      this.#bomBytes = bomMatched;
      if (bytes.length === 0) return;
    }
    this.#closed = false;
    this.#scan(bytes);
  }

  end(): void {
    this.#line = "";
    this.#lineHigh = false;
    this.#lineBytes.clear();
    this.#skipLine = false;
    this.#afterCR = false;
    this.#bomBytes = 0;
    this.#data = "";
    this.#dataLen = 0;
    this.#type = "";
    this.#typeLen = 0;
    this.#discarding = false;
    this.#idBuffer = this.#lastEventId;
    this.#closed = true;
  }

  reset(): void {
    this.#lastEventId = this.#initialLastEventId;
    this.end();
  }

  #scan(bytes: Uint8Array): void {
    const n = bytes.length;
    let pos = 0;
    if (this.#afterCR) {
      this.#afterCR = false;
      if (bytes[0] === LF) pos = 1;
    }
    const carried = this.#line.length > 0 || this.#lineBytes.len > 0 || this.#skipLine;
    // Where the lines are, and whether the bytes from pos are all ASCII. A small chunk is
    // surveyed in one loop over its bytes (a native call costs as much as the loop at 64
    // bytes); a large one is checked with the native isAscii and, when ASCII, searched as a
    // string (see below).
    let first: number; // the first line end, or n (a small chunk: only if a line is carried)
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
      ascii = isAsciiSpan(bytes, pos, n);
      if (ascii) {
        // One char per byte, for finding line ends: V8's string search is much faster than
        // a loop over the bytes, and the offsets are the bytes'.
        str = latin1String(bytes, 0, n);
        first = lineEnd(str, pos);
      } else {
        first = firstLineEnd(bytes, pos);
      }
      // Found by a loop back from the end, which only crosses the unfinished line:
      // String.lastIndexOf is a plain loop in V8 too, and the search for a CR that is not
      // there crossed the whole chunk (a third of the time of market ticks at 1460-byte
      // chunks; measured).
      last = first === n ? -1 : lastLineEnd(bytes, first);
    }
    if (last < pos) {
      // No line end: the whole chunk extends the carried line.
      if (!this.#skipLine && pos < n) {
        if (ascii && !this.#lineHigh) this.#carry(pos === 0 && str !== "" ? str : latin1String(bytes, pos, n));
        else this.#carryBytes(bytes, pos, n);
      }
      return;
    }

    if (ascii && !this.#lineHigh) {
      // All ASCII: one string, whose chars are the bytes.
      if (str === "") str = latin1String(bytes, 0, n);
      // The line carried from earlier chunks ends at this chunk's first line end.
      if (carried) {
        this.#endCarried(str.slice(pos, first));
        if (this.#closed) return;
        pos = this.#afterLineEnd(bytes, first);
      }
      if (last >= pos) {
        this.#asciiLines(str, pos, last);
        if (this.#closed) return;
        pos = this.#afterLineEnd(bytes, last);
      }
    } else {
      // The carried line and the whole lines, decoded with one call: a carried line is
      // always the first of them, and the decoder only ever sees whole lines.
      let head = 0; // bytes of the carried line, at the start of #lineBytes
      if (this.#skipLine) {
        this.#skipLine = false;
        pos = this.#afterLineEnd(bytes, first);
      } else if (carried) {
        if (!this.#lineHigh) this.#lineToBytes();
        head = this.#lineBytes.len;
        this.#lineBytes.len = 0;
        this.#lineHigh = false;
        if (last - first > JOIN_MAX) {
          // Many lines follow: the carried one is decoded with its end alone, rather than
          // copying them all after it.
          this.#lineBytes.put(head, bytes, pos, first + 1);
          this.#utf8Lines(utf8Lines(this.#lineBytes.buf, 0, head + first + 1 - pos), head, bytes, pos, first + 1);
          if (this.#closed) return;
          head = 0;
          pos = this.#afterLineEnd(bytes, first);
        }
      }
      if (last >= pos) {
        if (head > 0) this.#lineBytes.put(head, bytes, pos, last + 1);
        const text = head === 0 ? utf8Lines(bytes, pos, last + 1) : utf8Lines(this.#lineBytes.buf, 0, head + last + 1 - pos);
        this.#utf8Lines(text, head, bytes, pos, last + 1);
        this.#lineBytes.trim();
        if (this.#closed) return;
        pos = this.#afterLineEnd(bytes, last);
      }
    }
    // The unfinished line. Sliced out of a small chunk's string (which it then keeps alive);
    // otherwise copied, so that a carried line never holds a whole chunk.
    if (pos < n) {
      if (ascii && !this.#lineHigh) this.#carry(small && str !== "" ? str.slice(pos) : latin1String(bytes, pos, n));
      else this.#carryBytes(bytes, pos, n);
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

  // Lines [pos, last] of an ASCII chunk: chars are bytes, one cursor serves both.
  #asciiLines(str: string, pos: number, last: number): void {
    // Each search runs once over the chunk: the next CR and LF are remembered instead of
    // searched again for every line (a chunk without CR would be scanned once per line).
    let nextLF = -1;
    let nextCR = -1;
    while (pos <= last) {
      const c0 = str.charCodeAt(pos);
      if (c0 === LF || c0 === CR) {
        // A blank line dispatches at once: no search, and none of #processLine's checks: it
        // adds no bytes to buffers that never hold more than the bound, and has none to be
        // skipped for while discarding. (Heartbeat streams are half blank lines: 20% there;
        // calling #processLine for them instead kept only 2 of those 20%.)
        this.#dispatch();
        if (this.#closed) return;
        pos = c0 === CR && str.charCodeAt(pos + 1) === LF ? pos + 2 : pos + 1;
        continue;
      }
      if (nextLF < pos) nextLF = indexOrEnd(str, "\n", pos);
      if (nextCR < pos) nextCR = indexOrEnd(str, "\r", pos);
      const eol = nextLF < nextCR ? nextLF : nextCR;
      this.#processLine(str, pos, eol, eol - pos);
      if (this.#closed) return;
      pos = eol === nextCR && str.charCodeAt(eol + 1) === LF ? eol + 2 : eol + 1;
    }
  }

  // Whole lines with some non-ASCII bytes: `head` bytes of a carried line (in #lineBytes,
  // followed there by a copy of the rest) then bytes[pos, end), which ends with a line end; `text` is their UTF-8 decoding.
  // Unless #validLines can do without, a byte cursor (in their latin1 string) measures lines
  // for the size bound while the char cursor (in `text`) slices values. Both meet the same
  // line ends, since those are ASCII.
  #utf8Lines(text: string, head: number, bytes: Uint8Array, pos: number, end: number): void {
    // When even all of these bytes could not break the size bound, no line needs measuring
    // (a line's data and type bytes come from its own bytes); and when they are valid UTF-8,
    // the byte length of any part of `text` follows from its chars. Any invalid sequence
    // decodes to U+FFFD, so a text without one came from valid UTF-8.
    if (
      !this.#discarding &&
      this.#dataLen + this.#typeLen + head + (end - pos) <= this.#maxEventSize &&
      !text.includes("\uFFFD")
    ) {
      this.#validLines(text);
      return;
    }
    const str = head > 0 ? latin1String(this.#lineBytes.buf, 0, head + end - pos) : latin1String(bytes, pos, end);
    let nextLF = -1;
    let nextCR = -1;
    let p = 0;
    let q = 0;
    let textLF = -1;
    let textCR = -1;
    while (p < str.length) {
      if (nextLF < p) nextLF = indexOrEnd(str, "\n", p);
      if (nextCR < p) nextCR = indexOrEnd(str, "\r", p);
      if (textLF < q) textLF = indexOrEnd(text, "\n", q);
      if (textCR < q) textCR = indexOrEnd(text, "\r", q);
      const eol = nextLF < nextCR ? nextLF : nextCR;
      const textEol = textLF < textCR ? textLF : textCR;
      this.#processLine(text, q, textEol, eol - p);
      if (this.#closed) return;
      if (eol === nextCR && str.charCodeAt(eol + 1) === LF) {
        p = eol + 2;
        q = textEol + 2;
      } else {
        p = eol + 1;
        q = textEol + 1;
      }
    }
  }

  // The lines of `text`, decoded from valid UTF-8 that cannot break the size bound: one
  // cursor, and lines go to #processLine with an unknown byte length (UNMEASURED). It counts
  // a data value's chars instead of its bytes (never more, so no bound check can fire), and
  // the data buffer's byte length is put right once, here, at the end.
  #validLines(text: string): void {
    const end = text.length;
    // The data buffer as it stood before its first value from this text: its bytes, exact,
    // and where the text's values start in #data.
    let base = this.#dataLen;
    let mark = base === 0 ? 0 : this.#data.length;
    let nextLF = -1;
    let nextCR = -1;
    let q = 0;
    while (q < end) {
      if (nextLF < q) nextLF = indexOrEnd(text, "\n", q);
      if (nextCR < q) nextCR = indexOrEnd(text, "\r", q);
      const eol = nextLF < nextCR ? nextLF : nextCR;
      if (eol === q) {
        // A blank line (dispatched at once: see #asciiLines) empties the data buffer.
        this.#dispatch();
        base = 0;
        mark = 0;
      } else {
        this.#processLine(text, q, eol, UNMEASURED);
      }
      if (this.#closed) return;
      q = eol === nextCR && text.charCodeAt(eol + 1) === LF ? eol + 2 : eol + 1;
    }
    if (this.#dataLen !== base) {
      // Values were appended since `mark`, each as LF + value, or the first one alone (the
      // spec's buffer has an LF after each value instead: the same count once the first is
      // given its LF).
      this.#dataLen = base + utf8Length(this.#data.slice(mark)) + (base === 0 ? 1 : 0);
    }
  }

  // A line that the chunk does not finish: `piece` holds its bytes (one char per byte; a
  // copy, as the caller may reuse its buffer once feed() returns), unless they already break
  // the size bound, in which case nothing more of the line is kept.
  #carry(piece: string): void {
    if (this.#skipLine || piece.length === 0) return;
    if (this.#overflows(this.#line.length + piece.length)) this.#skipCarried();
    else this.#line += piece;
  }

  // The same for bytes[from, to) of a chunk with a byte >= 0x80 (or after such a piece).
  #carryBytes(bytes: Uint8Array, from: number, to: number): void {
    if (this.#skipLine) return;
    const have = this.#lineHigh ? this.#lineBytes.len : this.#line.length;
    if (this.#overflows(have + to - from)) return this.#skipCarried();
    if (!this.#lineHigh) this.#lineToBytes();
    this.#lineBytes.append(bytes, from, to);
  }

  #skipCarried(): void {
    this.#line = "";
    this.#lineHigh = false;
    this.#lineBytes.len = 0;
    this.#skipLine = true;
  }

  // The carried latin1 line into #lineBytes (its chars are its bytes); #lineHigh from now on.
  #lineToBytes(): void {
    this.#lineBytes.setLatin1(this.#line);
    this.#line = "";
    this.#lineHigh = true;
  }

  // The end of a carried ASCII line (a non-ASCII one is decoded with the lines after it).
  #endCarried(piece: string): void {
    if (this.#skipLine) {
      this.#skipLine = false;
      return;
    }
    this.#carry(piece);
    if (this.#skipLine) {
      this.#skipLine = false;
      return;
    }
    const line = this.#line;
    this.#line = "";
    this.#processLine(line, 0, line.length, line.length);
  }

  // The size bound of docs/PARSER.md: data buffer + event type buffer + the line being read.
  // Reports the error once per event, then discards until the next blank line.
  #overflows(lineLen: number): boolean {
    if (this.#discarding) return lineLen > this.#maxEventSize;
    if (this.#dataLen + this.#typeLen + lineLen <= this.#maxEventSize) return false;
    this.#discarding = true;
    this.#data = "";
    this.#dataLen = 0;
    this.#type = "";
    this.#typeLen = 0;
    this.#callbacks.onError?.(eventTooLarge(this.#maxEventSize));
    return true;
  }

  // One line: chars [s, e) of `t`, `bytes` long in the stream. Field names are ASCII, so a
  // value's byte length is the line's minus the name and separator.
  #processLine(t: string, s: number, e: number, bytes: number): void {
    if (
      (this.#discarding || this.#dataLen + this.#typeLen + bytes > this.#maxEventSize) &&
      this.#overflows(bytes)
    ) {
      return;
    }
    const len = e - s;
    // "If the line is empty (a blank line): Dispatch the event."
    if (len === 0) {
      this.#dispatch();
      return;
    }
    const c0 = t.charCodeAt(s);
    // "If the line starts with a U+003A COLON character (:): Ignore the line."
    if (c0 === COLON) {
      if (this.#callbacks.onComment !== undefined) {
        const v = s + 1 < e && t.charCodeAt(s + 1) === SPACE ? s + 2 : s + 1;
        this.#callbacks.onComment(t.slice(v, e));
      }
      return;
    }
    const field = fieldAt(t, s, len);
    if (field === FIELD_NONE) return;
    // "If the line contains a U+003A COLON character (:) ... Let value be the characters after
    // the first U+003A COLON character (:). If value starts with a U+0020 SPACE character,
    // remove it from value." Otherwise "using the whole line as the field name, and the empty
    // string as the field value." Any other char after the name makes it an unknown field.
    let v = s + FIELD_NAME_LENGTH[field]!;
    if (v < e) {
      if (t.charCodeAt(v) !== COLON) return;
      v++;
      if (v < e && t.charCodeAt(v) === SPACE) v++;
    }
    const valueBytes = bytes - (v - s);
    switch (field) {
      case FIELD_DATA: {
        // "Append the field value to the data buffer, then append a single U+000A LINE FEED
        // (LF) character to the data buffer." Joining with LF is the same as appending LFs and
        // removing the last one at dispatch.
        if (this.#discarding) return;
        const value = t.slice(v, e);
        this.#data = this.#dataLen === 0 ? value : this.#data + "\n" + value;
        // Unmeasured: chars stand in for bytes until #validLines counts them.
        this.#dataLen += (bytes === UNMEASURED ? e - v : valueBytes) + 1;
        return;
      }
      case FIELD_EVENT: {
        // "Set the event type buffer to field value."
        if (this.#discarding) return;
        // Streams repeat a few types: reusing the last one saves a string per event.
        const last = this.#lastType;
        if (sameChars(t, v, e, last)) {
          this.#type = last;
        } else {
          this.#type = this.#lastType = t.slice(v, e);
          this.#lastTypeLen = -1;
        }
        if (bytes !== UNMEASURED) {
          this.#typeLen = valueBytes;
        } else {
          // Valid UTF-8: the value's bytes are its chars' (counted once per type string).
          if (this.#lastTypeLen < 0) this.#lastTypeLen = utf8Length(this.#type);
          this.#typeLen = this.#lastTypeLen;
        }
        return;
      }
      case FIELD_ID: {
        // "If the field value does not contain U+0000 NULL, then set the last event ID buffer
        // to the field value. Otherwise, ignore the field."
        if (!hasNull(t, v, e)) this.#idBuffer = t.slice(v, e);
        return;
      }
      case FIELD_RETRY: {
        // "If the field value consists of only ASCII digits, then interpret the field value as
        // an integer in base ten, and set the event stream's reconnection time to that
        // integer. Otherwise, ignore the field."
        if (allDigits(t, v, e)) this.#callbacks.onRetry?.(Number(t.slice(v, e)));
        return;
      }
    }
  }

  #dispatch(): void {
    // "Set the last event ID string of the event source to the value of the last event ID
    // buffer."
    this.#lastEventId = this.#idBuffer;
    if (this.#discarding) {
      this.#discarding = false;
      return;
    }
    // "If the data buffer is an empty string, set the data buffer and the event type buffer
    // to the empty string and return."
    if (this.#dataLen === 0) {
      // (An empty type buffer is left alone: no store per blank line between comments.)
      if (this.#typeLen !== 0) {
        this.#type = "";
        this.#typeLen = 0;
      }
      return;
    }
    const type = this.#typeLen === 0 ? "message" : this.#type;
    const data = this.#data;
    this.#data = "";
    this.#dataLen = 0;
    this.#type = "";
    this.#typeLen = 0;
    this.#callbacks.onEvent({ type, data, lastEventId: this.#lastEventId });
  }
}

// A #processLine byte length meaning "not measured: the line is valid UTF-8 and cannot break
// the size bound" (see #validLines).
const UNMEASURED = -1;
