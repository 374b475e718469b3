// The one decoding module of both engines, as Node loads it (Buffer's methods) and as a runtime
// without node:buffer and the Buffer global loads it (web-standard fallbacks): both must give
// the same strings for every byte. Once, the WASM engine's fallback decoded "latin1" with
// TextDecoder("windows-1252"), which browsers (per the Encoding standard) map 0x80-0x9F to
// other characters with; the byte table below fails on that.
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import * as nodeDecode from "../../src/parser/decode.js";

type DecodeModule = typeof import("../../src/parser/decode.js");
let webDecode: DecodeModule;
const savedGetBuiltin = process.getBuiltinModule;
const savedBuffer = globalThis.Buffer;

// Node 20's TextDecoder decodes windows-1252 as latin1, unlike the Encoding standard and every
// browser: this file gets the browsers' mapping of 0x80-0x9F, so that a fallback that relies on
// TextDecoder("latin1") or ("windows-1252") fails here as it would in a browser.
const CP1252_80_9F = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d,
  0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d,
  0x17e, 0x178,
];
const NodeTextDecoder = globalThis.TextDecoder;
class BrowserTextDecoder extends NodeTextDecoder {
  override decode(input?: AllowSharedBufferSource, options?: TextDecodeOptions): string {
    const text = super.decode(input, options);
    if (this.encoding !== "windows-1252") return text;
    return text.replace(/[\x80-\x9f]/g, (c) => String.fromCharCode(CP1252_80_9F[c.charCodeAt(0) - 0x80]!));
  }
}

beforeAll(async () => {
  globalThis.TextDecoder = BrowserTextDecoder;
  (process as { getBuiltinModule?: unknown }).getBuiltinModule = undefined;
  (globalThis as { Buffer?: unknown }).Buffer = undefined;
  vi.resetModules();
  try {
    webDecode = await import("../../src/parser/decode.js");
  } finally {
    process.getBuiltinModule = savedGetBuiltin;
    globalThis.Buffer = savedBuffer;
  }
});
afterAll(() => {
  globalThis.TextDecoder = NodeTextDecoder;
  vi.resetModules();
});

const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
// Read when a test runs: the web module is loaded by beforeAll.
const modes = ["with node:buffer", "without node:buffer"] as const;
const moduleOf = (mode: (typeof modes)[number]): DecodeModule =>
  mode === "with node:buffer" ? nodeDecode : webDecode;

test("the web module really is the fallback one (Buffer hidden at its load)", () => {
  expect(new TextDecoder("latin1").decode(Uint8Array.of(0x80))).toBe("\u20ac");
  // utf8Length counts by hand without Buffer; a lone low surrogate tells the two apart
  // (Buffer counts the 3 bytes of its U+FFFD, the loop counts it as a pair's second half).
  expect(nodeDecode.utf8Length("\udc00")).toBe(3);
  expect(webDecode.utf8Length("\udc00")).toBe(1);
});

