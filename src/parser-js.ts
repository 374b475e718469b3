// The TypeScript engine: the fallback when WebAssembly is unavailable, and the reference the
// WASM engine is tested against. It implements docs/PARSER.md over bytes; values are decoded
// only once their bytes are complete, so code points split across chunks need no care.

import { eventTooLarge } from "./errors.js";
import { isAsciiSpan, latin1String, utf8Span } from "./decode.js";
import type { EngineName, EventStreamParser, ParserCallbacks } from "./types.js";

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const NUL = 0x00;
const BOM = [0xef, 0xbb, 0xbf] as const;

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

export class JsParser implements EventStreamParser {
  readonly engine: EngineName = "js";

  readonly #callbacks: ParserCallbacks;
  readonly #maxEventSize: number;
  readonly #initialLastEventId: string;

  // Stream position state.
  #bomChecked = false;
  #bomBytes = 0; // bytes of a possible leading BOM seen so far, while !#bomChecked
  #afterCR = false; // the previous chunk ended in CR: an LF now is part of that line end
  // An unfinished line, carried across chunks in a buffer that grows and is reused.
  #line = new Uint8Array(256);
  #lineLen = 0;
  #skipLine = false; // the unfinished line is over the size bound and is being dropped

  // The spec's buffers.
  #data = "";
  #dataLen = 0; // bytes, as the spec's data buffer would hold them (values plus LFs)
  #type = "";
  #typeLen = 0;
  #idBuffer: string;
  #lastEventId: string;
  #discarding = false;

