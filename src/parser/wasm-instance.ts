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

import { metaPolicyRefusesWasm } from "./csp.js";
import {
  S_BASE,
  S_COMMENTS,
  S_LOAD,
  S_MAX_EVENT_SIZE,
  S_PENDING,
  S_REF_BYTES,
  S_REF_END,
  STATE_WORDS,
} from "../../assembly/abi.js";
import { PARSER_WASM, PARSER_WASM_KEY } from "../wasm/parser.generated.js";
import { type SpanDecoder, spanDecoder, utf8String } from "./decode.js";
import { readEnv } from "./runtime.js";
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

/**
 * After a call that wrote records, the end of what `window` decodes (from the call's first
 * byte): the arena spans that records point at (lines that crossed chunks, data joined from
 * several lines) are cheaper as part of the one decode than as a native call each.
 */
function decodedEnd(i32: Int32Array, state: number, arena: number): number {
  const refEnd = i32[(state >> 2) + S_REF_END]!;
  const refBytes = i32[(state >> 2) + S_REF_BYTES]!;
  return refEnd - arena <= MERGE_SLACK + 2 * refBytes ? Math.max(refEnd, arena) : arena;
}

/**
 * Where a stream's state is: in an Instance (`home`, whose tenant it then is), or saved in
 * an array of its own (`saved`; undefined with no home: the state of a new stream).
 */
export interface StreamSlot {
  home: ParserInstance | undefined;
  saved: Uint8Array | undefined;
}

/**
 * An Instance, its memory, and whose state it holds. The binding calls `write` (and `resume`
 * while the record table fills up), reads the records in `i32` from `records`, and turns their
 * spans into strings with `window`, `text` and `nextJoined`; only this class writes the
 * memory.
 */
export class ParserInstance {
  // The exports object is exotic enough that each property read of it misses the inline
  // cache: the functions are read once.
  readonly #feed: (len: number) => number;
  readonly #resume: () => number;
  readonly #save: () => void;
  readonly #utf16: () => number;
  readonly #memory: WebAssembly.Memory;
  readonly #state: number;
  readonly #arena: number;
  readonly #wide: number;
  /** Where the record table starts, in bytes. */
  readonly records: number;
  #u8!: Uint8Array;
  /** The memory as i32 words, for reading records: valid until the next `write` or `resume`. */
  i32!: Int32Array;
  #spans!: SpanDecoder;
  #tenant: StreamSlot | undefined;
  /**
   * Its records are being read (and callbacks run): no other parser may feed it. Set by the
   * binding around a dispatch.
   */
  busy = false;
  // The bytes of the last call (n of them) that one latin1 decode covers,
  // [textStart, textEnd): the chunk in the input window and the arena spans just above it.
  #n = 0;
  #textStart = 0;
  #textEnd = 0;
  // The joined area of the last call (FLAG_JOINED), decoded at its first span (from its
  // UTF-16 at `wide`), and where the next span starts in that text.
  #joinedText: string | undefined;
  #joinedAt = 0;

  constructor(exports: ParserExports) {
    this.#feed = exports.feed;
    this.#resume = exports.resume;
    this.#save = exports.save;
    this.#utf16 = exports.utf16;
    this.#memory = exports.memory;
    this.records = exports.records.value as number;
    this.#state = exports.state.value as number;
    this.#arena = exports.arena.value as number;
    this.#wide = exports.wide.value as number;
    // (The arena follows the input window: assembly/memory.ts lays it out so, and
    // test/parser/wasm-instance.test.ts checks the module.)
    this.#views();
  }

