// The byte state machine of docs/PARSER.md. One instance serves every parser in the
// process: a parser's state lives in globals while that parser is fed, and JS swaps it for
// another parser's through the state block (`save` out, S_LOAD in).
//
// Nothing here allocates: values are spans of the input window or of the arena, and
// the arena only ever holds the pending event (data, type) and an unfinished line.

import {
  WINDOW_SIZE, RECORD_WORDS, MAX_WORDS_PER_LINE, PAUSED,
  FIELD_NONE, FIELD_DATA, FIELD_EVENT, FIELD_RETRY, FIELD_ID,
  REC_EVENT, REC_COMMIT, REC_RETRY, REC_COMMENT, REC_ERROR, REC_WINDOW_EVENT,
  FLAG_ASCII, FLAG_DATA_ASCII, FLAG_COMMIT, FLAG_SAME_TYPE, FLAG_ID, FLAG_ID_ASCII,
  FLAG_JOINED, FLAG_DATA_JOINED, FLAG_ID_JOINED, JOIN_SIZE, JOIN_MAX, TYPE_KEEP,
  S_BOM_BYTES, S_AFTER_CR, S_LINE_LEN, S_LINE_HIGH, S_SKIP_LINE, S_DATA_LEN, S_DATA_HIGH,
  S_TYPE_LEN, S_TYPE_HIGH, S_DISCARDING, S_ID_DIRTY, S_MAX_EVENT_SIZE,
  S_COMMENTS, S_PENDING, S_BASE, S_ID_HELD, S_ID_HIGH, S_REF_END, S_REF_BYTES, S_LOAD, STATE_WORDS,
} from "./abi";

const LF: u32 = 0x0a;
const CR: u32 = 0x0d;
const COLON: u32 = 0x3a;
const SPACE: u32 = 0x20;

export const records: usize = memory.data(RECORD_WORDS * 4, 16);
export const state: usize = memory.data(STATE_WORDS * 4, 16);
// Copies of the short non-ASCII spans of a call, each followed by a CR (see FLAG_JOINED).
export const joined: usize = memory.data(JOIN_SIZE, 16);
// The joined area as UTF-16 (see `utf16`): at most two bytes for each byte of it.
export const wide: usize = memory.data(JOIN_SIZE * 2, 16);
// The type of the stream's previous event (when at most TYPE_KEEP bytes), so that JS can
// reuse its string (FLAG_SAME_TYPE) across calls: at small chunks a call has one event at
// most, and a type decoded per event was a string made per event.
const prevType: usize = memory.data(TYPE_KEEP, 16);
// SIMD build: the offsets (from `input`) of every CR and LF of the chunk, found in one pass
// (and room for the three garbage entries `index` may write past the last).
const ends: usize = memory.data(WINDOW_SIZE * 2 + 16, 16);
// Last, so that the arena follows it: a chunk of n bytes is copied to arena - n.
export const input: usize = memory.data(WINDOW_SIZE, 16);
export const arena: usize = (__heap_base + 15) & ~15;

// The stream's state: loaded from the state block by `feed` when S_LOAD says so (the
// pointers and `dataOwned` are derived there), stored there by `save` (see abi.ts).
let bomBytes: u32 = 0;
let afterCR: u32 = 0;
let lineLen: u32 = 0;
let lineHigh: u32 = 0;
let skipLine: u32 = 0;
let dataPtr: usize = 0;
let dataLen: u32 = 0;
let dataHigh: u32 = 0;
let dataOwned: u32 = 0;
let typePtr: usize = 0;
let typeLen: u32 = 0;
let typeHigh: u32 = 0;
let discarding: u32 = 0;
let idDirty: u32 = 0;
let maxEventSize: u32 = 0;
let comments: u32 = 0;

// Per call.
let end: usize = 0; // end of the bytes in the input window: `arena`
let callStart: usize = 0; // the call's first byte in the input window (REC_WINDOW_EVENT offsets)
let cur: usize = 0; // next byte to scan
let top: usize = 0; // arena bytes below this may be referenced by records: never overwrite
let rc: i32 = 0; // words written to the record table
let scanHigh: u32 = 0; // OR of the bytes passed over by the last scan
let keepLine = false; // processLine left a span pointing into the line it was given
let refEnd: usize = 0; // end of the highest arena span a record of this call points at
let refBytes: u32 = 0; // bytes of the arena spans records of this call point at
let base: usize = 0; // where finish() left the pending bytes
let endsEnd: usize = 0; // the end of the entries in `ends`
let nextEnd: usize = 0; // the next entry of `ends` to look at
let windowAscii = false; // no byte of the chunk (after `cur` at the start) is >= 0x80
let joinEnd: usize = 0; // end of the joined area's bytes in this call (or since `resume`)
let idHeld = false; // an id field that no record has carried yet (stream state):
let idPtr: usize = 0;
let idLen: u32 = 0;
let idHigh: u32 = 0;
let prevTypeLen: u32 = 0xffffffff; // bytes at `prevType`; 0xffffffff: none

@inline function getState(i: i32): u32 {
  return load<u32>(state + (<usize>i << 2));
}
@inline function setState(i: i32, v: u32): void {
  store<u32>(state + (<usize>i << 2), v);
}

