// The WebAssembly binding: assembly/ scans the bytes, this file turns its record table into
// strings and callbacks. docs/PARSER.md is the contract; src/parser/js.ts is its twin;
// src/parser/wasm-instance.ts holds the Instances, their memory and the streams' state.
//
// Callbacks run while the records of the Instance are being read; a callback that feeds
// another parser gets another Instance (see wasm-instance.ts).

import {
  FLAG_ASCII,
  FLAG_COMMIT,
  FLAG_DATA_ASCII,
  FLAG_ID,
  FLAG_ID_ASCII,
  FLAG_ID_JOINED,
  FLAG_JOINED,
  FLAG_DATA_JOINED,
  FLAG_SAME_TYPE,
  PAUSED,
  REC_COMMENT,
  REC_COMMIT,
  REC_ERROR,
  REC_EVENT,
  REC_RETRY,
  REC_WINDOW_EVENT,
  WINDOW_SIZE,
} from "../../assembly/abi.js";
import { StringEncoder } from "./decode.js";
import { eventTooLarge } from "./errors.js";
import type { EngineName, EventStreamParser, ParserCallbacks } from "./types.js";
import { ParserInstance, type StreamSlot, idleInstance } from "./wasm-instance.js";

export { wasmBuild, wasmUnavailableReason } from "./wasm-instance.js";


export class WasmParser implements EventStreamParser {
  readonly engine: EngineName = "wasm";

  readonly #callbacks: ParserCallbacks;
  readonly #maxEventSize: number;
  readonly #initialLastEventId: string;
  // The last event ID string, in a small holder that each dispatch replaces: a new id per
  // event (a common stream shape) then goes into a young object, which needs no write
  // barrier, rather than into this long-lived one.
  #last: { id: string };
  #idBuffer: string;
  // Where this parser's stream state is (an Instance, or an array of its own).
  readonly #slot: StreamSlot = { home: undefined, saved: undefined };
  #queue: Uint8Array[] | undefined;
  // Made at the first string chunk: it may hold a high surrogate for the next one.
  #strings: StringEncoder | undefined;
  #generation = 0; // bumped by end() and reset(), so a dispatch loop knows to stop

  /** Made by createParser once `wasmUnavailableReason()` says the module runs here. */
  constructor(callbacks: ParserCallbacks, maxEventSize: number, lastEventId: string) {
    this.#callbacks = callbacks;
    this.#maxEventSize = maxEventSize;
    this.#initialLastEventId = lastEventId;
    this.#last = { id: lastEventId };
    this.#idBuffer = lastEventId;
  }

  get lastEventId(): string {
    return this.#last.id;
  }

