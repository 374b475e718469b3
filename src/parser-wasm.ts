// The WebAssembly engine: assembly/ scans the bytes, this file turns its record table into
// strings and callbacks. docs/PARSER.md is the contract; src/parser-js.ts is its twin.
//
// One Instance serves every parser in the process. A parser's state (a few words plus the
// bytes of its unfinished line and pending event) lives in the Instance while that parser is
// the last one fed, and in a small Uint8Array of its own otherwise: ten thousand idle
// streams cost ten thousand small arrays, not ten thousand 64 KiB pages.

import {
  FLAG_ASCII,
  FLAG_COMMIT,
  FLAG_DATA_ASCII,
  REC_COMMENT,
  REC_COMMIT,
  REC_ERROR,
  REC_EVENT,
  REC_ID,
  REC_RETRY,
  S_COMMENTS,
  S_BASE,
  S_MAX,
  S_PENDING,
  STATE_WORDS,
  WINDOW_SIZE,
} from "../assembly/abi.js";
import { eventTooLarge } from "./errors.js";
import type { EngineName, EventStreamParser, ParsedEvent, ParserCallbacks } from "./types.js";
import { PARSER_WASM_BASE64, PARSER_WASM_SIMD_BASE64 } from "./wasm/parser.generated.js";

interface ParserExports {
  memory: WebAssembly.Memory;
  feed(len: number): number;
  resume(): number;
  input: WebAssembly.Global;
  records: WebAssembly.Global;
  state: WebAssembly.Global;
  arena: WebAssembly.Global;
}

const PAUSED = 1 << 30;
const STATE_BYTES = STATE_WORDS * 4;

type NodeBufferish = Uint8Array & { latin1Slice(start: number, end: number): string };
type NodeBufferClass = {
  from(ab: ArrayBuffer, byteOffset?: number, length?: number): NodeBufferish;
  from(s: string, encoding: "base64"): Uint8Array;
};
// Node's Buffer turns bytes into a one-byte string with one native call and no copy of its
// own; elsewhere TextDecoder does (windows-1252 is exact for the ASCII spans it serves).
const NodeBuffer: NodeBufferClass | undefined = (() => {
  const B = (globalThis as { Buffer?: { prototype?: { latin1Slice?: unknown } } }).Buffer;
  return typeof B?.prototype?.latin1Slice === "function" ? (B as unknown as NodeBufferClass) : undefined;
})();

const utf8Decoder = new TextDecoder("utf-8", { ignoreBOM: true });
let latin1Decoder: TextDecoder | undefined;
const encoder = new TextEncoder();