  /**
   * Parses `bytes` (n of them, at most WINDOW_SIZE) for the stream this Instance holds: the
   * words of records written (with PAUSED when the table filled up: read them, then
   * `resume`). A trap (out of memory) leaves the stream's state here half-updated.
   */
  write(bytes: Uint8Array, n: number): number {
    this.#u8.set(bytes, this.#arena - n);
    const words = this.#feed(n);
    // Written out here, not as calls of the private methods that resume() makes: those calls,
    // on every chunk, counted 2% more instructions on market ticks at 64-byte chunks.
    if (this.#u8.length === 0) this.#views();
    this.#n = n;
    if (words !== 0) {
      this.#joinedText = undefined;
      this.#joinedAt = 0;
      this.#textStart = this.#arena - n;
      this.#textEnd = decodedEnd(this.i32, this.#state, this.#arena);
    }
    return words;
  }

  /** After a PAUSED call, once its records are read: the next records' words. */
  resume(): number {
    const words = this.#resume();
    this.#views();
    this.#joinedText = undefined;
    this.#joinedAt = 0;
    this.#textStart = this.#arena - this.#n;
    this.#textEnd = decodedEnd(this.i32, this.#state, this.#arena);
    return words;
  }

  // `memory.grow` detaches the old buffer: called after anything that may have grown it.
  #views(): void {
    // A detached view has length 0; the `memory.buffer` getter costs more than a feed of a
    // small chunk, so it is read only when the view is gone.
    if (this.#u8 !== undefined && this.#u8.length !== 0) return;
    const ab = this.#memory.buffer;
    this.#u8 = new Uint8Array(ab);
    this.i32 = new Int32Array(ab);
    this.#spans = spanDecoder(ab);
  }

  /**
   * The latin1 decode of the last call's chunk and the arena spans above it, whose ASCII
   * spans `text` slices; REC_WINDOW_EVENT offsets are offsets into it.
   */
  window(): string {
    return this.#spans.latin1Slice(this.#textStart, this.#textEnd);
  }

  /**
   * A span as a string. ASCII spans in the range of `window` are substrings of it (one
   * native call per chunk instead of one per field); other spans get a decode of their own.
   */
  text(ptr: number, len: number, ascii: number, window: string): string {
    if (ascii === 0) return utf8String(this.#u8, ptr, ptr + len);
    if (ptr >= this.#textStart && ptr + len <= this.#textEnd) {
      return window.substring(ptr - this.#textStart, ptr - this.#textStart + len);
    }
    return this.#spans.latin1Slice(ptr, ptr + len);
  }

  /**
   * The next span of the joined area: one decode per call for all the short non-ASCII spans,
   * by assembly/ into UTF-16 (`utf16`), which becomes a string with a copy.
   */
  nextJoined(): string {
    const text = (this.#joinedText ??= this.#spans.ucs2Slice(this.#wide, this.#utf16()));
    const start = this.#joinedAt;
    const end = text.indexOf("\r", start);
    this.#joinedAt = end + 1;
    return text.substring(start, end);
  }

  #ensure(limit: number): void {
    const have = this.#memory.buffer.byteLength;
    if (limit > have) {
      this.#memory.grow(Math.ceil((limit - have) / 65536));
      this.#views();
    }
  }

  // Moves the tenant's state out of this Instance into an array of its own.
  #evict(): void {
    const slot = this.#tenant;
    if (slot === undefined) return;
    this.#save();
    const words = this.#state >> 2;
    const pending = this.i32[words + S_PENDING]!;
    const from = this.i32[words + S_BASE]! || this.#arena;
    const saved = new Uint8Array(STATE_BYTES + pending);
    saved.set(this.#u8.subarray(this.#state, this.#state + STATE_BYTES));
    if (pending > 0) saved.set(this.#u8.subarray(from, from + pending), STATE_BYTES);
    slot.saved = saved;
    slot.home = undefined;
    this.#tenant = undefined;
  }

  /** Makes `slot`'s stream the one this Instance holds, evicting whichever held it. */
  admit(slot: StreamSlot, maxEventSize: number, comments: boolean): void {
    if (slot.home !== undefined) slot.home.#evict();
    this.#evict();
    const words = this.#state >> 2;
    const saved = slot.saved;
    if (saved === undefined) {
      this.#u8.fill(0, this.#state, this.#state + STATE_BYTES);
      // 0xFFFFFFFF means no bound: wasm32 memory cannot hold a pending event that large.
      this.i32[words + S_MAX_EVENT_SIZE] = maxEventSize < 0xffffffff ? maxEventSize : -1;
      this.i32[words + S_COMMENTS] = comments ? 1 : 0;
    } else {
      // May throw (no memory left): the state is then still in `saved`.
      this.#ensure(this.#arena + saved.length - STATE_BYTES);
      this.#u8.set(saved.subarray(0, STATE_BYTES), this.#state);
      this.#u8.set(saved.subarray(STATE_BYTES), this.#arena);
      this.i32[words + S_BASE] = this.#arena;
      slot.saved = undefined;
    }
    this.i32[words + S_LOAD] = 1;
    this.#tenant = slot;
    slot.home = this;
  }

  /** Forgets the slot's stream, wherever it is: the next feed starts a new one. */
  static release(slot: StreamSlot): void {
    if (slot.home !== undefined) {
      slot.home.#tenant = undefined;
      slot.home = undefined;
    }
    slot.saved = undefined;
  }
}

let module: WebAssembly.Module | undefined;
const instances: ParserInstance[] = [];
let unavailable: string | undefined;
let loaded = false;

function instantiate(): ParserInstance {
  const instance = new WebAssembly.Instance(module!, {});
  const made = new ParserInstance(instance.exports as unknown as ParserExports);
  instances.push(made);
  return made;
}

/**
 * The embedded .wasm (scripts/build-wasm.mjs stores each byte b as the character
 * (PARSER_WASM_KEY - b) & 255; a Uint8Array store takes the difference modulo 256).
 */
export function parserWasmBytes(): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(PARSER_WASM.length);
  for (let i = 0; i < bytes.length; i++) bytes[i] = PARSER_WASM_KEY - PARSER_WASM.charCodeAt(i);
  return bytes;
}

// Why the module cannot run here, or undefined once `module` is set.
function load(): string | undefined {
  if (readEnv?.("EVENTSOURCE_NO_WASM") === "1") return "WebAssembly is disabled by EVENTSOURCE_NO_WASM=1";
  const WA = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
  if (typeof WA?.Module !== "function" || typeof WA.Instance !== "function") {
    return "WebAssembly is not available in this runtime";
  }
  // A module compiled by the platform (workerd imports dist/parser.wasm: it refuses to compile
  // bytes) is used as it is.
  const supplied = suppliedWasmModule();
  if (supplied !== undefined) module = supplied;
  else {
    // One build ships, the SIMD one (every engine since 2021-2023 runs it): a runtime without
    // SIMD gets the TypeScript engine rather than a second, scalar module in every bundle.
    // `validate` answers without compiling anything.
    const bytes = parserWasmBytes();
    if (!WA.validate(bytes)) return "WebAssembly SIMD is not available in this runtime";
    const refused = metaPolicyRefusesWasm();
    if (refused !== undefined) return refused;
    module = new WA.Module(bytes);
  }
  instantiate();
  return undefined;
}

/**
 * Compiles the module at the first WASM parser, never at import: importing the package costs
 * nothing in runtimes that will use the TypeScript engine anyway. False when it cannot run.
 * Whatever throws, the outcome is settled once, with its reason: a later parser gets the same
 * answer, not a half-made module.
 */
export function loadWasm(): boolean {
  if (!loaded) {
    try {
      unavailable = load();
    } catch (error) {
      module = undefined;
      instances.length = 0;
      unavailable = `WebAssembly could not load the parser: ${(error as Error)?.message ?? String(error)}`;
    }
    loaded = true;
  }
  return unavailable === undefined;
}

/** Why the WASM engine cannot run here, or `undefined` when it can. */
export function wasmUnavailableReason(): string | undefined {
  loadWasm();
  return unavailable;
}

/** Which build of assembly/ the WASM engine runs, or `undefined` when it cannot run. */
export function wasmBuild(): "simd" | undefined {
  return loadWasm() ? "simd" : undefined;
}

/** The first Instance that no dispatch is using; nested feeds are rare, so is a new one. */
export function idleInstance(): ParserInstance {
  for (const made of instances) if (!made.busy) return made;
  return instantiate();
}