describe.each(modes)("%s", (mode) => {
  const mod = () => moduleOf(mode);

  test("latin1String: every byte is the char of its value (not windows-1252)", () => {
    const text = mod().latin1String(allBytes, 0, 256);
    expect(text.length).toBe(256);
    for (let i = 0; i < 256; i++) expect(text.charCodeAt(i)).toBe(i);
    // A span inside a larger array, and one longer than the fallback's pieces.
    const long = Uint8Array.from({ length: 20000 }, (_, i) => (i * 7) & 0xff);
    expect(mod().latin1String(long, 3, 19999)).toBe(
      String.fromCharCode(...Array.from(long.subarray(3, 19999))),
    );
  });

  test("utf16String: code units as written, surrogates and U+FEFF kept", () => {
    const units = [0xfeff, 0x41, 0xd83d, 0xde00, 0x80, 0x9f, 0xffff];
    const bytes = new Uint8Array(2 + units.length * 2);
    units.forEach((u, i) => {
      bytes[2 + 2 * i] = u & 0xff;
      bytes[3 + 2 * i] = u >> 8;
    });
    expect(mod().utf16String(bytes, 2, bytes.length)).toBe(String.fromCharCode(...units));
  });

  test("utf8String: the WHATWG decoder's text, BOM kept, short and long, followed or not", () => {
    const dec = new TextDecoder("utf-8", { ignoreBOM: true });
    const enc = new TextEncoder();
    const samples = [
      enc.encode("\ufeffh\u00e9llo"),
      enc.encode(`${"\u4fa1\u683c ".repeat(30)}\ud83d\ude00`),
      Uint8Array.of(0x61, 0xff, 0xc3, 0x62, 0xe2, 0x82, 0x80, 0x9f),
      Uint8Array.from({ length: 100 }, (_, i) => 0x80 + (i % 64)),
    ];
    for (const s of samples) {
      // Alone, then inside a larger array followed by ASCII (the streaming path) and by a
      // byte that could continue a sequence.
      expect(mod().utf8String(s, 0, s.length)).toBe(dec.decode(s));
      for (const next of [0x0a, 0x80]) {
        const padded = new Uint8Array(s.length + 2);
        padded.set(s, 1);
        padded[s.length + 1] = next;
        expect(mod().utf8String(padded, 1, s.length + 1)).toBe(dec.decode(s));
      }
    }
  });

  test("asciiString: the latin1 string of a span that is all ASCII, else undefined", () => {
    const ascii = new Uint8Array(200).fill(0x61);
    expect(mod().asciiString(ascii, 0, 200)).toBe("a".repeat(200));
    ascii[150] = 0x80;
    expect(mod().asciiString(ascii, 0, 200)).toBeUndefined();
    expect(mod().asciiString(ascii, 0, 150)).toBe("a".repeat(150));
    expect(mod().asciiString(ascii, 140, 151)).toBeUndefined();
    expect(mod().asciiString(ascii, 151, 200)).toBe("a".repeat(49));
    // Bad bytes of as many chars as bytes once decoded (a U+FFFD each), U+FFFD itself, and
    // valid sequences (fewer chars than bytes, no U+FFFD).
    expect(mod().asciiString(Uint8Array.from({ length: 100 }, (_, i) => (i === 70 ? 0xbf : 0x20)), 0, 100)).toBeUndefined();
    const enc = new TextEncoder();
    const fffd = enc.encode(`${"a".repeat(70)}\ufffd`);
    expect(mod().asciiString(fffd, 0, fffd.length)).toBeUndefined();
    const valid = enc.encode(`${"a".repeat(70)}h\u00e9llo \u4fa1`);
    expect(mod().asciiString(valid, 0, valid.length)).toBeUndefined();
  });

  test("latin1String: spans of every length and mix, ASCII or not, valid UTF-8 or not", () => {
    // The web fallback decodes a span as UTF-8 when it is all ASCII and widens it otherwise:
    // a valid sequence (fewer chars than bytes) or a run of bad bytes (a U+FFFD each, as many
    // chars as bytes) must each send it down the exact path.
    const enc = new TextEncoder();
    const mixes = [
      enc.encode("plain ascii text, long enough for the decoder. ".repeat(12)),
      enc.encode("h\u00e9llo \u4fa1\u683c \ud83d\ude00 ".repeat(30)),
      Uint8Array.from({ length: 600 }, (_, i) => (i % 5 === 0 ? 0x80 + (i % 64) : 0x61)),
      enc.encode(`${"a".repeat(300)}\ufffd${"b".repeat(40)}`),
    ];
    const expected = (b: Uint8Array, s: number, e: number) =>
      Array.from(b.subarray(s, e), (c) => String.fromCharCode(c)).join("");
    for (const b of mixes) {
      for (const [s, e] of [[0, b.length], [1, b.length - 1], [3, 20], [5, 30], [0, 64], [7, 90], [2, 300], [0, 257]] as const) {
        expect(mod().latin1String(b, s, Math.min(e, b.length))).toBe(expected(b, s, Math.min(e, b.length)));
      }
    }
  });

  test("utf8Length of decoder output is its UTF-8 byte length", () => {
    for (const s of ["", "abc", "h\u00e9", "\u4fa1\u683c", "\ud83d\ude00x", "\ufffd"]) {
      expect(mod().utf8Length(s)).toBe(new TextEncoder().encode(s).length);
    }
  });
});

test.each(modes)("%s: the same text as Node's for every byte", (mode) => {
  const mod = moduleOf(mode);
  expect(mod.latin1String(allBytes, 0, 256)).toBe(nodeDecode.latin1String(allBytes, 0, 256));
  // UTF-16 as assembly/ writes it: no lone surrogate (no unit D800-DFFF here).
  const units = allBytes.map((b, i) => (i % 2 === 1 && b >= 0xd8 && b < 0xe0 ? 0x20 : b));
  expect(mod.utf16String(units, 0, 256)).toBe(nodeDecode.utf16String(units, 0, 256));
  expect(mod.utf8String(allBytes, 0, 256)).toBe(nodeDecode.utf8String(allBytes, 0, 256));
});

describe("StringEncoder", () => {
  const { StringEncoder } = nodeDecode;
  const bytesOf = (...parts: Uint8Array[]) => parts.flatMap((p) => Array.from(p));
  const utf8 = (s: string) => Array.from(new TextEncoder().encode(s));

  test("a surrogate pair cut between two strings is one character", () => {
    const e = new StringEncoder();
    const first = e.encode("a\ud83d");
    expect(e.holding).toBe(true);
    expect(bytesOf(first, e.encode("\ude00b"))).toEqual(utf8("a\ud83d\ude00b"));
    expect(e.holding).toBe(false);
  });

  test("a held surrogate without its low half is U+FFFD, before the next string or bytes", () => {
    const e = new StringEncoder();
    expect(bytesOf(e.encode("\ud83d"), e.encode("x"))).toEqual(utf8("\ufffdx"));
    e.encode("\ud83d");
    expect(Array.from(e.before(Uint8Array.of(0x0a)))).toEqual([0xef, 0xbf, 0xbd, 0x0a]);
    expect(e.holding).toBe(false);
    const plain = Uint8Array.of(1, 2);
    expect(e.before(plain)).toBe(plain);
  });

  test("an empty string keeps the held surrogate; two high ones in a row: the first is lone", () => {
    const e = new StringEncoder();
    const got = bytesOf(e.encode("\ud83d"), e.encode(""), e.encode("\ud83d"), e.encode("\ude00"));
    expect(got).toEqual(utf8("\ufffd\ud83d\ude00"));
  });

  test("reset() drops a held surrogate (it belongs to the unfinished line)", () => {
    const e = new StringEncoder();
    e.encode("x\ud83d");
    e.reset();
    expect(e.holding).toBe(false);
    expect(bytesOf(e.encode("\ude00"))).toEqual(utf8("\ufffd"));
  });
});