function loadState(): void {
  base = getState(S_BASE);
  bomBytes = getState(S_BOM_BYTES);
  afterCR = getState(S_AFTER_CR);
  lineLen = getState(S_LINE_LEN);
  lineHigh = getState(S_LINE_HIGH);
  skipLine = getState(S_SKIP_LINE);
  dataLen = getState(S_DATA_LEN);
  dataHigh = getState(S_DATA_HIGH);
  typeLen = getState(S_TYPE_LEN);
  typeHigh = getState(S_TYPE_HIGH);
  discarding = getState(S_DISCARDING);
  idDirty = getState(S_ID_DIRTY);
  maxEventSize = getState(S_MAX_EVENT_SIZE);
  comments = getState(S_COMMENTS);
  // Not in the state block: a stream moved in has to send its next type again.
  prevTypeLen = 0xffffffff;
  const held = getState(S_ID_HELD);
  idHeld = held != 0;
  idLen = held - 1;
  idHigh = getState(S_ID_HIGH);
}

/** Writes the stream's state to the state block, for JS to swap it out. */
export function save(): void {
  // Written by JS and not fed since: the block already holds it, the globals do not.
  if (getState(S_LOAD)) return;
  setState(S_BOM_BYTES, bomBytes);
  setState(S_AFTER_CR, afterCR);
  setState(S_LINE_LEN, lineLen);
  setState(S_LINE_HIGH, lineHigh);
  setState(S_SKIP_LINE, skipLine);
  setState(S_DATA_LEN, dataLen);
  setState(S_DATA_HIGH, dataHigh);
  setState(S_TYPE_LEN, typeLen);
  setState(S_TYPE_HIGH, typeHigh);
  setState(S_DISCARDING, discarding);
  setState(S_ID_DIRTY, idDirty);
  setState(S_ID_HELD, idHeld ? idLen + 1 : 0);
  setState(S_ID_HIGH, idHigh);
  setState(S_PENDING, typeLen + dataLen + heldIdLen() + lineLen);
  setState(S_BASE, <u32>base);
}

/** Bytes of the held id in the pending bytes. */
@inline function heldIdLen(): u32 {
  return idHeld ? idLen : 0;
}

/** Grows memory so that bytes below `limit` exist, with slack so growth is amortized. */
function ensure(limit: usize): void {
  const pages = <usize>memory.size();
  const have = pages << 16;
  if (limit <= have) return;
  let want = (limit - have + 0xffff) >> 16;
  const slack = pages >> 2;
  if (want < slack) want = slack;
  if (memory.grow(<i32>want) < 0) unreachable();
}

@inline function emit1(head: u32): void {
  store<u32>(records + (<usize>rc << 2), head);
  rc += 1;
}

@inline function refer(ptr: usize, len: u32): void {
  if (ptr >= arena) {
    if (ptr + len > refEnd) refEnd = ptr + len;
    refBytes += len;
  }
}

/** Copies a short non-ASCII span to the joined area: `flag` if done, else 0. */
@inline function join(high: u32, ptr: usize, len: u32, flag: u32): u32 {
  if (high == 0 || len > <u32>JOIN_MAX || joinEnd + len + 1 > joined + <usize>JOIN_SIZE) return 0;
  copy(joinEnd, ptr, len);
  store<u8>(joinEnd + len, <u8>CR);
  joinEnd += len + 1;
  return flag;
}

@inline function emit3(head: u32, ptr: usize, len: u32): void {
  refer(ptr, len);
  const r = records + (<usize>rc << 2);
  store<u32>(r, head);
  store<u32>(r, <u32>ptr, 4);
  store<u32>(r, len, 8);
  rc += 3;
}

@inline function asciiFlag(high: u32, flag: u32): u32 {
  return high != 0 ? 0 : flag;
}

/**
 * Index of the first CR or LF in [p, limit), or `limit`; ORs the bytes before it into
 * `scanHigh` so that callers know whether the line is all ASCII.
 */
function scan(p: usize, limit: usize): usize {
  let acc: u32 = 0;
  if (ASC_FEATURE_SIMD) {
    const vlf = i8x16.splat(<i8>LF);
    const vcr = i8x16.splat(<i8>CR);
    while (p + 16 <= limit) {
      const v = v128.load(p);
      const m = i8x16.bitmask(v128.or(i8x16.eq(v, vlf), i8x16.eq(v, vcr)));
      const h = i8x16.bitmask(v);
      if (m != 0) {
        const k = ctz(m);
        if ((h & ((1 << k) - 1)) != 0) acc = 0x80;
        scanHigh = acc;
        return p + k;
      }
      if (h != 0) acc = 0x80;
      p += 16;
    }
  } else {
    // Eight bytes at a time: a byte is CR or LF iff (x ^ CR) or (x ^ LF) has a zero byte.
    while (p + 8 <= limit) {
      const x = load<u64>(p);
      const a = x ^ 0x0a0a0a0a0a0a0a0a;
      const b = x ^ 0x0d0d0d0d0d0d0d0d;
      const za = (a - 0x0101010101010101) & ~a;
      const zb = (b - 0x0101010101010101) & ~b;
      if (((za | zb) & 0x8080808080808080) != 0) break;
      acc |= <u32>((x | (x >> 32)) & 0x80808080);
      p += 8;
    }
  }
  while (p < limit) {
    const c = <u32>load<u8>(p);
    if (c <= CR && (c == LF || c == CR)) break;
    acc |= c;
    p++;
  }
  scanHigh = acc & 0x80808080;
  return p;
}

