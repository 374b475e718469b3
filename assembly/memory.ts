// The memory layout of docs/PARSER.md's WASM engine (see README.md, "Memory") and the byte
// helpers every part uses: growing the memory, short copies, short compares.

import { WINDOW_SIZE, RECORD_WORDS, JOIN_SIZE, TYPE_KEEP, STATE_WORDS } from "./abi";

export const LF: u32 = 0x0a;
export const CR: u32 = 0x0d;
export const COLON: u32 = 0x3a;
export const SPACE: u32 = 0x20;

export const records: usize = memory.data(RECORD_WORDS * 4, 16);
export const state: usize = memory.data(STATE_WORDS * 4, 16);
// Copies of the short non-ASCII spans of a call, each followed by a CR (see FLAG_JOINED).
export const joined: usize = memory.data(JOIN_SIZE, 16);
// The joined area as UTF-16 (see `utf16`): at most two bytes for each byte of it.
export const wide: usize = memory.data(JOIN_SIZE * 2, 16);
// The type of the stream's previous event (when at most TYPE_KEEP bytes), so that JS can
// reuse its string (FLAG_SAME_TYPE) across calls: at small chunks a call has one event at
// most, and a type decoded per event was a string made per event.
export const prevType: usize = memory.data(TYPE_KEEP, 16);
// SIMD build: the offsets (from `input`) of every CR and LF of the chunk, found in one pass
// (and room for the three garbage entries `index` may write past the last).
export const ends: usize = memory.data(WINDOW_SIZE * 2 + 16, 16);
// Last, so that the arena follows it: a chunk of n bytes is copied to arena - n.
export const input: usize = memory.data(WINDOW_SIZE, 16);
export const arena: usize = (__heap_base + 15) & ~15;

/** Grows memory so that bytes below `limit` exist, with slack so growth is amortized. */
export function ensure(limit: usize): void {
  const pages = <usize>memory.size();
  const have = pages << 16;
  if (limit <= have) return;
  let want = (limit - have + 0xffff) >> 16;
  const slack = pages >> 2;
  if (want < slack) want = slack;
  if (memory.grow(<i32>want) < 0) unreachable();
}

/**
 * memory.copy for the short copies of the hot path (a line carried over from the previous
 * chunk, a short unfinished line, the pending bytes moved home), where the engine's
 * out-of-line memmove costs more than the copy. Every copy in this file is either disjoint
 * or moves bytes down (dst <= src), which a forward copy handles. The last word of a span is
 * read before anything is stored and written last, overlapping the words before it: no
 * byte loop for the tail (ids and types are a few bytes, and a byte loop was most of the
 * cost of packing the pending bytes at 64-byte chunks).
 *
 * Inlined only where a call per chunk costs: in `feed` and `finish`, which run at every
 * call, and `finish` makes up to seven copies. Each inlined copy is about 270 bytes of
 * code; inlined at all 16 places the module was 16.7 kB, with calls elsewhere 12.8 kB
 * (4.8 kB gzipped, from 5.8). Calls everywhere (10.2 kB) measured 3-4% more instructions
 * per pass at 64-byte chunks (bench/callgrind.mjs, short and market ticks); inlined in
 * `feed` and `finish`, within 0.5% of inlined everywhere.
 */
@inline export function copyHere(dst: usize, src: usize, n: usize): void {
  if (n <= 16) {
    if (n >= 8) {
      const a = load<u64>(src);
      const b = load<u64>(src + n - 8);
      store<u64>(dst, a);
      store<u64>(dst + n - 8, b);
    } else if (n >= 4) {
      const a = load<u32>(src);
      const b = load<u32>(src + n - 4);
      store<u32>(dst, a);
      store<u32>(dst + n - 4, b);
    } else if (n > 0) {
      const a = load<u8>(src);
      const b = load<u8>(src + (n >> 1));
      const c = load<u8>(src + n - 1);
      store<u8>(dst, a);
      store<u8>(dst + (n >> 1), b);
      store<u8>(dst + n - 1, c);
    }
    return;
  }
  if (n > 256) {
    memory.copy(dst, src, n);
    return;
  }
  let i: usize = 0;
  const t = v128.load(src + n - 16);
  for (; i + 16 < n; i += 16) v128.store(dst + i, v128.load(src + i));
  v128.store(dst + n - 16, t);
}

/** `copyHere` as a call: for the copies that are not made at every chunk. */
export function copy(dst: usize, src: usize, n: usize): void {
  copyHere(dst, src, n);
}

// Event types are short: a plain loop beats memory.compare's setup.
@inline export function sameBytes(a: usize, b: usize, n: u32): bool {
  let i: usize = 0;
  for (; i + 4 <= <usize>n; i += 4) {
    if (load<u32>(a + i) != load<u32>(b + i)) return false;
  }
  for (; i < <usize>n; i++) {
    if (load<u8>(a + i) != load<u8>(b + i)) return false;
  }
  return true;
}


/** Whether [p, p + n) holds a 0x00 byte: four bytes at a time, as ids are a few bytes. */
@inline export function hasNul(p: usize, n: u32): bool {
  let i: usize = 0;
  for (; i + 4 <= <usize>n; i += 4) {
    const x = load<u32>(p + i);
    // x has a zero byte iff (x - 0x01010101) & ~x has a high bit set.
    if (((x - 0x01010101) & ~x & 0x80808080) != 0) return true;
  }
  for (; i < <usize>n; i++) {
    if (load<u8>(p + i) == 0) return true;
  }
  return false;
}
