// The TypeScript engine's half that knows the spec's buffers: what each line does to them and
// when an event is dispatched (docs/PARSER.md, "Per stream", steps 3-4, and the size bound).
// src/parser/js.ts, the half that finds the lines in the chunks, extends it.

import { FIELD_DATA, FIELD_EVENT, FIELD_ID, FIELD_NONE, FIELD_RETRY } from "../../assembly/abi.js";
import { utf8Length } from "./decode.js";
import { eventTooLarge } from "./errors.js";
import { FIELD_NAME_LENGTH, allDigits, bytesAt, fieldAt, hasNull, hasNullByte, sameChars } from "./lines.js";
import type { ParserCallbacks } from "./types.js";

const COLON = 0x3a;
const SPACE = 0x20;

/**
 * A processLine byte length meaning "not measured: the line is valid UTF-8 and cannot break
 * the size bound" (see JsParser's #validLines).
 */
export const UNMEASURED = -1;

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
      this.dispatch();
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
        // Unmeasured: chars stand in for bytes until #validLines counts them.
        this.dataLen += (bytes === UNMEASURED ? e - v : valueBytes) + 1;
        return;
      }
      case FIELD_EVENT: {
        if (this.discarding) return;
        this.setType(t, v, e, bytes === UNMEASURED ? UNMEASURED : valueBytes);
        return;
      }
      case FIELD_ID: {
        this.setId(t, v, e);
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
  protected setType(t: string, v: number, e: number, bytes: number): void {
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
  protected setId(t: string, v: number, e: number): void {
    // "If the field value does not contain U+0000 NULL, then set the last event ID buffer to
    // the field value. Otherwise, ignore the field."
    if (!hasNull(t, v, e)) this.#idBuffer = t.slice(v, e);
  }

  // setType and setId for a line of an ASCII chunk, whose bytes `t` holds at the same
  // offsets (see JsParser's #asciiLines): the checks read the bytes.
  protected setAsciiType(t: string, b: Uint8Array, v: number, e: number): void {
    const last = this.#lastType;
    if (e - v === last.length && bytesAt(b, v, last)) {
      this.#type = last;
    } else {
      this.#type = this.#lastType = t.slice(v, e);
      this.#lastTypeLen = -1;
    }
    this.typeLen = e - v;
  }

  protected setAsciiId(t: string, b: Uint8Array, v: number, e: number): void {
    if (!hasNullByte(b, v, e)) this.#idBuffer = t.slice(v, e);
  }

  protected dispatch(): void {
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
  protected dispatchData(data: string): void {
    this.#lastEventId = this.#idBuffer;
    this.#emit(data);
  }

  // The event itself, of the type buffer (which it empties) and `data`.
  #emit(data: string): void {
    const type = this.typeLen === 0 ? "message" : this.#type;
    this.#type = "";
    this.typeLen = 0;
    this.#callbacks.onEvent({ type, data, lastEventId: this.#lastEventId });
  }
}
