// Lines for the TypeScript engine (src/parser/js.ts): the BOM before the first, finding their
// ends (in the bytes of a small chunk or in the latin1 string of a large ASCII one, whose
// offsets are the bytes'), and the field a line names.

import { FIELD_DATA, FIELD_EVENT, FIELD_ID, FIELD_NONE, FIELD_RETRY } from "../../assembly/abi.js";

const COLON = 0x3a;

// Below this size, finding line ends with a loop over the bytes beats making a string to
// search (at 64-byte chunks the string was a fifth of the time, measured at ee8c77a).
export const SMALL_CHUNK = 256;

// survey()'s results: module state rather than an object, so that a feed allocates nothing.
export let surveyFirst = 0;
export let surveyLast = -1;
export let surveyAscii = true;

// One pass over bytes[from, n) of a small chunk (at most SMALL_CHUNK bytes): the first and
// last line ends, and whether all are ASCII (for the whole span only: a split by line costs
// half as much again, measured at 30fd7c3, and calling ASCII lines non-ASCII only sends them down the
// exact UTF-8 path). Read four bytes at a time: a typed array read costs a map and a bounds
// check, so a loop over bytes spent about 27 instructions on each (a fifth of all of
// non-ASCII text at 64-byte chunks, counted at 30fd7c3). A word with a byte below 0x0e gets the exact
// mask of its LFs and CRs, whose places clz32 gives.
export function survey(bytes: Uint8Array, from: number): void {
  const n = bytes.length;
  // The chunk's words (SCRATCH.set throws a RangeError for a chunk over SMALL_CHUNK bytes), with zeros (neither a line end nor above 0x7f) in place of the bytes
  // before `from` and after the last: whole words then cover exactly bytes[from, n).
  SCRATCH.set(bytes);
  const w0 = from >>> 2;
  const w1 = (n + 3) >>> 2;
  for (let i = w0 * 4; i < from; i++) SCRATCH[i] = 0;
  for (let i = n; i < w1 * 4; i++) SCRATCH[i] = 0;
  let first = n;
  let last = -1;
  let all = 0;
  for (let k = w0; k < w1; k++) {
    const w = SCRATCH_WORDS[k]!;
    all |= w;
    if (hasControl(w)) {
      const m = lineEndMask(w);
      if (m !== 0) {
        if (last < 0) first = k * 4 + (LITTLE_ENDIAN ? lowByte(m) : 3 - highByte(m));
        last = k * 4 + (LITTLE_ENDIAN ? highByte(m) : 3 - lowByte(m));
      }
    }
  }
  surveyFirst = first;
  surveyLast = last;
  surveyAscii = (all & 0x80808080) === 0;
}

// survey()'s copy of the chunk: the copy is one call, where a view of words on the chunk's
// own buffer took two (its `buffer` getter, a C++ builtin, then the view's making), and the
// reads of one array type stay monomorphic, whichever kind of Uint8Array the chunks are.
// Counted at 64-byte chunks, at 5581f58: non-ASCII text 3.7% fewer instructions than with the
// view.
const SCRATCH_WORDS = new Int32Array(SMALL_CHUNK / 4);
const SCRATCH = new Uint8Array(SCRATCH_WORDS.buffer);

// Which byte of a word comes first in memory.
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * The first line end in bytes[from, n), or n. (Byte by byte: the TS engine's hot paths find
 * first line ends otherwise, by survey() or in a string.)
 */
export function firstLineEnd(bytes: Uint8Array, from: number): number {
  let i = from;
  while (i < bytes.length && bytes[i] !== 0x0a && bytes[i] !== 0x0d) i++;
  return i;
}

/**
 * The last line end in bytes[downTo, n), or -1. (Byte by byte: it crosses only the unfinished
 * line of a large non-ASCII chunk; an ASCII one is searched as a string.)
 */
export function lastLineEnd(bytes: Uint8Array, downTo: number): number {
  let i = bytes.length - 1;
  while (i >= downTo && bytes[i] !== 0x0a && bytes[i] !== 0x0d) i--;
  return i < downTo ? -1 : i;
}

// Whether a byte of w is below 0x0e, as LF and CR are (and few others in text): the test for
// a byte below n, exact as a yes or no (a borrow makes false positives only beside a true
// one), and cheaper than lineEndMask, which it spares most words.
function hasControl(w: number): boolean {
  return ((w - 0x0e0e0e0e) & ~w & 0x80808080) !== 0;
}