  feed(chunk: Uint8Array | string): void {
    const home = this.#slot.home;
    if (
      home !== undefined &&
      !home.busy &&
      typeof chunk !== "string" &&
      chunk.length <= WINDOW_SIZE &&
      this.#strings?.holding !== true
    ) {
      // The usual case (bytes that fit the input window, for the stream this Instance already
      // holds, not fed from one of its callbacks, no surrogate held from a string before them)
      // takes none of the turns below.
      this.#window(home, chunk, chunk.length, this.#generation);
    } else {
      const bytes = this.#encode(chunk);
      if (home?.busy === true) {
        // Fed from one of our own callbacks: these bytes follow the chunk being dispatched,
        // so they wait for it. Copied, as the caller may reuse its buffer.
        (this.#queue ??= []).push(bytes.slice());
        return;
      }
      this.#run(bytes);
    }
    while (this.#queue !== undefined) {
      const next = this.#queue.shift()!;
      if (this.#queue.length === 0) this.#queue = undefined;
      this.#run(next);
    }
  }

  // A string's bytes, or bytes after the U+FFFD of a high surrogate that ended a string.
  #encode(chunk: Uint8Array | string): Uint8Array {
    if (typeof chunk === "string") return (this.#strings ??= new StringEncoder()).encode(chunk);
    return this.#strings === undefined ? chunk : this.#strings.before(chunk);
  }

  end(): void {
    this.#strings?.reset();
    ParserInstance.release(this.#slot);
    this.#idBuffer = this.#last.id;
    this.#queue = undefined;
    this.#generation++;
  }

  reset(): void {
    this.#last = { id: this.#initialLastEventId };
    this.end();
  }

  #run(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    let rt = this.#slot.home;
    if (rt === undefined) {
      rt = idleInstance();
      rt.admit(this.#slot, this.#maxEventSize, this.#callbacks.onComment !== undefined);
    }
    const generation = this.#generation;
    const total = bytes.length;
    for (let off = 0; off < total; off += WINDOW_SIZE) {
      // Chunks up to the window's size (nearly all) are copied whole, with no subarray.
      const n = total - off < WINDOW_SIZE ? total - off : WINDOW_SIZE;
      if (!this.#window(rt, off === 0 && n === total ? bytes : bytes.subarray(off, off + n), n, generation)) return;
    }
  }

  /**
   * Feeds n (at most WINDOW_SIZE) bytes to the Instance that holds this stream and dispatches
   * their records. Returns false when a callback ended the stream.
   */
  #window(rt: ParserInstance, bytes: Uint8Array, n: number, generation: number): boolean {
    if (n === 0) return true;
    let words: number;
    try {
      words = rt.write(bytes, n);
    } catch (error) {
      // A trap (out of memory) leaves the Instance's copy of this stream half-updated.
      this.end();
      throw error;
    }
    // Small chunks often end no line that yields a record: nothing more to do.
    if (words === 0) return true;
    rt.busy = true;
    try {
      for (;;) {
        if (!this.#dispatch(rt, words & ~PAUSED, generation)) return false;
        if ((words & PAUSED) === 0) return true;
        words = rt.resume();
      }
    } catch (error) {
      // A callback threw: the stream ends there, as end() ends it. The module has scanned the
      // whole window, so its buffers and unfinished line hold the rest of the chunk, which is
      // dropped with the chunks fed from callbacks; the last event ID is the one of the event
      // that threw.
      this.end();
      throw error;
    } finally {
      rt.busy = false;
    }
  }

  /**
   * Turns the record table into callbacks. Returns false when a callback ended the stream:
   * the rest of the chunk belongs to the old stream.
   */
  #dispatch(rt: ParserInstance, words: number, generation: number): boolean {
    const cb = this.#callbacks;
    const i32 = rt.i32;
    // Decoded up front rather than at the first span that needs it: held in a local, the
    // string costs no write barrier, and the chunks that need none are rare. A kept
    // substring keeps this string alive: at most WINDOW_SIZE one-byte chars plus arena
    // spans that are referenced anyway.
    const window = rt.window();
    // Locals, written back at the end: a store of a new string into this long-lived object
    // costs a write barrier, which was a visible part of the time per event.
    let idBuffer = this.#idBuffer;
    let lastType = this.#lastType;
    const last = { id: this.#last.id };
    this.#last = last;
    let r = rt.records >> 2;
    const stop = r + words;
    // Each span is "next joined piece, or decoded where it lies", written out per record kind:
    // one shared helper for it measured 2-3% slower on market ticks at 64 KiB chunks (6c9975a).
    while (r < stop) {
      const head = i32[r]!;
      switch (head & 0xff) {
        case REC_WINDOW_EVENT: {
          // The usual event (most of a market-ticks stream): spans of `window` as they are.
          const typeStart = i32[r + 1]!;
          const typeEnd = i32[r + 2]!;
          const type =
            typeStart === typeEnd
              ? "message"
              : (head & FLAG_SAME_TYPE) !== 0
                ? lastType
                : (lastType = window.substring(typeStart, typeEnd));
          const data = window.substring(i32[r + 3]!, i32[r + 4]!);
          idBuffer = window.substring(i32[r + 5]!, i32[r + 6]!);
          last.id = idBuffer;
          r += 7;
          cb.onEvent({ type, data, lastEventId: idBuffer });
          break;
        }
        case REC_EVENT: {
          const typeLen = i32[r + 2]!;
          const type =
            typeLen === 0
              ? "message"
              : (head & FLAG_SAME_TYPE) !== 0
                ? lastType
                : (lastType =
                    (head & FLAG_JOINED) !== 0
                      ? rt.nextJoined()
                      : rt.text(i32[r + 1]!, typeLen, head & FLAG_ASCII, window));
          const data =
            (head & FLAG_DATA_JOINED) !== 0
              ? rt.nextJoined()
              : rt.text(i32[r + 3]!, i32[r + 4]!, head & FLAG_DATA_ASCII, window);
          if ((head & FLAG_ID) !== 0) {
            idBuffer =
              (head & FLAG_ID_JOINED) !== 0
                ? rt.nextJoined()
                : rt.text(i32[r + 5]!, i32[r + 6]!, head & FLAG_ID_ASCII, window);
            r += 2;
          }
          if ((head & FLAG_COMMIT) !== 0) last.id = idBuffer;
          r += 5;
          cb.onEvent({ type, data, lastEventId: last.id });
          break;
        }
        case REC_COMMIT:
          if ((head & FLAG_ID) !== 0) {
            idBuffer =
              (head & FLAG_JOINED) !== 0
                ? rt.nextJoined()
                : rt.text(i32[r + 1]!, i32[r + 2]!, head & FLAG_ID_ASCII, window);
            r += 2;
          }
          last.id = idBuffer;
          r += 1;
          continue;
        case REC_RETRY: {
          const ms = Number(rt.text(i32[r + 1]!, i32[r + 2]!, FLAG_ASCII, window));
          r += 3;
          cb.onRetry?.(ms);
          break;
        }
        case REC_COMMENT: {
          const comment =
            (head & FLAG_JOINED) !== 0
              ? rt.nextJoined()
              : rt.text(i32[r + 1]!, i32[r + 2]!, head & FLAG_ASCII, window);
          r += 3;
          cb.onComment?.(comment);
          break;
        }
        case REC_ERROR:
          r += 1;
          cb.onError?.(eventTooLarge(this.#maxEventSize));
          break;
        default:
          throw new Error(`corrupt parser record ${head}`);
      }
      // end() or reset() from a callback: the rest belongs to the old stream, and the
      // buffers they reset must not be overwritten.
      if (this.#generation !== generation) return false;
    }
    this.#idBuffer = idBuffer;
    this.#lastType = lastType;
    return true;
  }

  // The type of the last event dispatched: FLAG_SAME_TYPE points back to it.
  #lastType = "";
}
