// The Instances of assembly/ and their memory: loading the module, the views on its memory,
// the strings made from it, and moving a stream's state in and out. src/parser/wasm.ts, the
// binding, turns the records of a call into callbacks with what this file offers.
//
// One Instance serves every parser in the process. A parser's state (a few words plus the
// bytes of its unfinished line and pending event) lives in the Instance while that parser is
// the last one fed, and in a small Uint8Array of its own otherwise: ten thousand idle
// streams cost ten thousand small arrays, not ten thousand 64 KiB pages. A callback that
// feeds another parser gets a second Instance (made once, kept for the next time), so the
// first one's records and input window stay intact.

import {
  S_BASE,
  S_COMMENTS,
  S_LOAD,
  S_MAX_EVENT_SIZE,
  S_PENDING,
  S_REF_BYTES,
  S_REF_END,
  STATE_WORDS,
  WINDOW_SIZE,
} from "../../assembly/abi.js";
import { PARSER_WASM_BASE64, PARSER_WASM_SIMD_BASE64 } from "../wasm/parser.generated.js";
import { suppliedWasmModule } from "./wasm-module.js";

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
// the ASCII spans it serves, utf-16le for the UTF-16 that assembly/ writes). Looked up on
// globalThis and checked, so that no runtime needs Node's modules.
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

function fromBase64(s: string): Uint8Array<ArrayBuffer> {
  if (NodeBuffer !== undefined) return new Uint8Array(NodeBuffer.from(s, "base64"));
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Where a stream's state is: in an Instance (`home`, whose `tenant` it then is), or saved in
 * an array of its own (`saved`; undefined with no home: the state of a new stream).
 */
export interface StreamSlot {
  home: ParserInstance | undefined;
  saved: Uint8Array | undefined;
}

/** An Instance, its views, and whose state it holds. */
export class ParserInstance {
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
  tenant: StreamSlot | undefined;
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
    utf16Decoder ??= new TextDecoder("utf-16le", { ignoreBOM: true });
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

  /** Moves the tenant's state out of this Instance into an array of its own. */
  evict(): void {
    const slot = this.tenant;
    if (slot === undefined) return;
    this.save();
    const words = this.state >> 2;
    const pending = this.i32[words + S_PENDING]!;
    const from = this.i32[words + S_BASE]! || this.arena;
    const saved = new Uint8Array(STATE_BYTES + pending);
    saved.set(this.u8.subarray(this.state, this.state + STATE_BYTES));
    if (pending > 0) saved.set(this.u8.subarray(from, from + pending), STATE_BYTES);
    slot.saved = saved;
    slot.home = undefined;
    this.tenant = undefined;
  }

  /** Makes `slot`'s stream the one this Instance holds, evicting whichever held it. */
  admit(slot: StreamSlot, maxEventSize: number, comments: boolean): void {
    slot.home?.evict();
    this.evict();
    const words = this.state >> 2;
    const saved = slot.saved;
    if (saved === undefined) {
      this.u8.fill(0, this.state, this.state + STATE_BYTES);
      // 0xFFFFFFFF means no bound: wasm32 memory cannot hold a pending event that large.
      this.i32[words + S_MAX_EVENT_SIZE] = maxEventSize < 0xffffffff ? maxEventSize : -1;
      this.i32[words + S_COMMENTS] = comments ? 1 : 0;
    } else {
      // May throw (no memory left): the state is then still in `saved`.
      this.ensure(this.arena + saved.length - STATE_BYTES);
      this.u8.set(saved.subarray(0, STATE_BYTES), this.state);
      this.u8.set(saved.subarray(STATE_BYTES), this.arena);
      this.i32[words + S_BASE] = this.arena;
      slot.saved = undefined;
    }
    this.i32[words + S_LOAD] = 1;
    this.tenant = slot;
    slot.home = this;
  }

  /** Forgets the slot's stream, wherever it is: the next feed starts a new one. */
  static release(slot: StreamSlot): void {
    if (slot.home !== undefined) {
      slot.home.tenant = undefined;
      slot.home = undefined;
    }
    slot.saved = undefined;
  }
}

let module: WebAssembly.Module | undefined;
const instances: ParserInstance[] = [];
let unavailable: string | undefined;
let loaded = false;
let build: "simd" | "scalar" | undefined;

function env(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[
    name
  ];
}

function instantiate(): ParserInstance {
  const instance = new WebAssembly.Instance(module!, {});
  const made = new ParserInstance(instance.exports as unknown as ParserExports);
  instances.push(made);
  return made;
}

/**
 * Compiles the module at the first WASM parser, never at import: importing the package costs
 * nothing in runtimes that will use the TypeScript engine anyway. False when it cannot run.
 */
export function loadWasm(): boolean {
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
    const supplied = suppliedWasmModule();
    if (supplied !== undefined) [module, build] = [supplied, "simd"];
    else {
      const simd = fromBase64(PARSER_WASM_SIMD_BASE64);
      build = env("EVENTSOURCE_WASM_BUILD") !== "scalar" && WA.validate(simd) ? "simd" : "scalar";
      module = new WA.Module(build === "simd" ? simd : fromBase64(PARSER_WASM_BASE64));
    }
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
  loadWasm();
  return unavailable;
}

/** Which build of assembly/ the WASM engine runs, or `undefined` when it cannot run. */
export function wasmBuild(): "simd" | "scalar" | undefined {
  loadWasm();
  return build;
}

/** The first Instance that no dispatch is using; nested feeds are rare, so is a new one. */
export function idleInstance(): ParserInstance {
  for (const made of instances) if (!made.busy) return made;
  return instantiate();
}