function fromBase64(s: string): Uint8Array<ArrayBuffer> {
  if (NodeBuffer !== undefined) return new Uint8Array(NodeBuffer.from(s, "base64"));
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The one Instance, its views and whose state it holds. */
class Runtime {
  readonly exports: ParserExports;
  readonly memory: WebAssembly.Memory;
  readonly input: number;
  readonly records: number;
  readonly state: number;
  readonly arena: number;
  u8!: Uint8Array;
  i32!: Int32Array;
  buf: NodeBufferish | undefined;
  active: WasmParser | undefined;

  constructor(exports: ParserExports) {
    this.exports = exports;
    this.memory = exports.memory;
    this.input = exports.input.value as number;
    this.records = exports.records.value as number;
    this.state = exports.state.value as number;
    this.arena = exports.arena.value as number;
    this.views();
  }

  /** `memory.grow` detaches the old buffer: call after anything that may have grown it. */
  views(): void {
    const ab = this.memory.buffer;
    if (this.u8 !== undefined && this.u8.buffer === ab) return;
    this.u8 = new Uint8Array(ab);
    this.i32 = new Int32Array(ab);
    this.buf = NodeBuffer?.from(ab);
  }

  latin1(start: number, end: number): string {
    if (this.buf !== undefined) return this.buf.latin1Slice(start, end);
    latin1Decoder ??= new TextDecoder("windows-1252");
    return latin1Decoder.decode(this.u8.subarray(start, end));
  }

  ensure(limit: number): void {
    const have = this.memory.buffer.byteLength;
    if (limit > have) {
      this.memory.grow(Math.ceil((limit - have) / 65536));
      this.views();
    }
  }
}

let runtime: Runtime | undefined;
let unavailable: string | undefined;
let loaded = false;

function env(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[
    name
  ];
}

// Compiled at the first WASM parser, never at import: importing the package costs nothing
// in runtimes that will use the TypeScript engine anyway.
function load(): Runtime | undefined {
  if (loaded) return runtime;
  loaded = true;
  if (env("EVENTSOURCE_NO_WASM") === "1") {
    unavailable = "WebAssembly is disabled by EVENTSOURCE_NO_WASM=1";
    return undefined;
  }
  const WA = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
  if (typeof WA?.Module !== "function" || typeof WA.Instance !== "function") {
    unavailable = "WebAssembly is not available in this runtime";
    return undefined;
  }
  try {
    const simd = fromBase64(PARSER_WASM_SIMD_BASE64);
    const bytes = WA.validate(simd) ? simd : fromBase64(PARSER_WASM_BASE64);
    const instance = new WA.Instance(new WA.Module(bytes), {});
    runtime = new Runtime(instance.exports as unknown as ParserExports);
  } catch (error) {
    unavailable = `WebAssembly could not load the parser: ${(error as Error)?.message ?? String(error)}`;
  }
  return runtime;
}

/** Why the WASM engine cannot run here, or `undefined` when it can. */
export function wasmUnavailableReason(): string | undefined {
  load();
  return unavailable;
}

// Outputs of one chunk, collected before any callback runs (see #dispatch).
const OUT_EVENT = 0;
const OUT_COMMIT = 1;
const OUT_RETRY = 2;
const OUT_COMMENT = 3;
const OUT_ERROR = 4;

export class WasmParser implements EventStreamParser {
  readonly engine: EngineName = "wasm";

  readonly #callbacks: ParserCallbacks;
  readonly #maxEventSize: number;
  readonly #initialLastEventId: string;
  readonly #rt: Runtime;
  #lastEventId: string;
  #idBuffer: string;
  // The last event ID string as the records read so far leave it; dispatch catches up.
  #readLastEventId = "";
  // This parser's state while another parser holds the Instance; undefined means the state
  // of a new stream (or that the Instance holds it: rt.active === this).
  #saved: Uint8Array | undefined;
  #dispatching = false;
  #queue: Uint8Array[] | undefined;
  #generation = 0; // bumped by end() and reset(), so a dispatch loop knows to stop

  constructor(callbacks: ParserCallbacks, maxEventSize: number, lastEventId: string) {
    const rt = load();
    if (rt === undefined) throw new Error(`engine "wasm" is not available: ${unavailable}`);
    this.#rt = rt;
    this.#callbacks = callbacks;
    this.#maxEventSize = maxEventSize;
    this.#initialLastEventId = lastEventId;
    this.#lastEventId = lastEventId;
    this.#idBuffer = lastEventId;
  }

  get lastEventId(): string {
    return this.#lastEventId;
  }

  feed(chunk: Uint8Array | string): void {
    const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
    if (this.#dispatching) {
      // Fed from one of our own callbacks: these bytes follow the chunk being dispatched,
      // so they wait for it. Copied, as the caller may reuse its buffer.
      (this.#queue ??= []).push(bytes.slice());
      return;
    }
    this.#dispatch(this.#parse(bytes));
    while (this.#queue !== undefined) {
      const next = this.#queue.shift()!;
      if (this.#queue.length === 0) this.#queue = undefined;
      this.#dispatch(this.#parse(next));
    }
  }

  end(): void {
    if (this.#rt.active === this) this.#rt.active = undefined;
    this.#saved = undefined;
    this.#idBuffer = this.#lastEventId;
    this.#queue = undefined;
    this.#generation++;
  }

  reset(): void {
    this.#lastEventId = this.#initialLastEventId;
    this.end();
  }

  /** Moves this parser's state out of the Instance, so that another parser can use it. */
  #saveOut(): void {
    const rt = this.#rt;
    const pending = rt.i32[(rt.state >> 2) + S_PENDING]!;
    const from = rt.i32[(rt.state >> 2) + S_BASE]! || rt.arena;
    const saved = new Uint8Array(STATE_BYTES + pending);
    saved.set(rt.u8.subarray(rt.state, rt.state + STATE_BYTES));
    if (pending > 0) saved.set(rt.u8.subarray(from, from + pending), STATE_BYTES);
    this.#saved = saved;
  }

  #loadIn(): void {
    const rt = this.#rt;
    const other = rt.active;
    if (other !== undefined) other.#saveOut();
    rt.active = this;
    const saved = this.#saved;
    this.#saved = undefined;
    if (saved === undefined) {
      rt.u8.fill(0, rt.state, rt.state + STATE_BYTES);
      const max = this.#maxEventSize;
      // 0xFFFFFFFF means no bound: wasm32 memory cannot hold a pending event that large.
      rt.i32[(rt.state >> 2) + S_MAX] = max < 0xffffffff ? max : -1;
      rt.i32[(rt.state >> 2) + S_COMMENTS] = this.#callbacks.onComment !== undefined ? 1 : 0;
      return;
    }
    rt.ensure(rt.arena + saved.length - STATE_BYTES);
    rt.u8.set(saved.subarray(0, STATE_BYTES), rt.state);
    rt.u8.set(saved.subarray(STATE_BYTES), rt.arena);
    rt.i32[(rt.state >> 2) + S_BASE] = rt.arena;
  }

  /** Runs the chunk through the Instance; returns its outputs as [kind, value] pairs. */
  #parse(bytes: Uint8Array): unknown[] {
    const out: unknown[] = [];
    if (bytes.length === 0) return out;
    const rt = this.#rt;
    if (rt.active !== this) this.#loadIn();
    this.#readLastEventId = this.#lastEventId;
    try {
      for (let off = 0; off < bytes.length; off += WINDOW_SIZE) {
        const n = Math.min(WINDOW_SIZE, bytes.length - off);
        rt.u8.set(n === bytes.length ? bytes : bytes.subarray(off, off + n), rt.input);
        let words = rt.exports.feed(n);
        for (;;) {
          rt.views();
          this.#read(words & ~PAUSED, n, out);
          if ((words & PAUSED) === 0) break;
          words = rt.exports.resume();
        }
      }
    } catch (error) {
      // A trap (out of memory) leaves the Instance's copy of this stream half-updated.
      this.end();
      throw error;
    }
    return out;
  }

  /** Turns the record table into strings; the window is decoded at most once per call. */
  #read(words: number, n: number, out: unknown[]): void {
    const rt = this.#rt;
    const i32 = rt.i32;
    const input = rt.input;
    let window: string | undefined;
    // ASCII spans of the window are substrings of one latin1 decode of it (one native call
    // per window instead of one per field); other spans get a decode of their own. A kept
    // substring keeps that window string (at most WINDOW_SIZE one-byte chars) alive.
    const text = (ptr: number, len: number, ascii: number): string => {
      if (ascii === 0) return utf8Decoder.decode(rt.u8.subarray(ptr, ptr + len));
      const off = ptr - input;
      if (off >= 0 && off < n) {
        window ??= rt.latin1(input, input + n);
        return window.substring(off, off + len);
      }
      return rt.latin1(ptr, ptr + len);
    };
    let lastEventId = this.#readLastEventId;
    let r = rt.records >> 2;
    const stop = r + words;
    while (r < stop) {
      const head = i32[r]!;
      switch (head & 0xff) {
        case REC_EVENT: {
          const typeLen = i32[r + 2]!;
          const type = typeLen === 0 ? "message" : text(i32[r + 1]!, typeLen, head & FLAG_ASCII);
          const data = text(i32[r + 3]!, i32[r + 4]!, head & FLAG_DATA_ASCII);
          if ((head & FLAG_COMMIT) !== 0) lastEventId = this.#idBuffer;
          const event: ParsedEvent = { type, data, lastEventId };
          out.push(OUT_EVENT, event);
          r += 5;
          break;
        }
        case REC_ID:
          this.#idBuffer = text(i32[r + 1]!, i32[r + 2]!, head & FLAG_ASCII);
          r += 3;
          break;
        case REC_COMMIT:
          lastEventId = this.#idBuffer;
          out.push(OUT_COMMIT, lastEventId);
          r += 1;
          break;
        case REC_RETRY:
          out.push(OUT_RETRY, Number(text(i32[r + 1]!, i32[r + 2]!, FLAG_ASCII)));
          r += 3;
          break;
        case REC_COMMENT:
          out.push(OUT_COMMENT, text(i32[r + 1]!, i32[r + 2]!, head & FLAG_ASCII));
          r += 3;
          break;
        case REC_ERROR:
          out.push(OUT_ERROR, undefined);
          r += 1;
          break;
        default:
          throw new Error(`eventsource-wasm: corrupt parser record ${head}`);
      }
    }
    this.#readLastEventId = lastEventId;
  }

  // Callbacks run only once the Instance is done with the chunk, so a callback may feed
  // any parser, this one included (queued), or end it.
  #dispatch(out: unknown[]): void {
    if (out.length === 0) return;
    const cb = this.#callbacks;
    const generation = this.#generation;
    this.#dispatching = true;
    try {
      for (let i = 0; i < out.length; i += 2) {
        const value = out[i + 1];
        switch (out[i] as number) {
          case OUT_EVENT:
            this.#lastEventId = (value as ParsedEvent).lastEventId;
            cb.onEvent(value as ParsedEvent);
            break;
          case OUT_COMMIT:
            this.#lastEventId = value as string;
            break;
          case OUT_RETRY:
            cb.onRetry?.(value as number);
            break;
          case OUT_COMMENT:
            cb.onComment?.(value as string);
            break;
          case OUT_ERROR:
            cb.onError?.(eventTooLarge(this.#maxEventSize));
            break;
        }
        // end() or reset() from a callback: the rest of the chunk belongs to the old stream.
        if (this.#generation !== generation) return;
      }
    } finally {
      this.#dispatching = false;
    }
  }
}