// The top bit of each byte of the result is set where w has an LF or CR, and no other bit: a
// byte of nz is over 0x7f where that byte of x (or y) is not zero, with no carry into the next
// byte.
function lineEndMask(w: number): number {
  const x = w ^ 0x0a0a0a0a;
  const y = w ^ 0x0d0d0d0d;
  const nz = (((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x) & (((y & 0x7f7f7f7f) + 0x7f7f7f7f) | y);
  return ~(nz | 0x7f7f7f7f);
}

// The byte of the lowest (highest) set bit of m, counted from the least significant.
function lowByte(m: number): number {
  return (31 - Math.clz32(m & -m)) >> 3;
}

function highByte(m: number): number {
  return (31 - Math.clz32(m)) >> 3;
}

/** The first CR or LF in t from i (t has one there). */
export function lineEnd(t: string, i: number): number {
  for (;; i++) {
    const c = t.charCodeAt(i);
    if (c === 0x0a || c === 0x0d) return i;
  }
}

export function indexOrEnd(str: string, ch: string, from: number): number {
  const i = str.indexOf(ch, from);
  return i === -1 ? str.length : i;
}

/** The length of each field's name, by its code. */
export const FIELD_NAME_LENGTH: readonly number[] = [0, 4, 5, 5, 2];

/**
 * The field that the line t[s, s + len) names, if it starts with a known name: matched at
 * the start of the line, so a line without a colon is never searched to its end for one.
 * The caller checks what follows the name.
 */
export function fieldAt(t: string, s: number, len: number): number {
  const c0 = t.charCodeAt(s);
  if (c0 === 0x64 /* d */) {
    if (len >= 4 && t.charCodeAt(s + 1) === 0x61 && t.charCodeAt(s + 2) === 0x74 && t.charCodeAt(s + 3) === 0x61) {
      return FIELD_DATA;
    }
  } else if (c0 === 0x69 /* i */) {
    if (len >= 2 && t.charCodeAt(s + 1) === 0x64) return FIELD_ID;
  } else if (c0 === 0x65 /* e */) {
    // Compared char by char: startsWith is a builtin call that the JIT does not inline (5% of
    // the time on short lines, measured at ec64461).
    if (
      len >= 5 &&
      t.charCodeAt(s + 1) === 0x76 &&
      t.charCodeAt(s + 2) === 0x65 &&
      t.charCodeAt(s + 3) === 0x6e &&
      t.charCodeAt(s + 4) === 0x74
    ) {
      return FIELD_EVENT;
    }
  } else if (c0 === 0x72 /* r */) {
    if (
      len >= 5 &&
      t.charCodeAt(s + 1) === 0x65 &&
      t.charCodeAt(s + 2) === 0x74 &&
      t.charCodeAt(s + 3) === 0x72 &&
      t.charCodeAt(s + 4) === 0x79
    ) {
      return FIELD_RETRY;
    }
  }
  return FIELD_NONE;
}

/** Whether the line at s starts with `data:`. */
export function isData(t: string, s: number): boolean {
  return (
    t.charCodeAt(s) === 0x64 &&
    t.charCodeAt(s + 1) === 0x61 &&
    t.charCodeAt(s + 2) === 0x74 &&
    t.charCodeAt(s + 3) === 0x61 &&
    t.charCodeAt(s + 4) === COLON
  );
}

/** Whether the line at s starts with `event:`. */
export function isEvent(t: string, s: number): boolean {
  return (
    t.charCodeAt(s) === 0x65 &&
    t.charCodeAt(s + 1) === 0x76 &&
    t.charCodeAt(s + 2) === 0x65 &&
    t.charCodeAt(s + 3) === 0x6e &&
    t.charCodeAt(s + 4) === 0x74 &&
    t.charCodeAt(s + 5) === COLON
  );
}

/** Whether the line at s starts with `id:`. */
export function isId(t: string, s: number): boolean {
  return t.charCodeAt(s) === 0x69 && t.charCodeAt(s + 1) === 0x64 && t.charCodeAt(s + 2) === COLON;
}

/** Whether b[s, s + p.length) holds the chars of `p` (for ASCII text, as bytes). */
export function bytesAt(b: Uint8Array, s: number, p: string): boolean {
  for (let i = 0; i < p.length; i++) if (b[s + i] !== p.charCodeAt(i)) return false;
  return true;
}

/** Whether t[v, e) equals `s` (short strings: char by char, which the JIT inlines). */
export function sameChars(t: string, v: number, e: number, s: string): boolean {
  if (e - v !== s.length) return false;
  if (s.length > 32) return t.startsWith(s, v);
  for (let i = 0; i < s.length; i++) if (t.charCodeAt(v + i) !== s.charCodeAt(i)) return false;
  return true;
}

/** Whether b[v, e) holds a 0 byte. */
export function hasNullByte(b: Uint8Array, v: number, e: number): boolean {
  for (let i = v; i < e; i++) if (b[i] === 0) return true;
  return false;
}

/** Whether t[v, e) holds a U+0000 NULL. */
export function hasNull(t: string, v: number, e: number): boolean {
  for (let i = v; i < e; i++) if (t.charCodeAt(i) === 0) return true;
  return false;
}

/** Whether t[v, e) is one or more ASCII digits (a `retry` value that counts). */
export function allDigits(t: string, v: number, e: number): boolean {
  if (v === e) return false;
  for (let i = v; i < e; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

const BOM = [0xef, 0xbb, 0xbf] as const;
const EMPTY = new Uint8Array(0);

// stripBom()'s other result: the BOM bytes matched so far (3 once past the stream start).
export let bomMatched = 0;

/**
 * "One leading U+FEFF BYTE ORDER MARK character must be ignored if any are present." Its bytes
 * may arrive one chunk at a time, so the bytes that might be a BOM are held back: `matched` of
 * them so far. Returns the bytes that are content (the held-back ones too, once they turn out
 * not to be a BOM).
 */
export function stripBom(bytes: Uint8Array, matched: number): Uint8Array {
  let i = 0;
  while (i < bytes.length && matched < 3) {
    if (bytes[i] !== BOM[matched]) {
      bomMatched = 3;
      if (matched === 0) return i === 0 ? bytes : bytes.subarray(i);
      // Not a BOM: the held-back bytes are content after all.
      const out = new Uint8Array(matched + bytes.length - i);
      out.set(BOM.slice(0, matched));
      out.set(bytes.subarray(i), matched);
      return out;
    }
    matched++;
    i++;
  }
  bomMatched = matched;
  return matched === 3 ? bytes.subarray(i) : EMPTY;
}
