// Finding line ends: `scan` for one line, 16 bytes at a time, and `index`, which finds every
// CR and LF of the chunk in one pass. (Only the SIMD build ships: a runtime without SIMD runs
// the TypeScript engine.)

import { LF, CR, ends, input } from "./memory";
import { cur, end, endsEnd, nextEnd, scanHigh, windowAscii } from "./state";

/**
 * Index of the first CR or LF in [p, limit), or `limit`; ORs the bytes before it into
 * `scanHigh` so that callers know whether the line is all ASCII.
 */
export function scan(p: usize, limit: usize): usize {
  let acc: u32 = 0;
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
  while (p < limit) {
    const c = <u32>load<u8>(p);
    if (c <= CR && (c == LF || c == CR)) break;
    acc |= c;
    p++;
  }
  scanHigh = acc & 0x80808080;
  return p;
}


/**
 * SIMD build, first pass: the offsets of all CRs and LFs from `cur` on, taken from bitmasks
 * in a loop that does nothing else; and whether all bytes are ASCII.
 */
export function index(): void {
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
export function highIn(a: usize, b: usize): u32 {
  for (; a + 16 <= b; a += 16) {
    if (i8x16.bitmask(v128.load(a)) != 0) return 1;
  }
  let acc: u32 = 0;
  for (; a < b; a++) acc |= load<u8>(a);
  return acc & 0x80;
}

