// The WebAssembly engine: assembly/ scans the bytes, this file turns its record table into
// strings and callbacks. docs/PARSER.md is the contract; src/parser/js.ts is its twin.
//
// One Instance serves every parser in the process. A parser's state (a few words plus the
// bytes of its unfinished line and pending event) lives in the Instance while that parser is
// the last one fed, and in a small Uint8Array of its own otherwise: ten thousand idle
// streams cost ten thousand small arrays, not ten thousand 64 KiB pages. Callbacks run while
// the records of the Instance are being read; a callback that feeds another parser gets a
// second Instance (made once, kept for the next time), so the first one's records and input
// window stay intact.

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
  REC_COMMENT,
  REC_COMMIT,
  REC_ERROR,
  REC_EVENT,
  REC_RETRY,
  S_COMMENTS,
  S_BASE,
  S_LOAD,
  S_MAX,
  S_PENDING,
  S_REF_BYTES,
  S_REF_END,
  STATE_WORDS,
  WINDOW_SIZE,
} from "../../assembly/abi.js";
import { eventTooLarge } from "./errors.js";
import type { EngineName, EventStreamParser, ParserCallbacks } from "./types.js";
import { PARSER_WASM_BASE64, PARSER_WASM_SIMD_BASE64 } from "../wasm/parser.generated.js";

interface ParserExports {
  memory: WebAssembly.Memory;
  feed(len: number): number;
  resume(): number;
  save(): void;
  input: WebAssembly.Global;
  records: WebAssembly.Global;
  state: WebAssembly.Global;
  arena: WebAssembly.Global;
  wide: WebAssembly.Global;
  utf16(): number;
}

const PAUSED = 1 << 30;
// A chunk's one latin1 decode also takes in the arena up to its last referenced span when
// at least half of that arena is referenced (or it is small): not, say, a 16 MiB pending
// event below one short span.
const MERGE_SLACK = 4096;
const STATE_BYTES = STATE_WORDS * 4;

type NodeBufferish = Uint8Array & {
  latin1Slice(start: number, end: number): string;
  ucs2Slice(start: number, end: number): string;
};
type NodeBufferClass = {
  from(ab: ArrayBuffer, byteOffset?: number, length?: number): NodeBufferish;
  from(s: string, encoding: "base64"): Uint8Array;
};
// Node's Buffer turns bytes into a one-byte (latin1) or two-byte (ucs2) string with one
// native call and no copy of its own; elsewhere TextDecoder does (windows-1252 is exact for
// the ASCII spans it serves, utf-16le for the UTF-16 that assembly/ writes).
const NodeBuffer: NodeBufferClass | undefined = (() => {
  const B = (globalThis as { Buffer?: { prototype?: { latin1Slice?: unknown } } }).Buffer;
  return typeof B?.prototype?.latin1Slice === "function" ? (B as unknown as NodeBufferClass) : undefined;
})();

const utf8Decoder = new TextDecoder("utf-8", { ignoreBOM: true });
// Node 20 decodes long non-ASCII input about twice as fast in streaming mode (measured:
// 119 bytes 200 ns against 333 ns, 1190 bytes 1.2 us against 2.7 us). A call that ends on
// an ASCII byte leaves the decoder with nothing pending, so a span followed by an ASCII
// byte (its line end, or the LF after it in the data buffer) is decoded with that byte,
// which is then cut off: the same text as decoding the span alone.
const streamDecoder = new TextDecoder("utf-8", { ignoreBOM: true });
const STREAM = { stream: true };
const STREAM_MIN = 48;
let latin1Decoder: TextDecoder | undefined;
let utf16Decoder: TextDecoder | undefined;
const encoder = new TextEncoder();