/** The byte after the line end at `e`; a CR that ends the window may pair with an LF later. */
@inline function afterLineEnd(e: usize): usize {
  if (<u32>load<u8>(e) == CR) {
    if (e + 1 < end) return <u32>load<u8>(e + 1) == LF ? e + 2 : e + 1;
    afterCR = 1;
  }
  return e + 1;
}

@inline function inWindow(p: usize): bool {
  return p - input < <usize>WINDOW_SIZE;
}

/**
 * memory.copy for the short copies of the hot path (a line carried over from the previous
 * chunk, a short unfinished line, the pending bytes moved home), where the engine's
 * out-of-line memmove costs more than the copy. Every copy in this file is either disjoint
 * or moves bytes down (dst <= src), which a forward copy handles. The last word of a span is
 * read before anything is stored and written last, overlapping the words before it: no
 * byte loop for the tail (ids and types are a few bytes, and a byte loop was most of the
 * cost of packing the pending bytes at 64-byte chunks).
 */
@inline function copy(dst: usize, src: usize, n: usize): void {
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
  if (ASC_FEATURE_SIMD) {
    const t = v128.load(src + n - 16);
    for (; i + 16 < n; i += 16) v128.store(dst + i, v128.load(src + i));
    v128.store(dst + n - 16, t);
  } else {
    const t = load<u64>(src + n - 8);
    for (; i + 8 < n; i += 8) store<u64>(dst + i, load<u64>(src + i));
    store<u64>(dst + n - 8, t);
  }
}

// Event types are short: a plain loop beats memory.compare's setup.
@inline function sameBytes(a: usize, b: usize, n: u32): bool {
  let i: usize = 0;
  for (; i + 4 <= <usize>n; i += 4) {
    if (load<u32>(a + i) != load<u32>(b + i)) return false;
  }
  for (; i < <usize>n; i++) {
    if (load<u8>(a + i) != load<u8>(b + i)) return false;
  }
  return true;
}

/** FLAG_SAME_TYPE if the type [p, p + len) is the previous event's; else it is remembered. */
@inline function sameType(p: usize, len: u32): u32 {
  if (len == prevTypeLen && sameBytes(p, prevType, len)) return FLAG_SAME_TYPE;
  if (len <= <u32>TYPE_KEEP) {
    copy(prevType, p, len);
    prevTypeLen = len;
  } else {
    prevTypeLen = 0xffffffff;
  }
  return 0;
}

