// The SIMD build's fast path for the usual events (see README.md): taken whole after a blank
// line, while they have the usual shape.

import {
  WINDOW_SIZE, RECORD_WORDS, MAX_WORDS_PER_LINE, REC_WINDOW_EVENT, FLAG_SAME_TYPE, TYPE_KEEP,
} from "./abi";
import { LF, COLON, records, input, prevType, copy, sameBytes, hasNul } from "./memory";
import { rc, maxEventSize, prevTypeLen, callStart, comments, idDirty } from "./state";

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
  // `rc <= RECORD_WORDS - MAX_WORDS_PER_LINE` before each event, as `run` checks per line.
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
export function shortEventsLF(start: usize, q: usize, qEnd: usize): usize {
  return shortEvents(start, q, qEnd, false);
}
export function shortEventsCRLF(start: usize, q: usize, qEnd: usize): usize {
  return shortEvents(start, q, qEnd, true);
}