function fromBase64(s: string): Uint8Array<ArrayBuffer> {
  if (NodeBuffer !== undefined) return new Uint8Array(NodeBuffer.from(s, "base64"));
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** An Instance, its views, and whose state it holds. */
class Runtime {
  // The exports object is exotic enough that each property read of it misses the inline
  // cache: the functions are read once.
  readonly feed: (len: number) => number;
  readonly resume: () => number;
  readonly save: () => void;
  readonly utf16: () => number;
  readonly memory: WebAssembly.Memory;
  readonly input: number;
  readonly records: number;
  readonly state: number;
  readonly arena: number;
  u8!: Uint8Array;
  i32!: Int32Array;
  buf: NodeBufferish | undefined;
  active: WasmParser | undefined;
  /** Its records are being read (and callbacks run): no other parser may feed it. */
  busy = false;
  // The bytes of the last call that one latin1 decode covers, [textStart, textEnd): the chunk
  // in the input window and the arena spans just above it.
  textStart = 0;
  textEnd = 0;
  // The joined area of the last call (FLAG_JOINED), decoded at its first span (from its
  // UTF-16 at `wide`), and where the next span starts in that text.
  readonly wide: number;
  joinedText: string | undefined;
  joinedAt = 0;

  constructor(exports: ParserExports) {
    this.feed = exports.feed;
    this.resume = exports.resume;
    this.save = exports.save;
    this.utf16 = exports.utf16;
    this.memory = exports.memory;
    this.input = exports.input.value as number;
    this.records = exports.records.value as number;
    this.state = exports.state.value as number;
    this.arena = exports.arena.value as number;
    this.wide = exports.wide.value as number;
    if (this.arena !== this.input + WINDOW_SIZE) throw new Error("parser.wasm: the arena must follow the input window");
    this.views();
  }

  /** `memory.grow` detaches the old buffer: call after anything that may have grown it. */
  views(): void {
    // A detached view has length 0; the `memory.buffer` getter costs more than a feed of a
    // small chunk, so it is read only when the view is gone.
    if (this.u8 !== undefined && this.u8.length !== 0) return;
    const ab = this.memory.buffer;
    this.u8 = new Uint8Array(ab);
    this.i32 = new Int32Array(ab);
    this.buf = NodeBuffer?.from(ab);
  }

  latin1(start: number, end: number): string {
    if (this.buf !== undefined) return this.buf.latin1Slice(start, end);
    latin1Decoder ??= new TextDecoder("windows-1252");
    return latin1Decoder.decode(this.u8.subarray(start, end));
  }

  ucs2(start: number, end: number): string {
    if (this.buf !== undefined) return this.buf.ucs2Slice(start, end);
    utf16Decoder ??= new TextDecoder("utf-16le");
    return utf16Decoder.decode(this.u8.subarray(start, end));
  }

  /**
   * A span as a string. ASCII spans in [textStart, textEnd) are substrings of `window`, the
   * latin1 decode of that range (one native call per chunk instead of one per field); other
   * spans get a decode of their own.
   */
  text(ptr: number, len: number, ascii: number, window: string): string {
    if (ascii === 0) {
      const u8 = this.u8;
      if (len >= STREAM_MIN && u8[ptr + len]! < 0x80) {
        return streamDecoder.decode(u8.subarray(ptr, ptr + len + 1), STREAM).slice(0, -1);
      }
      return utf8Decoder.decode(u8.subarray(ptr, ptr + len));
    }
    if (ptr >= this.textStart && ptr + len <= this.textEnd) {
      return window.substring(ptr - this.textStart, ptr - this.textStart + len);
    }
    return this.latin1(ptr, ptr + len);
  }

  /**
   * The next span of the joined area: one decode per call for all the short non-ASCII spans,
   * by assembly/ into UTF-16 (`utf16`), which becomes a string with a copy.
   */
  nextJoined(): string {
    const text = (this.joinedText ??= this.ucs2(this.wide, this.utf16()));
    const start = this.joinedAt;
    const end = text.indexOf("\r", start);
    this.joinedAt = end + 1;
    return text.substring(start, end);
  }

  /** After a call on a chunk of n bytes that wrote records: what `text` may take from one decode. */
  called(n: number): void {
    this.joinedText = undefined;
    this.joinedAt = 0;
    this.textStart = this.arena - n;
    // Arena spans (lines that crossed chunks, data joined from several lines) are cheaper
    // as part of the one decode than as a native call each.
    const refEnd = this.i32[(this.state >> 2) + S_REF_END]!;
    const refBytes = this.i32[(this.state >> 2) + S_REF_BYTES]!;
    this.textEnd =
      refEnd - this.arena <= MERGE_SLACK + 2 * refBytes ? Math.max(refEnd, this.arena) : this.arena;
  }

  ensure(limit: number): void {
    const have = this.memory.buffer.byteLength;
    if (limit > have) {
      this.memory.grow(Math.ceil((limit - have) / 65536));
      this.views();
    }
  }
}

let module: WebAssembly.Module | undefined;
const runtimes: Runtime[] = [];
let unavailable: string | undefined;
let loaded = false;
let build: "simd" | "scalar" | undefined;

function env(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[
    name
  ];
}

function instantiate(): Runtime {
  const instance = new WebAssembly.Instance(module!, {});
  const rt = new Runtime(instance.exports as unknown as ParserExports);
  runtimes.push(rt);
  return rt;
}

// Compiled at the first WASM parser, never at import: importing the package costs nothing
// in runtimes that will use the TypeScript engine anyway.
function load(): boolean {
  if (loaded) return module !== undefined;
  loaded = true;
  if (env("EVENTSOURCE_NO_WASM") === "1") {
    unavailable = "WebAssembly is disabled by EVENTSOURCE_NO_WASM=1";
    return false;
  }
  const WA = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
  if (typeof WA?.Module !== "function" || typeof WA.Instance !== "function") {
    unavailable = "WebAssembly is not available in this runtime";
    return false;
  }
  try {
    // The SIMD build where the runtime validates it; EVENTSOURCE_WASM_BUILD=scalar forces
    // the other one (for tests and benchmarks).
    const simd = fromBase64(PARSER_WASM_SIMD_BASE64);
    build = env("EVENTSOURCE_WASM_BUILD") !== "scalar" && WA.validate(simd) ? "simd" : "scalar";
    module = new WA.Module(build === "simd" ? simd : fromBase64(PARSER_WASM_BASE64));
    instantiate();
  } catch (error) {
    module = undefined;
    build = undefined;
    unavailable = `WebAssembly could not load the parser: ${(error as Error)?.message ?? String(error)}`;
  }
  return module !== undefined;
}

/** Why the WASM engine cannot run here, or `undefined` when it can. */
export function wasmUnavailableReason(): string | undefined {
  load();
  return unavailable;
}

/** Which build of assembly/ the WASM engine runs, or `undefined` when it cannot run. */
export function wasmBuild(): "simd" | "scalar" | undefined {
  load();
  return build;
}

/** The first Instance that no dispatch is using; nested feeds are rare, so is a new one. */
function idleRuntime(): Runtime {
  for (const rt of runtimes) if (!rt.busy) return rt;
  return instantiate();
}

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
  // The Instance holding this parser's state (its `active` is this parser), if any.
  #home: Runtime | undefined;
  // This parser's state while no Instance holds it; undefined: the state of a new stream.
  #saved: Uint8Array | undefined;
  #queue: Uint8Array[] | undefined;
  #generation = 0; // bumped by end() and reset(), so a dispatch loop knows to stop

  constructor(callbacks: ParserCallbacks, maxEventSize: number, lastEventId: string) {
    if (!load()) throw new Error(`engine "wasm" is not available: ${unavailable}`);
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
    const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
    if (this.#home?.busy === true) {
      // Fed from one of our own callbacks: these bytes follow the chunk being dispatched,
      // so they wait for it. Copied, as the caller may reuse its buffer.
      (this.#queue ??= []).push(bytes.slice());
      return;
    }
    this.#run(bytes);
    while (this.#queue !== undefined) {
      const next = this.#queue.shift()!;
      if (this.#queue.length === 0) this.#queue = undefined;
      this.#run(next);
    }
  }

  end(): void {
    if (this.#home !== undefined) {
      this.#home.active = undefined;
      this.#home = undefined;
    }
    this.#saved = undefined;
    this.#idBuffer = this.#last.id;
    this.#queue = undefined;
    this.#generation++;
  }

  reset(): void {
    this.#last = { id: this.#initialLastEventId };
    this.end();
  }

  /** Moves this parser's state out of its Instance, so that another parser can use it. */
  #saveOut(): void {
    const rt = this.#home!;
    rt.save();
    const pending = rt.i32[(rt.state >> 2) + S_PENDING]!;
    const from = rt.i32[(rt.state >> 2) + S_BASE]! || rt.arena;
    const saved = new Uint8Array(STATE_BYTES + pending);
    saved.set(rt.u8.subarray(rt.state, rt.state + STATE_BYTES));
    if (pending > 0) saved.set(rt.u8.subarray(from, from + pending), STATE_BYTES);
    this.#saved = saved;
    rt.active = undefined;
    this.#home = undefined;
  }

  #moveTo(rt: Runtime): void {
    if (this.#home !== undefined) this.#saveOut();
    if (rt.active !== undefined) rt.active.#saveOut();
    const saved = this.#saved;
    if (saved === undefined) {
      rt.u8.fill(0, rt.state, rt.state + STATE_BYTES);
      const max = this.#maxEventSize;
      // 0xFFFFFFFF means no bound: wasm32 memory cannot hold a pending event that large.
      rt.i32[(rt.state >> 2) + S_MAX] = max < 0xffffffff ? max : -1;
      rt.i32[(rt.state >> 2) + S_COMMENTS] = this.#callbacks.onComment !== undefined ? 1 : 0;
    } else {
      // May throw (no memory left): the state is then still in `saved`.
      rt.ensure(rt.arena + saved.length - STATE_BYTES);
      rt.u8.set(saved.subarray(0, STATE_BYTES), rt.state);
      rt.u8.set(saved.subarray(STATE_BYTES), rt.arena);
      rt.i32[(rt.state >> 2) + S_BASE] = rt.arena;
      this.#saved = undefined;
    }
    rt.i32[(rt.state >> 2) + S_LOAD] = 1;
    rt.active = this;
    this.#home = rt;
  }

  #run(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    let rt = this.#home;
    if (rt === undefined) {
      rt = idleRuntime();
      this.#moveTo(rt);
    }
    const generation = this.#generation;
    rt.busy = true;
    try {
      for (let off = 0; off < bytes.length; off += WINDOW_SIZE) {
        const n = Math.min(WINDOW_SIZE, bytes.length - off);
        rt.u8.set(n === bytes.length ? bytes : bytes.subarray(off, off + n), rt.arena - n);
        let words: number;
        try {
          words = rt.feed(n);
        } catch (error) {
          // A trap (out of memory) leaves the Instance's copy of this stream half-updated.
          this.end();
          throw error;
        }
        for (;;) {
          rt.views();
          // Small chunks often end no line that yields a record: nothing more to do.
          if (words === 0) break;
          rt.called(n);
          if (!this.#dispatch(rt, words & ~PAUSED, generation)) return;
          if ((words & PAUSED) === 0) break;
          words = rt.resume();
        }
      }
    } finally {
      rt.busy = false;
    }
  }

  /**
   * Turns the record table into callbacks. Returns false when a callback ended the stream:
   * the rest of the chunk belongs to the old stream.
   */
  #dispatch(rt: Runtime, words: number, generation: number): boolean {
    const cb = this.#callbacks;
    const i32 = rt.i32;
    // Decoded up front rather than at the first span that needs it: held in a local, the
    // string costs no write barrier, and the chunks that need none are rare. A kept
    // substring keeps this string alive: at most WINDOW_SIZE one-byte chars plus arena
    // spans that are referenced anyway.
    const window = rt.latin1(rt.textStart, rt.textEnd);
    // Locals, written back at the end: a store of a new string into this long-lived object
    // costs a write barrier, which was a visible part of the time per event.
    let idBuffer = this.#idBuffer;
    let lastType = this.#lastType;
    const last = { id: this.#last.id };
    this.#last = last;
    let r = rt.records >> 2;
    const stop = r + words;
    // Each span is "next joined piece, or decoded where it lies", written out per record kind:
    // one shared helper for it measured 2-3% slower on market ticks at 64 KiB chunks.
    while (r < stop) {
      const head = i32[r]!;
      switch (head & 0xff) {
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
          throw new Error(`eventsource-wasm: corrupt parser record ${head}`);
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