  // The bytes lines are being read from (a chunk, or #line), with its latin1 string and
  // whether it is all ASCII, each worked out once and only if a value needs it.
  #src: Uint8Array = EMPTY;
  #srcLen = 0;
  #srcStr: string | undefined;
  #srcAscii: boolean | undefined;
  #closed = false; // set when a callback calls end()/reset() mid-chunk: stop at once

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
    if (!this.#bomChecked) {
      bytes = this.#stripBom(bytes);
      if (bytes.length === 0) return;
    }
    this.#closed = false;
    this.#scan(bytes);
  }

  end(): void {
    this.#lineLen = 0;
    this.#skipLine = false;
    this.#afterCR = false;
    this.#bomChecked = false;
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

  // "One leading U+FEFF BYTE ORDER MARK character must be ignored if any are present." Its
  // bytes may arrive one chunk at a time, so the bytes that might be a BOM are held back.
  #stripBom(bytes: Uint8Array): Uint8Array {
    let i = 0;
    while (i < bytes.length && this.#bomBytes < 3) {
      if (bytes[i] !== BOM[this.#bomBytes]) {
        // Not a BOM: the held-back bytes are content after all.
        this.#bomChecked = true;
        const held = this.#bomBytes;
        this.#bomBytes = 0;
        if (held === 0) return i === 0 ? bytes : bytes.subarray(i);
        const out = new Uint8Array(held + bytes.length - i);
        out.set(BOM.slice(0, held));
        out.set(bytes.subarray(i), held);
        return out;
      }
      this.#bomBytes++;
      i++;
    }
    if (this.#bomBytes === 3) {
      this.#bomChecked = true;
      this.#bomBytes = 0;
      return bytes.subarray(i);
    }
    return EMPTY;
  }

  #scan(bytes: Uint8Array): void {
    const n = bytes.length;
    let pos = 0;
    if (this.#afterCR) {
      this.#afterCR = false;
      if (bytes[0] === LF) pos = 1;
    }
    this.#setSource(bytes, n);
    // Line ends are searched in the chunk's latin1 string (one char per byte, so the same
    // offsets): V8's string search is much faster than Uint8Array.prototype.indexOf.
    const str = (this.#srcStr = latin1String(bytes, 0, n));

    // Each search runs once over the chunk: remember the next CR and LF instead of
    // searching again for every line (a chunk without CR would be scanned once per line).
    let nextLF = str.indexOf("\n", pos);
    let nextCR = str.indexOf("\r", pos);
    if (nextLF === -1) nextLF = n;
    if (nextCR === -1) nextCR = n;

    while (pos < n) {
      if (nextLF < pos) nextLF = (nextLF = str.indexOf("\n", pos)) === -1 ? n : nextLF;
      if (nextCR < pos) nextCR = (nextCR = str.indexOf("\r", pos)) === -1 ? n : nextCR;
      const eol = nextLF < nextCR ? nextLF : nextCR;
      if (eol === n) {
        this.#carry(bytes, pos, n);
        break;
      }
      this.#endLine(bytes, pos, eol);
      if (this.#closed) return;
      if (eol === nextCR && eol + 1 < n) {
        pos = bytes[eol + 1] === LF ? eol + 2 : eol + 1;
      } else {
        // A CR that ends the chunk may be the first half of a CRLF.
        if (eol === nextCR) this.#afterCR = true;
        pos = eol + 1;
      }
    }
    this.#setSource(EMPTY, 0);
  }

  #setSource(bytes: Uint8Array, len: number): void {
    this.#src = bytes;
    this.#srcLen = len;
    this.#srcStr = undefined;
    this.#srcAscii = undefined;
  }

  // A line that the chunk does not finish: keep its bytes, unless they already break the
  // size bound, in which case nothing more of the line is kept.
  #carry(bytes: Uint8Array, start: number, end: number): void {
    if (this.#skipLine || start === end) return;
    const len = this.#lineLen + (end - start);
    if (this.#overflows(len)) {
      this.#lineLen = 0;
      this.#skipLine = true;
      return;
    }
    // Copied: the caller may reuse its buffer once feed() returns.
    this.#append(bytes, start, end);
  }

  #append(bytes: Uint8Array, start: number, end: number): void {
    const len = this.#lineLen + (end - start);
    if (len > this.#line.length) {
      const grown = new Uint8Array(Math.max(len, this.#line.length * 2));
      grown.set(this.#line.subarray(0, this.#lineLen));
      this.#line = grown;
    }
    this.#line.set(bytes.subarray(start, end), this.#lineLen);
    this.#lineLen = len;
  }

  #endLine(bytes: Uint8Array, start: number, end: number): void {
    if (this.#skipLine) {
      this.#skipLine = false;
      return;
    }
    if (this.#lineLen === 0) {
      if (this.#overflows(end - start)) return;
      this.#processLine(bytes, start, end);
      return;
    }
    this.#append(bytes, start, end);
    const len = this.#lineLen;
    this.#lineLen = 0;
    if (this.#overflows(len)) return;
    // The carried line is read from #line, then the chunk is the source again.
    const chunk = this.#src;
    const chunkLen = this.#srcLen;
    const chunkStr = this.#srcStr;
    const chunkAscii = this.#srcAscii;
    this.#setSource(this.#line, len);
    this.#processLine(this.#line, 0, len);
    this.#setSource(chunk, chunkLen);
    this.#srcStr = chunkStr;
    this.#srcAscii = chunkAscii;
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

  // Values from an ASCII source are slices of its latin1 string, decoded once; others are
  // sliced too when the span itself is ASCII, and decoded as UTF-8 otherwise.
  #decode(start: number, end: number): string {
    const src = this.#src;
    this.#srcAscii ??= isAsciiSpan(src, 0, this.#srcLen);
    if (this.#srcAscii || isAsciiSpan(src, start, end)) {
      this.#srcStr ??= latin1String(src, 0, this.#srcLen);
      return this.#srcStr.slice(start, end);
    }
    return utf8Span(src, start, end);
  }

  // Field names are matched as bytes at the start of the line, so a line without a colon
  // is never searched to its end for one.
  #processLine(b: Uint8Array, s: number, e: number): void {
    const len = e - s;
    // "If the line is empty (a blank line): Dispatch the event."
    if (len === 0) {
      this.#dispatch();
      return;
    }
    const c0 = b[s];
    // "If the line starts with a U+003A COLON character (:): Ignore the line."
    if (c0 === COLON) {
      if (this.#callbacks.onComment !== undefined) {
        const v = s + 1 < e && b[s + 1] === SPACE ? s + 2 : s + 1;
        this.#callbacks.onComment(this.#decode(v, e));
      }
      return;
    }
    let field = Field.None;
    let nameLen = 0;
    if (c0 === 0x64 /* d */) {
      if (len >= 4 && b[s + 1] === 0x61 && b[s + 2] === 0x74 && b[s + 3] === 0x61) {
        field = Field.Data;
        nameLen = 4;
      }
    } else if (c0 === 0x69 /* i */) {
      if (len >= 2 && b[s + 1] === 0x64) {
        field = Field.Id;
        nameLen = 2;
      }
    } else if (c0 === 0x65 /* e */) {
      if (len >= 5 && b[s + 1] === 0x76 && b[s + 2] === 0x65 && b[s + 3] === 0x6e && b[s + 4] === 0x74) {
        field = Field.Event;
        nameLen = 5;
      }
    } else if (c0 === 0x72 /* r */) {
      if (len >= 5 && b[s + 1] === 0x65 && b[s + 2] === 0x74 && b[s + 3] === 0x72 && b[s + 4] === 0x79) {
        field = Field.Retry;
        nameLen = 5;
      }
    }
    if (field === Field.None) return;
    // "If the line contains a U+003A COLON character (:) ... Let value be the characters after
    // the first U+003A COLON character (:). If value starts with a U+0020 SPACE character,
    // remove it from value." Otherwise "using the whole line as the field name, and the empty
    // string as the field value." Any other byte after the name makes it an unknown field.
    let v = s + nameLen;
    if (v < e) {
      if (b[v] !== COLON) return;
      v++;
      if (v < e && b[v] === SPACE) v++;
    }
    switch (field) {
      case Field.Data: {
        // "Append the field value to the data buffer, then append a single U+000A LINE FEED
        // (LF) character to the data buffer." Joining with LF is the same as appending LFs and
        // removing the last one at dispatch.
        if (this.#discarding) return;
        const value = this.#decode(v, e);
        this.#data = this.#dataLen === 0 ? value : this.#data + "\n" + value;
        this.#dataLen += e - v + 1;
        return;
      }
      case Field.Event:
        // "Set the event type buffer to field value."
        if (this.#discarding) return;
        this.#type = this.#decode(v, e);
        this.#typeLen = e - v;
        return;
      case Field.Id: {
        // "If the field value does not contain U+0000 NULL, then set the last event ID buffer
        // to the field value. Otherwise, ignore the field."
        // Not indexOf: it would search past the line, to the end of the chunk.
        for (let i = v; i < e; i++) if (b[i] === NUL) return;
        this.#idBuffer = this.#decode(v, e);
        return;
      }
      case Field.Retry: {
        // "If the field value consists of only ASCII digits, then interpret the field value as
        // an integer in base ten, and set the event stream's reconnection time to that
        // integer. Otherwise, ignore the field."
        if (v === e) return;
        for (let i = v; i < e; i++) {
          const c = b[i]!;
          if (c < 0x30 || c > 0x39) return;
        }
        this.#callbacks.onRetry?.(Number(this.#decode(v, e)));
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
      this.#type = "";
      this.#typeLen = 0;
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

const enum Field {
  None,
  Data,
  Event,
  Id,
  Retry,
}
