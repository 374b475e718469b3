// Lines for the TypeScript engine (src/parser/js.ts): finding their ends, in the bytes of a
// small chunk or in the latin1 string of a large ASCII one (whose offsets are the bytes'), and
// the field a line names.

import { FIELD_DATA, FIELD_EVENT, FIELD_ID, FIELD_NONE, FIELD_RETRY } from "../../assembly/abi.js";

const LF = 0x0a;
const CR = 0x0d;

// Below this size, finding line ends with a loop over the bytes beats making a string to
// search (measured at 64-byte chunks: the string was a fifth of the time).
export const SMALL_CHUNK = 256;

// survey()'s results: module state rather than an object, so that a feed allocates nothing.
export let surveyFirst = 0;
export let surveyLast = -1;
export let surveyAscii = true;

// One pass over bytes[from, n): the first and last line ends, and whether all are ASCII
// (for the whole span only: a split by line costs half as much again, measured, and calling
// ASCII lines non-ASCII only sends them down the exact UTF-8 path).
export function survey(bytes: Uint8Array, from: number): void {
  const n = bytes.length;
  let first = n;
  let last = -1;
  let all = 0;
  for (let i = from; i < n; i++) {
    const c = bytes[i]!;
    all |= c;
    if (c < 0x0e && (c === LF || c === CR)) {
      if (last < 0) first = i;
      last = i;
    }
  }
  surveyFirst = first;
  surveyLast = last;
  surveyAscii = all < 0x80;
}

export function firstLineEnd(bytes: Uint8Array, from: number): number {
  for (let i = from; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === LF || c === CR) return i;
  }
  return bytes.length;
}

export function lastLineEnd(bytes: Uint8Array, downTo: number): number {
  for (let i = bytes.length - 1; i >= downTo; i--) {
    const c = bytes[i];
    if (c === LF || c === CR) return i;
  }
  return -1;
}

export function lineEnd(str: string, from: number): number {
  const lf = indexOrEnd(str, "\n", from);
  const cr = indexOrEnd(str, "\r", from);
  return lf < cr ? lf : cr;
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
    if (len >= 5 && t.startsWith("vent", s + 1)) return FIELD_EVENT;
  } else if (c0 === 0x72 /* r */) {
    if (len >= 5 && t.startsWith("etry", s + 1)) return FIELD_RETRY;
  }
  return FIELD_NONE;
}