/** Whether [p, p + n) holds a 0x00 byte: four bytes at a time, as ids are a few bytes. */
@inline function hasNul(p: usize, n: u32): bool {
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

function tooLarge(): void {
  emit1(REC_ERROR);
  dataLen = 0;
  dataOwned = 0;
  typeLen = 0;
  discarding = 1;
}

/** "data": append the value and an LF to the data buffer, in the arena. */
function appendData(vp: usize, vl: u32, high: u32): void {
  if (dataLen == 0) {
    if (vp >= top) {
      // The unfinished line carried over from the previous chunk, at the top of the arena
      // (nothing else lies above `top`): its value is the data buffer where it is, with no
      // move down over its "data: ".
      ensure(vp + vl + 1);
      store<u8>(vp + vl, <u8>LF);
      dataPtr = vp;
      dataOwned = 1;
      dataLen = vl + 1;
      dataHigh = high;
      top = vp + vl + 1;
      return;
    }
    dataPtr = top;
    dataOwned = 1;
    dataHigh = 0;
  } else if (!dataOwned || dataPtr + dataLen != top) {
    // Not growable where it is: move it to the top of the arena, with all its LFs.
    const kept = dataOwned ? dataLen : dataLen - 1;
    ensure(top + dataLen + vl + 1);
    copy(top, dataPtr, kept);
    if (!dataOwned) store<u8>(top + kept, <u8>LF);
    dataPtr = top;
    dataOwned = 1;
  }
  const at = dataPtr + dataLen;
  ensure(at + vl + 1);
  // May overlap when `vp` is the unfinished line just above the data: a downward move.
  copy(at, vp, vl);
  store<u8>(at + vl, <u8>LF);
  dataLen += vl + 1;
  dataHigh |= high;
  top = at + vl + 1;
}

@inline function processLine(p: usize, len: u32, high: u32): void {
  // The line that breaks the bound is dropped with the event; later lines of a discarded
  // event are dropped only when they alone are over it (docs/PARSER.md, "Size bound").
  if (discarding) {
    if (len > maxEventSize) return;
  } else if (len > maxEventSize - dataLen - typeLen) {
    // (dataLen + typeLen <= maxEventSize holds whenever not discarding: no overflow.)
    tooLarge();
    return;
  }

  if (len == 0) {
    if (discarding || dataLen == 0) {
      if (discarding) {
        discarding = 0;
      } else {
        typeLen = 0;
      }
      if (idHeld) {
        const j = join(idHigh, idPtr, idLen, FLAG_JOINED);
        emit3(REC_COMMIT | FLAG_ID | asciiFlag(idHigh, FLAG_ID_ASCII) | j, idPtr, idLen);
        idHeld = false;
      } else if (idDirty) {
        emit1(REC_COMMIT);
      }
    } else {
      refer(dataPtr, dataLen - 1);
      if (typeLen > 0) refer(typePtr, typeLen);
      const same = typeLen > 0 ? sameType(typePtr, typeLen) : 0;
      // Joined in the order JS reads them: type (unless the same), data, id.
      let joins: u32 = 0;
      if (typeLen > 0 && same == 0) joins = join(typeHigh, typePtr, typeLen, FLAG_JOINED);
      joins |= join(dataHigh, dataPtr, dataLen - 1, FLAG_DATA_JOINED);
      if (idHeld) joins |= join(idHigh, idPtr, idLen, FLAG_ID_JOINED);
      const r = records + (<usize>rc << 2);
      store<u32>(
        r,
        REC_EVENT | asciiFlag(typeHigh, FLAG_ASCII) | asciiFlag(dataHigh, FLAG_DATA_ASCII) |
          (idDirty ? FLAG_COMMIT : 0) | same | joins,
      );
      store<u32>(r, <u32>typePtr, 4);
      store<u32>(r, typeLen, 8);
      store<u32>(r, <u32>dataPtr, 12);
      store<u32>(r, dataLen - 1, 16);
      rc += 5;
      if (idHeld) {
        refer(idPtr, idLen);
        store<u32>(r, load<u32>(r) | FLAG_ID | asciiFlag(idHigh, FLAG_ID_ASCII));
        store<u32>(r, <u32>idPtr, 20);
        store<u32>(r, idLen, 24);
        rc += 2;
        idHeld = false;
      }
      dataLen = 0;
      dataOwned = 0;
      typeLen = 0;
    }
    idDirty = 0;
    return;
  }

  const first = <u32>load<u8>(p);
  if (first == COLON) {
    if (comments) {
      const skip: u32 = len > 1 && <u32>load<u8>(p + 1) == SPACE ? 2 : 1;
      const j = join(high, p + skip, len - skip, FLAG_JOINED);
      emit3(REC_COMMENT | asciiFlag(high, FLAG_ASCII) | j, p + skip, len - skip);
      keepLine = true;
    }
    return;
  }

  // Names are matched as bytes at the start of the line; a known name must be followed by
  // the colon or the end of the line ("using the whole line as the field name").
  let field = FIELD_NONE;
  let v: u32 = 0;
  if (first == 0x64 /* d */) {
    if (len >= 4 && load<u32>(p) == 0x61746164 /* data */) {
      field = FIELD_DATA;
      v = 4;
    }
  } else if (first == 0x69 /* i */) {
    if (len >= 2 && <u32>load<u8>(p + 1) == 0x64 /* d */) {
      field = FIELD_ID;
      v = 2;
    }
  } else if (first == 0x65 /* e */) {
    if (len >= 5 && load<u32>(p) == 0x6e657665 /* even */ && <u32>load<u8>(p + 4) == 0x74) {
      field = FIELD_EVENT;
      v = 5;
    }
  } else if (first == 0x72 /* r */) {
    if (len >= 5 && load<u32>(p) == 0x72746572 /* retr */ && <u32>load<u8>(p + 4) == 0x79) {
      field = FIELD_RETRY;
      v = 5;
    }
  }
  if (field == FIELD_NONE) return;
  if (v < len) {
    if (<u32>load<u8>(p + v) != COLON) return;
    v++;
    if (v < len && <u32>load<u8>(p + v) == SPACE) v++;
  }
  const vp = p + v;
  const vl = len - v;

  if (field == FIELD_DATA) {
    if (discarding) return;
    if (dataLen == 0 && inWindow(vp)) {
      // A single-line value is dispatched straight from the window: most events never copy.
      dataPtr = vp;
      dataLen = vl + 1;
      dataHigh = high;
      dataOwned = 0;
    } else {
      appendData(vp, vl, high);
    }
  } else if (field == FIELD_EVENT) {
    if (discarding) return;
    typePtr = vp;
    typeLen = vl;
    typeHigh = high;
    keepLine = true;
  } else if (field == FIELD_RETRY) {
    if (vl == 0) return;
    for (let i: usize = 0; i < vl; i++) {
      if (<u32>load<u8>(vp + i) - 0x30 > 9) return;
    }
    emit3(REC_RETRY | FLAG_ASCII, vp, vl);
    keepLine = true;
  } else {
    // "If the field value does not contain U+0000 NULL, then set the last event ID buffer"
    if (hasNul(vp, vl)) return;
    // Held until the blank line that commits it, so that one record carries both.
    idPtr = vp;
    idLen = vl;
    idHigh = high;
    idHeld = true;
    idDirty = 1;
    keepLine = true;
  }
}

/**
 * Feeds `len` bytes (1..WINDOW_SIZE) from the input window. Returns the number of record
 * words written; with PAUSED set, the table filled up: read it, then call `resume`.
 */
export function feed(len: i32): i32 {
  if (getState(S_LOAD)) {
    loadState();
    setState(S_LOAD, 0);
  }
  if (len == 0) return 0;
  rc = 0;
  refEnd = 0;
  refBytes = 0;
  joinEnd = joined;
  cur = arena - <usize>len;
  callStart = cur;
  end = arena;
  // The records of the previous call are read by now: the pending bytes can come home.
  const pending = typeLen + dataLen + heldIdLen() + lineLen;
  if (base != 0 && base != arena) copy(arena, base, pending);
  // Between calls the pending event is always [type][held id][data with all its LFs], in the
  // arena, so that the data can grow where it is.
  typePtr = arena;
  idPtr = arena + typeLen;
  dataPtr = idPtr + heldIdLen();
  dataOwned = dataLen > 0 ? 1 : 0;
  top = arena + pending;

  if (afterCR) {
    afterCR = 0;
    if (<u32>load<u8>(cur) == LF) cur++;
  }

  if (bomBytes < 3) {
    // EF BB BF at the start of the stream is dropped, even when split across chunks.
    while (bomBytes < 3 && cur < end) {
      const b = <u32>load<u8>(cur);
      if (b != (bomBytes == 0 ? 0xef : bomBytes == 1 ? 0xbb : 0xbf)) break;
      bomBytes++;
      cur++;
    }
    if (cur < end && bomBytes < 3) {
      // Not a BOM after all: the bytes held back start the first line.
      if (bomBytes > 0) store<u8>(arena, 0xef);
      if (bomBytes > 1) store<u8>(arena + 1, 0xbb);
      lineLen = bomBytes;
      lineHigh = bomBytes > 0 ? 1 : 0;
      top = arena + lineLen;
      bomBytes = 3;
    }
  }

  if (lineLen > 0 || skipLine) {
    // The line left unfinished by the previous chunk: it sits at the top of the arena.
    const e = scan(cur, end);
    if (skipLine) {
      if (e < end) {
        skipLine = 0;
        cur = afterLineEnd(e);
      } else {
        cur = end;
      }
    } else {
      const k = <u32>(e - cur);
      ensure(top + k);
      copy(top, cur, k);
      top += k;
      lineLen += k;
      lineHigh |= scanHigh;
      if (e < end) {
        cur = afterLineEnd(e);
        const lineStart = top - lineLen;
        const l = lineLen;
        lineLen = 0;
        top = lineStart;
        keepLine = false;
        processLine(lineStart, l, lineHigh);
        lineHigh = 0;
        if (keepLine && top < lineStart + l) top = lineStart + l;
      } else {
        cur = end;
        // The scan below sees no bytes; the carried line keeps its own high flag.
      }
    }
  }
  if (ASC_FEATURE_SIMD) index();
  return run();
}

/** Continues a `feed` that returned with PAUSED set, once JS has read the records. */
export function resume(): i32 {
  rc = 0;
  joinEnd = joined;
  return run();
}

function paused(): i32 {
  setState(S_REF_END, <u32>refEnd);
  setState(S_REF_BYTES, refBytes);
  return rc | PAUSED;
}

function run(): i32 {
  if (ASC_FEATURE_SIMD) return runSimd();
  scanHigh = 0;
  while (cur < end) {
    if (rc > RECORD_WORDS - MAX_WORDS_PER_LINE) return paused();
    const e = scan(cur, end);
    if (e == end) break;
    processLine(cur, <u32>(e - cur), scanHigh);
    cur = afterLineEnd(e);
    scanHigh = 0;
  }
  finish();
  return rc;
}

/**
 * SIMD build, first pass: the offsets of all CRs and LFs from `cur` on, taken from bitmasks
 * in a loop that does nothing else; and whether all bytes are ASCII.
 */
function index(): void {
  let out = ends;
  let high: u32 = 0;
  if (cur < end) {
    const vlf = i8x16.splat(<i8>LF);
    const vcr = i8x16.splat(<i8>CR);
    // `end` is the arena, 16-aligned: every block below it is whole input.
    let blk = cur & ~15;
    const skip = 0xffff << <u32>(cur - blk);
    let v = v128.load(blk);
    let m = <u32>i8x16.bitmask(v128.or(i8x16.eq(v, vlf), i8x16.eq(v, vcr))) & skip;
    high = <u32>i8x16.bitmask(v) & skip;
    for (;;) {
      const off = <u32>(blk - input);
      while (m != 0) {
        store<u16>(out, off + ctz(m));
        out += 2;
        m &= m - 1;
      }
      blk += 16;
      if (blk >= end) break;
      // 64 bytes at a time, where they are whole input. Events of ~100 bytes have a few line
      // ends per 64 bytes: four entries are written without a branch on each (those past the
      // count are garbage that the next ones overwrite), so the loop's branches follow the
      // stretches, not the bytes.
      while (blk + 64 <= end) {
        const v0 = v128.load(blk);
        const v1 = v128.load(blk, 16);
        const v2 = v128.load(blk, 32);
        const v3 = v128.load(blk, 48);
        let w =
          <u64>i8x16.bitmask(v128.or(i8x16.eq(v0, vlf), i8x16.eq(v0, vcr))) |
          (<u64>i8x16.bitmask(v128.or(i8x16.eq(v1, vlf), i8x16.eq(v1, vcr))) << 16) |
          (<u64>i8x16.bitmask(v128.or(i8x16.eq(v2, vlf), i8x16.eq(v2, vcr))) << 32) |
          (<u64>i8x16.bitmask(v128.or(i8x16.eq(v3, vlf), i8x16.eq(v3, vcr))) << 48);
        high |= <u32>i8x16.bitmask(v128.or(v128.or(v0, v1), v128.or(v2, v3)));
        const o = <u32>(blk - input);
        const count = <usize>popcnt(w);
        store<u16>(out, o + <u32>ctz(w));
        w &= w - 1;
        store<u16>(out, o + <u32>ctz(w), 2);
        w &= w - 1;
        store<u16>(out, o + <u32>ctz(w), 4);
        w &= w - 1;
        store<u16>(out, o + <u32>ctz(w), 6);
        if (count > 4) {
          w &= w - 1;
          let q = out + 8;
          while (w != 0) {
            store<u16>(q, o + <u32>ctz(w));
            q += 2;
            w &= w - 1;
          }
        }
        out += count << 1;
        blk += 64;
      }
      if (blk >= end) break;
      v = v128.load(blk);
      m = <u32>i8x16.bitmask(v128.or(i8x16.eq(v, vlf), i8x16.eq(v, vcr)));
      high |= <u32>i8x16.bitmask(v);
    }
  }
  endsEnd = out;
  nextEnd = ends;
  windowAscii = high == 0;
}

/** Whether any byte of [a, b) is >= 0x80: for the lines of chunks that are not all ASCII. */
function highIn(a: usize, b: usize): u32 {
  for (; a + 16 <= b; a += 16) {
    if (i8x16.bitmask(v128.load(a)) != 0) return 1;
  }
  let acc: u32 = 0;
  for (; a < b; a++) acc |= load<u8>(a);
  return acc & 0x80;
}

/**
 * Whether the id [p, p + n) has a 0x00 byte, for an id followed by at least 8 more bytes of
 * the window: up to 8 bytes with one load (the bytes past the id are made non-zero).
 */
@inline function shortIdHasNul(p: usize, n: u32): bool {
  if (n > 8) return hasNul(p, n);
  let x = load<u64>(p);
  if (n < 8) x |= 0xffffffffffffffff << (<u64>n << 3);
  return ((x - 0x0101010101010101) & ~x & 0x8080808080808080) != 0;
}

/** Whether the line end at `e` is the kind `shortEvents` takes: LF, or CRLF when `crlf`. */
@inline function usualEnd(e: usize, crlf: bool): bool {
  return crlf ? load<u16>(e) == 0x0a0d : <u32>load<u8>(e) == LF;
}

/**
 * The usual events, taken whole from the entries of `ends` at `q`, one after another while
 * they have the usual shape: an `id: ` line, maybe an `event: ` line, a `data: ` line and a
 * blank line, all ended alike (LF; or CRLF when `crlf`, each line end then being two entries),
 * in an all-ASCII window, with blank lines and unwanted comments between them. Does what `processLine` would do line by line, but with none of the
 * per-line state written to globals and read back, and the record count, the size bound and
 * the remembered type in locals for the whole run (written back once at the end); each event
 * is one REC_WINDOW_EVENT, which JS reads with no flag or range to check. Market ticks at
 * 64 KiB chunks take much less time per event. Only called in the state every blank line
 * leaves (no data, type or held id; not discarding), with the line that starts at `start`
 * ending at the entry at `q`. Returns the entry after the last blank line taken, or `q` when
 * the first event has another shape (or breaks the size bound, or its id has a NUL):
 * `processLine` then takes the lines.
 */
@inline function shortEvents(start: usize, q: usize, qEnd: usize, crlf: bool): usize {
  const step: usize = crlf ? 4 : 2; // bytes of `ends` per line end
  const eol: usize = crlf ? 2 : 1; // bytes of a line end
  let r = records + (<usize>rc << 2);
  // `rc <= RECORD_WORDS - MAX_WORDS_PER_LINE` before each event, as `runSimd` checks per line.
  const rLast = records + (<usize>(RECORD_WORDS - MAX_WORDS_PER_LINE) << 2);
  const max = maxEventSize;
  // Every line and field of the window is shorter than the window: with a bound at least that
  // large no check can fail (the default bound is 16 MiB).
  const bounded = max < <u32>WINDOW_SIZE;
  let ptl = prevTypeLen;
  const w0 = callStart;
  const quiet = comments == 0;
  const q0 = q;
  // (`q + step <= qEnd`: the entry of a CRLF's LF is there too.)
  while (q + step <= qEnd && r <= rLast) {
    const e1 = input + <usize>load<u16>(q);
    const c0 = <u32>load<u8>(start);
    if (c0 != 0x69 /* i */) {
      // In this state a blank line changes nothing, nor does a comment line when comments
      // are not wanted (heartbeats between events): stepped over, unless the comment is
      // over the size bound (an error).
      if (e1 != start && !(quiet && c0 == COLON)) break;
      if (!usualEnd(e1, crlf) || (bounded && <u32>(e1 - start) > max)) break;
      q += step;
      start = e1 + eol;
      continue;
    }
    if (q + 3 * step > qEnd) break;
    if (e1 < start + 4 || load<u32>(start) != 0x203a6469 /* "id: " */ || !usualEnd(e1, crlf)) break;
    let d = e1; // the line end before the data line
    let de = input + <usize>load<u16>(q + step); // the data line's end
    let be = input + <usize>load<u16>(q + 2 * step); // the blank line's end
    let tp = e1; // the type (none without an event line)
    let tl: u32 = 0;
    let to = q + 3 * step;
    // Lengths first: the prefixes are then read from the line itself.
    if (de >= e1 + eol + 7 && (load<u64>(e1 + eol) & 0xffffffffffffff) == 0x203a746e657665 /* "event: " */) {
      if (to + step > qEnd || !usualEnd(de, crlf)) break;
      tp = e1 + eol + 7;
      tl = <u32>(de - tp);
      d = de;
      de = be;
      be = input + <usize>load<u16>(to);
      to += step;
    }
    if (de < d + eol + 6 || be != de + eol) break;
    if (load<u32>(d + eol) != 0x61746164 /* data */ || load<u16>(d + eol + 4) != 0x203a /* ": " */) break;
    if (!usualEnd(de, crlf) || !usualEnd(be, crlf)) break;
    // The size bound of each line, as processLine checks it with the buffers the lines fill
    // (the event line is 7 + tl bytes; without one, the check only errs on the safe side).
    if (bounded && (<u32>(e1 - start) > max || tl + 7 > max || <u32>(de - d - eol) > max - tl)) break;
    const ip = start + 4;
    const il = <u32>(e1 - ip);
    // (The id is followed by at least the data line's 7 bytes and the blank line.)
    if (shortIdHasNul(ip, il)) break;
    let same: u32 = 0;
    if (tl > 0) {
      // As `sameType`, with the previous type's length in a local. A type of up to 8 bytes
      // (followed here by the data line) is compared with one load.
      if (tl == ptl && (tl <= 8 ? ((load<u64>(tp) ^ load<u64>(prevType)) << (<u64>(8 - tl) << 3)) == 0 : sameBytes(tp, prevType, tl))) {
        same = FLAG_SAME_TYPE;
      } else if (tl <= <u32>TYPE_KEEP) {
        copy(prevType, tp, tl);
        ptl = tl;
      } else {
        ptl = 0xffffffff;
      }
    }
    const to0 = <u32>(tp - w0);
    store<u32>(r, REC_WINDOW_EVENT | same);
    store<u32>(r, to0, 4);
    store<u32>(r, to0 + tl, 8);
    store<u32>(r, <u32>(d + eol + 6 - w0), 12);
    store<u32>(r, <u32>(de - w0), 16);
    store<u32>(r, <u32>(ip - w0), 20);
    store<u32>(r, <u32>(e1 - w0), 24);
    r += 28;
    q = to;
    start = be + eol;
  }
  if (q != q0) {
    rc = <i32>((r - records) >> 2);
    prevTypeLen = ptl;
    idDirty = 0;
  }
  return q;
}

// The two kinds of line end, each compiled on its own.
function shortEventsLF(start: usize, q: usize, qEnd: usize): usize {
  return shortEvents(start, q, qEnd, false);
}
function shortEventsCRLF(start: usize, q: usize, qEnd: usize): usize {
  return shortEvents(start, q, qEnd, true);
}

/** `run` for the SIMD build, second pass: the lines between the offsets `index` found. */
function runSimd(): i32 {
  let start = cur;
  // In locals for the loop: a global is a memory access in the engine's code.
  let q = nextEnd;
  const qEnd = endsEnd;
  while (q < qEnd) {
    const e = input + <usize>load<u16>(q);
    if (e < start) {
      // The LF of a CRLF.
      q += 2;
      continue;
    }
    if (rc > RECORD_WORDS - MAX_WORDS_PER_LINE) {
      cur = start;
      nextEnd = q;
      return paused();
    }
    q += 2;
    const len = <u32>(e - start);
    processLine(start, len, windowAscii ? 0 : highIn(start, e));
    let next = e + 1;
    if (<u32>load<u8>(e) == CR) {
      if (next < end) {
        if (<u32>load<u8>(next) == LF) next++;
      } else {
        afterCR = 1;
      }
    }
    start = next;
    // A blank line leaves the state that `shortEvents` starts from: the events that follow
    // are taken whole while they have the usual shape.
    // (Its first test is made here too: at small chunks the call would mostly return at
    // once, which cost more than the test.)
    if (len == 0 && windowAscii && q + 6 <= qEnd) {
      // After a CRLF, the entry of its LF comes first.
      const q1 = q < qEnd && input + <usize>load<u16>(q) < start ? q + 2 : q;
      const e1 = input + <usize>load<u16>(q1);
      const c = <u32>load<u8>(start);
      if (
        q1 + 6 <= qEnd &&
        ((c == COLON && !comments) || (e1 >= start + 4 && load<u32>(start) == 0x203a6469 /* "id: " */))
      ) {
        let to = q1;
        if (<u32>load<u8>(e1) == LF) {
          to = shortEventsLF(start, q1, qEnd);
        } else if (q1 + 12 <= qEnd && load<u16>(e1) == 0x0a0d) {
          // (Three CRLFs: six entries. At 64-byte chunks there are seldom that many.)
          to = shortEventsCRLF(start, q1, qEnd);
        }
        if (to != q1) {
          q = to;
          // (The last entry taken is the blank line's LF.)
          start = input + <usize>load<u16>(to - 2) + 1;
        }
      }
    }
  }
  cur = start;
  scanHigh = windowAscii ? 0 : highIn(start, end);
  finish();
  return rc;
}

/** Bounds the unfinished line, then packs [type][data][line] at the arena base. */
function finish(): void {
  let rem = <u32>(end - cur);
  const remHigh = scanHigh;
  const partial = lineLen + rem;
  if (partial > 0 && !skipLine) {
    // The same verdict as for the whole line, since a line only gets longer; made now so
    // that memory never holds more than the bound.
    let drop = false;
    if (discarding) {
      drop = partial > maxEventSize;
    } else if (<u64>dataLen + <u64>typeLen + <u64>partial > <u64>maxEventSize) {
      tooLarge();
      drop = true;
    }
    if (drop) {
      skipLine = 1;
      lineLen = 0;
      lineHigh = 0;
      rem = 0;
    }
  }

  // The held id goes with the pending event, for the record of the blank line that commits
  // it: JS then reads one record and decodes nothing for a call that only ends an id line.
  const tl = typeLen;
  const dl = dataLen;
  const il = heldIdLen();
  const ll = lineLen;
  const lineSrc = top - ll; // a carried line that is still unfinished is the last thing in the arena
  const total = tl + dl + il + ll + rem;
  const inPlace =
    (tl == 0 || typePtr == arena) &&
    (il == 0 || idPtr == arena + tl) &&
    (dl == 0 || (dataOwned && dataPtr == arena + tl + il)) &&
    (ll == 0 || lineSrc == arena + tl + il + dl);
  if (inPlace && (rem == 0 || refEnd == 0)) {
    ensure(arena + total);
    copy(arena + tl + il + dl + ll, cur, rem);
    base = arena;
  } else {
    // Sources may overlap the destination in any order: stage above everything, then move
    // down, unless records still point below: then the next feed moves it down.
    const stage = (top + 15) & ~15;
    ensure(stage + total);
    copy(stage, typePtr, tl);
    copy(stage + tl, idPtr, il);
    const at = stage + tl + il;
    if (dl > 0) {
      if (dataOwned) {
        copy(at, dataPtr, dl);
      } else {
        copy(at, dataPtr, dl - 1);
        store<u8>(at + dl - 1, <u8>LF);
      }
    }
    copy(at + dl, lineSrc, ll);
    copy(at + dl + ll, cur, rem);
    if (refEnd != 0) {
      base = stage;
    } else {
      copy(arena, stage, total);
      base = arena;
    }
  }
  lineLen = ll + rem;
  if (rem > 0) lineHigh |= remHigh;
  cur = end;
  setState(S_REF_END, <u32>refEnd);
  setState(S_REF_BYTES, refBytes);
}

const REPLACEMENT: u32 = 0xfffd;


@inline function continues(b: u32, lo: u32, hi: u32): bool {
  return b - lo <= hi - lo;
}

/**
 * Decodes the joined area of the last call into UTF-16 at `wide` and returns where it ends:
 * JS then makes one two-byte string of it with a plain copy. Node 20 decodes UTF-8 through
 * ICU at about 2 ns a byte, which was most of the time of non-ASCII streams. This is the
 * WHATWG UTF-8 decoder: one U+FFFD for each maximal subpart of a bad sequence. The bytes
 * after a lead are always there to look at (the area ends with a CR, which is ASCII), and
 * a sequence that a CR cuts short is one of those subparts.
 */
export function utf16(): usize {
  let p = joined;
  const e = joinEnd;
  let o = wide;
  while (p < e) {
    // Eight ASCII bytes at a time: widened with two stores. (The load may read past `e`,
    // into `wide`: only bytes before `e` are used.)
    const x = load<u64>(p);
    if ((x & 0x8080808080808080) == 0 && p + 8 <= e) {
      const lo = x & 0xffffffff;
      const hi = x >> 32;
      store<u64>(o, (lo & 0xff) | ((lo & 0xff00) << 8) | ((lo & 0xff0000) << 16) | ((lo & 0xff000000) << 24));
      store<u64>(o, (hi & 0xff) | ((hi & 0xff00) << 8) | ((hi & 0xff0000) << 16) | ((hi & 0xff000000) << 24), 8);
      p += 8;
      o += 16;
      continue;
    }
    const b0 = <u32>x & 0xff;
    const b1 = <u32>(x >> 8) & 0xff;
    const b2 = <u32>(x >> 16) & 0xff;
    let cp = REPLACEMENT;
    let n: usize = 1;
    if (b0 < 0x80) {
      cp = b0;
    } else if (b0 - 0xc2 <= 0xdf - 0xc2) {
      if (continues(b1, 0x80, 0xbf)) {
        cp = ((b0 & 0x1f) << 6) | (b1 & 0x3f);
        n = 2;
      }
    } else if (b0 - 0xe0 <= 0xef - 0xe0) {
      if (continues(b1, b0 == 0xe0 ? 0xa0 : 0x80, b0 == 0xed ? 0x9f : 0xbf)) {
        n = 2;
        if (continues(b2, 0x80, 0xbf)) {
          cp = ((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
          n = 3;
        }
      }
    } else if (b0 - 0xf0 <= 0xf4 - 0xf0) {
      if (continues(b1, b0 == 0xf0 ? 0x90 : 0x80, b0 == 0xf4 ? 0x8f : 0xbf)) {
        n = 2;
        if (continues(b2, 0x80, 0xbf)) {
          n = 3;
          const b3 = <u32>(x >> 24) & 0xff;
          if (continues(b3, 0x80, 0xbf)) {
            const c = (((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f)) - 0x10000;
            store<u32>(o, (0xd800 | (c >> 10)) | ((0xdc00 | (c & 0x3ff)) << 16));
            o += 4;
            p += 4;
            continue;
          }
        }
      }
    }
    // A bad sequence ends before the byte that broke it, which starts the next one.
    store<u16>(o, <u16>cp);
    o += 2;
    p += n;
  }
  return o;
}
