// The WHATWG UTF-8 decoder for the joined area (see README.md, "Strings"): JS gets UTF-16
// that it turns into a string with one copy.

import { joined, wide } from "./memory";
import { joinEnd } from "./state";

const REPLACEMENT: u32 = 0xfffd;


@inline function continues(b: u32, lo: u32, hi: u32): bool {
  return b - lo <= hi - lo;
}

/**
 * Decodes the joined area of the last call into UTF-16 at `wide` and returns where it ends:
 * JS then makes one two-byte string of it with a plain copy. Node 20 decodes UTF-8 through
 * ICU at about 2 ns a byte (measured at 78eeab0), which was most of the time of non-ASCII streams. This is the
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
