// The byte state machine of docs/PARSER.md: lines to records. One instance serves every
// parser in the process: a parser's state lives in globals while that parser is fed
// (state.ts), and JS swaps it for another parser's through the state block.
//
// Nothing here allocates: values are spans of the input window or of the arena, and
// the arena only ever holds the pending event (data, type) and an unfinished line.
//
// Beside this file: memory.ts (the layout and byte helpers), state.ts (the stream's and the
// call's globals, `save`), scan.ts (finding line ends), short-events.ts (the SIMD build's
// fast path for the usual events) and utf16.ts (decoding the joined area for JS).

import {
  WINDOW_SIZE, RECORD_WORDS, MAX_WORDS_PER_LINE, PAUSED,
  FIELD_NONE, FIELD_DATA, FIELD_EVENT, FIELD_RETRY, FIELD_ID,
  REC_EVENT, REC_COMMIT, REC_RETRY, REC_COMMENT, REC_ERROR,
  FLAG_ASCII, FLAG_DATA_ASCII, FLAG_COMMIT, FLAG_SAME_TYPE, FLAG_ID, FLAG_ID_ASCII,
  FLAG_JOINED, FLAG_DATA_JOINED, FLAG_ID_JOINED, JOIN_SIZE, JOIN_MAX, TYPE_KEEP,
  S_REF_END, S_REF_BYTES, S_LOAD,
} from "./abi";
import {
  LF, CR, COLON, SPACE, records, joined, prevType, input, arena,
  ensure, copy, copyHere, sameBytes, hasNul,
} from "./memory";
import {
  bomBytes, afterCR, lineLen, lineHigh, skipLine, dataPtr, dataLen, dataHigh, dataOwned,
  typePtr, typeLen, typeHigh, discarding, idDirty, maxEventSize, comments,
  end, callStart, cur, top, rc, scanHigh, keepLine, refEnd, refBytes, base, endsEnd, nextEnd,
  windowAscii, joinEnd, idHeld, idPtr, idLen, idHigh, prevTypeLen,
  getState, setState, loadState, heldIdLen,
} from "./state";
import { scan, index, highIn } from "./scan";
import { shortEventsLF, shortEventsCRLF } from "./short-events";

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
  if (base != 0 && base != arena) copyHere(arena, base, pending);
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
      copyHere(top, cur, k);
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
  index();
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

/** Second pass: the lines between the offsets `index` found. */
function run(): i32 {
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
    copyHere(arena + tl + il + dl + ll, cur, rem);
    base = arena;
  } else {
    // Sources may overlap the destination in any order: stage above everything, then move
    // down, unless records still point below: then the next feed moves it down.
    const stage = (top + 15) & ~15;
    ensure(stage + total);
    copyHere(stage, typePtr, tl);
    copyHere(stage + tl, idPtr, il);
    const at = stage + tl + il;
    if (dl > 0) {
      // Data dispatched from the window lacks its last LF.
      copyHere(at, dataPtr, dataOwned ? dl : dl - 1);
      if (!dataOwned) store<u8>(at + dl - 1, <u8>LF);
    }
    copyHere(at + dl, lineSrc, ll);
    copyHere(at + dl + ll, cur, rem);
    if (refEnd != 0) {
      base = stage;
    } else {
      copyHere(arena, stage, total);
      base = arena;
    }
  }
  lineLen = ll + rem;
  if (rem > 0) lineHigh |= remHigh;
  cur = end;
  setState(S_REF_END, <u32>refEnd);
  setState(S_REF_BYTES, refBytes);
}
