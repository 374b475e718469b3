// The TypeScript engine's half that knows the spec's buffers: what each line does to them and
// when an event is dispatched (docs/PARSER.md, "Per stream", steps 3-4, and the size bound),
// line by line or over a run of whole lines that cannot break the bound (asciiLines,
// validLines). src/parser/js.ts, the half that finds the lines in the chunks and decodes
// them, extends it.

import { FIELD_DATA, FIELD_EVENT, FIELD_ID, FIELD_NONE, FIELD_RETRY } from "../../assembly/abi.js";
import { utf8Length } from "./decode.js";
import { eventTooLarge } from "./errors.js";
import { FIELD_NAME_LENGTH, allDigits, bytesAt, fieldAt, hasNull, hasNullByte, indexOrEnd, isData, isEvent, isId, lineEnd, sameChars } from "./lines.js";
import type { ParserCallbacks } from "./types.js";

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;

/**
 * A processLine byte length meaning "not measured: the line is valid UTF-8 and cannot break
 * the size bound" (see validLines).
 */
const UNMEASURED = -1;

export abstract class EventBuffers {
  readonly #callbacks: ParserCallbacks;
  protected readonly maxEventSize: number;
  readonly #initialLastEventId: string;

  // The spec's buffers.
  protected data = "";
  protected dataLen = 0; // bytes, as the spec's data buffer would hold them (values plus LFs)
  #type = "";
  protected typeLen = 0;
  #lastType = ""; // the last non-empty event type read, to reuse its string
  #lastTypeLen = -1; // its UTF-8 byte length, once counted
  #idBuffer: string;
  #lastEventId: string;
  protected discarding = false;
  protected closed = false; // a callback called end() or reset(): stop reading the chunk at once

  constructor(callbacks: ParserCallbacks, maxEventSize: number, lastEventId: string) {
    this.#callbacks = callbacks;
    this.maxEventSize = maxEventSize;
    this.#initialLastEventId = lastEventId;
    this.#idBuffer = lastEventId;
    this.#lastEventId = lastEventId;
  }

  /** The last event ID string: set by `id` fields when a blank line ends their block. */
  get lastEventId(): string {
    return this.#lastEventId;
  }

  // The stream ended: the pending event is dropped, the last event ID kept (and the chunk
  // being read, if a callback ended it, is read no further).
  protected endEvent(): void {
    this.data = "";
    this.dataLen = 0;
    this.#type = "";
    this.typeLen = 0;
    this.discarding = false;
    this.#idBuffer = this.#lastEventId;
    this.closed = true;
  }

  protected resetLastEventId(): void {
    this.#lastEventId = this.#initialLastEventId;
  }

  // The size bound of docs/PARSER.md: data buffer + event type buffer + the line being read.
  // Reports the error once per event, then discards until the next blank line.
  protected overflows(lineLen: number): boolean {
    if (this.discarding) return lineLen > this.maxEventSize;
    if (this.dataLen + this.typeLen + lineLen <= this.maxEventSize) return false;
    this.discarding = true;
    this.data = "";
    this.dataLen = 0;
    this.#type = "";
    this.typeLen = 0;
    this.#callbacks.onError?.(eventTooLarge(this.maxEventSize));
    return true;
  }

  // One line: chars [s, e) of `t`, `bytes` long in the stream. Field names are ASCII, so a
  // value's byte length is the line's minus the name and separator.
  protected processLine(t: string, s: number, e: number, bytes: number): void {
    if (
      (this.discarding || this.dataLen + this.typeLen + bytes > this.maxEventSize) &&
      this.overflows(bytes)
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
        if (this.discarding) return;
        const value = t.slice(v, e);
        this.data = this.dataLen === 0 ? value : this.data + "\n" + value;
        // Unmeasured: chars stand in for bytes until validLines counts them.
        this.dataLen += (bytes === UNMEASURED ? e - v : valueBytes) + 1;
        return;
      }
      case FIELD_EVENT: {
        if (this.discarding) return;
        this.#setType(t, v, e, bytes === UNMEASURED ? UNMEASURED : valueBytes);
        return;
      }
      case FIELD_ID: {
        this.#setId(t, v, e);
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

  // The value of an `event` field: t[v, e), `bytes` long or UNMEASURED.
  #setType(t: string, v: number, e: number, bytes: number): void {
    // "Set the event type buffer to field value."
    // Streams repeat a few types: reusing the last one saves a string per event.
    const last = this.#lastType;
    if (sameChars(t, v, e, last)) {
      this.#type = last;
    } else {
      this.#type = this.#lastType = t.slice(v, e);
      this.#lastTypeLen = -1;
    }
    if (bytes !== UNMEASURED) {
      this.typeLen = bytes;
    } else {
      // Valid UTF-8: the value's bytes are its chars' (counted once per type string).
      if (this.#lastTypeLen < 0) this.#lastTypeLen = utf8Length(this.#type);
      this.typeLen = this.#lastTypeLen;
    }
  }

  // The value of an `id` field: t[v, e).
  #setId(t: string, v: number, e: number): void {
    // "If the field value does not contain U+0000 NULL, then set the last event ID buffer to
    // the field value. Otherwise, ignore the field."
    if (!hasNull(t, v, e)) this.#idBuffer = t.slice(v, e);
  }

  // setType and setId for a line of an ASCII chunk, whose bytes `t` holds at the same
  // offsets (see asciiLines): the checks read the bytes.
  #setAsciiType(t: string, b: Uint8Array, v: number, e: number): void {
    const last = this.#lastType;
    if (e - v === last.length && bytesAt(b, v, last)) {
      this.#type = last;
    } else {
      this.#type = this.#lastType = t.slice(v, e);
      this.#lastTypeLen = -1;
    }
    this.typeLen = e - v;
  }

  #setAsciiId(t: string, b: Uint8Array, v: number, e: number): void {
    if (!hasNullByte(b, v, e)) this.#idBuffer = t.slice(v, e);
  }

  #dispatch(): void {
    // "Set the last event ID string of the event source to the value of the last event ID
    // buffer."
    this.#lastEventId = this.#idBuffer;
    if (this.discarding) {
      this.discarding = false;
      return;
    }
    // "If the data buffer is an empty string, set the data buffer and the event type buffer
    // to the empty string and return."
    if (this.dataLen === 0) {
      // (An empty type buffer is left alone: no store per blank line between comments.)
      if (this.typeLen !== 0) {
        this.#type = "";
        this.typeLen = 0;
      }
      return;
    }
    const data = this.data;
    this.data = "";
    this.dataLen = 0;
    this.#emit(data);
  }

  // #dispatch for an event whose data buffer would hold `data` alone (not while discarding).
  #dispatchData(data: string): void {
    this.#lastEventId = this.#idBuffer;
    this.#emit(data);
  }

  // Lines [pos, last] of an ASCII chunk: chars are bytes, one cursor serves both. Chars are
  // tested in the bytes and values sliced out of the string: a byte read is cheaper than a
  // char read, above all of a string that a browser's TextDecoder made (external in
  // Chromium: market ticks there, 64 KiB chunks, 0.89x eventsource-parser with char reads,
  // 1.15x with byte reads; 1460-byte chunks 1.03x and 1.25x; CPU time, against e3a4240).
  protected asciiLines(str: string, bytes: Uint8Array, pos: number, last: number): void {
    // Each search runs once over the chunk: the next CR and LF are remembered instead of
    // searched again for every line (a chunk without CR would be scanned once per line).
    let nextLF = -1;
    let nextCR = -1;
    // When even all of these bytes could not break the size bound and nothing is being
    // discarded, the usual lines go straight to their buffers, as in validLines.
    const direct = !this.discarding && this.dataLen + this.typeLen + (last - pos) < this.maxEventSize;
    while (pos <= last) {
      const c0 = bytes[pos];
      if (c0 === LF || c0 === CR) {
        // A blank line dispatches at once: no search, and none of processLine's checks: it
        // adds no bytes to buffers that never hold more than the bound, and has none to be
        // skipped for while discarding. (Heartbeat streams are half blank lines: 20% there;
        // calling processLine for them instead kept only 2 of those 20%, at a0a3481.)
        this.#dispatch();
        if (this.closed) return;
        pos = c0 === CR && pos < last && bytes[pos + 1] === LF ? pos + 2 : pos + 1;
        continue;
      }
      if (nextLF < pos) nextLF = indexOrEnd(str, "\n", pos);
      if (nextCR < pos) nextCR = indexOrEnd(str, "\r", pos);
      const eol = nextLF < nextCR ? nextLF : nextCR;
      if (!direct) {
        this.processLine(str, pos, eol, eol - pos);
      } else if (
        c0 === 0x64 &&
        this.dataLen === 0 &&
        eol === nextLF &&
        eol < last &&
        bytes[eol + 1] === LF &&
        bytes[pos + 1] === 0x61 &&
        bytes[pos + 2] === 0x74 &&
        bytes[pos + 3] === 0x61 &&
        bytes[pos + 4] === 0x3a
      ) {
        // `data:` then a blank line: see validLines. (`event:` and `id:` below.)
        this.#dispatchData(str.slice(bytes[pos + 5] === SPACE ? pos + 6 : pos + 5, eol));
        if (this.closed) return;
        pos = eol + 2;
        continue;
      } else if (
        c0 === 0x65 &&
        bytes[pos + 1] === 0x76 &&
        bytes[pos + 2] === 0x65 &&
        bytes[pos + 3] === 0x6e &&
        bytes[pos + 4] === 0x74 &&
        bytes[pos + 5] === 0x3a
      ) {
        const v = bytes[pos + 6] === SPACE ? pos + 7 : pos + 6;
        this.#setAsciiType(str, bytes, v, eol);
      } else if (c0 === 0x69 && bytes[pos + 1] === 0x64 && bytes[pos + 2] === 0x3a) {
        this.#setAsciiId(str, bytes, bytes[pos + 3] === SPACE ? pos + 4 : pos + 3, eol);
      } else {
        this.processLine(str, pos, eol, eol - pos);
      }
      if (this.closed) return;
      pos = eol === nextCR && eol < last && bytes[eol + 1] === LF ? eol + 2 : eol + 1;
    }
  }

  // The lines of `text`, decoded from valid UTF-8 that cannot break the size bound: one
  // cursor, and lines go to processLine with an unknown byte length (UNMEASURED). It counts
  // a data value's chars instead of its bytes (never more, so no bound check can fire), and
  // the data buffer's byte length is put right once, here, at the end.
  protected validLines(text: string, q: number, end: number): void {
    // The data buffer as it stood before its first value from this text: its bytes, exact,
    // and where the text's values start in #data.
    let base = this.dataLen;
    let mark = base === 0 ? 0 : this.data.length;
    let nextLF = -1;
    let nextCR = -1;
    while (q < end) {
      let eol: number;
      const id = isId(text, q);
      if (id || isEvent(text, q)) {
        // The usual event's `id:` and `event:` lines are short: walked to their end, cheaper
        // than a search per line (non-ASCII text in 1460-byte chunks: 94.9M instructions per
        // pass so, 96.8M with searches; 91.8M and 93.9M in 64 KiB chunks; counted at
        // 0307b94). They go straight to their buffers: none of processLine's checks apply
        // while nothing is discarded and no line can break the bound (the generic path cost
        // twice as much, counted at e8f2d8a).
        let v = id ? q + 3 : q + 6;
        if (text.charCodeAt(v) === SPACE) v++;
        eol = lineEnd(text, v);
        if (id) this.#setId(text, v, eol);
        else this.#setType(text, v, eol, UNMEASURED);
      } else {
        if (nextLF < q) nextLF = indexOrEnd(text, "\n", q);
        if (nextCR < q) nextCR = indexOrEnd(text, "\r", q);
        eol = nextLF < nextCR ? nextLF : nextCR;
        if (eol === q) {
          // A blank line (dispatched at once: see asciiLines) empties the data buffer.
          this.#dispatch();
          base = 0;
          mark = 0;
        } else if (this.dataLen === 0 && eol === nextLF && eol + 1 < end && text.charCodeAt(eol + 1) === LF && isData(text, q)) {
          // One data line then a blank line, the commonest event: its value is the data,
          // dispatched at once, without a trip through the data buffer and a second line.
          // (Here and below, no char is read past the text or the lines: a read out of bounds
          // deoptimizes, and the code made after calls charCodeAt as a builtin, which cost 2%
          // of non-ASCII text in 64 KiB chunks, counted at 2bc240c.)
          this.#dispatchData(text.slice(text.charCodeAt(q + 5) === SPACE ? q + 6 : q + 5, eol));
          base = 0;
          mark = 0;
          if (this.closed) return;
          q = eol + 2;
          continue;
        } else {
          this.processLine(text, q, eol, UNMEASURED);
        }
      }
      if (this.closed) return;
      q = text.charCodeAt(eol) === CR && eol + 1 < end && text.charCodeAt(eol + 1) === LF ? eol + 2 : eol + 1;
    }
    if (this.dataLen !== base) {
      // Values were appended since `mark`, each as LF + value, or the first one alone (the
      // spec's buffer has an LF after each value instead: the same count once the first is
      // given its LF).
      this.dataLen = base + utf8Length(this.data.slice(mark)) + (base === 0 ? 1 : 0);
    }
  }

  // The event itself, of the type buffer (which it empties) and `data`.
  #emit(data: string): void {
    const type = this.typeLen === 0 ? "message" : this.#type;
    this.#type = "";
    this.typeLen = 0;
    this.#callbacks.onEvent({ type, data, lastEventId: this.#lastEventId });
  }
}
