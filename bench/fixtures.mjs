// Seeded, deterministic SSE corpora shared by the benchmarks and by
// test/bench-fixtures.test.ts (which checks what each one parses to).
//
// Every generator returns the stream bytes and what a spec-exact parser must produce from
// them: the number of dispatched events and the total UTF-16 length of their `data`
// strings. The benchmarks refuse to report a figure for an implementation that disagrees.

/**
 * @typedef {object} Corpus
 * @property {string} name        workload name, e.g. "market-ticks"
 * @property {string} description one line, for reports
 * @property {Buffer} bytes       the whole stream
 * @property {number} events      events a spec-exact parser dispatches
 * @property {number} dataLength  sum of `data.length` (UTF-16 code units) over those events
 * @property {number} largestEvent bytes of the largest event block in the stream
 *
 * @typedef {object} CorpusOptions
 * @property {number} [size] approximate size in bytes (the last event is completed, so the
 *   corpus is a little larger); default {@link FULL_SIZE}
 * @property {number} [seed] PRNG seed; default {@link DEFAULT_SEED}
 * @property {number} [events] stop after this many events instead (when it comes before `size`)
 */

/** Full-size corpora are this big (approximately). Tests pass a small `size`. */
export const FULL_SIZE = 24 * 1024 * 1024;
export const DEFAULT_SEED = 0xc0ffee;

/**
 * mulberry32: tiny, fast, good enough for test data, and the same on every platform.
 * @param {number} seed
 * @returns {() => number} uniform in [0, 1)
 */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYMBOLS = ["AAPL", "MSFT", "GOOG", "AMZN", "NVDA", "META", "TSLA", "BRK.B", "JPM", "V"];
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * Collects event blocks as strings and tracks the expected parse result.
 * Strings are joined and UTF-8 encoded once per ~1 MiB, not per event.
 */
class CorpusBuilder {
  /** @param {number} size @param {number} [maxEvents] */
  constructor(size, maxEvents = Infinity) {
    this.size = size;
    this.maxEvents = maxEvents;
    /** @type {Buffer[]} */
    this.parts = [];
    /** @type {string[]} */
    this.pending = [];
    this.pendingChars = 0;
    this.byteLength = 0;
    this.events = 0;
    this.dataLength = 0;
    this.largestEvent = 0;
  }

  get full() {
    return this.byteLength >= this.size || this.events >= this.maxEvents;
  }

  /**
   * @param {string} block  the text of one event block (or of comment lines)
   * @param {string[] | null} dataLines the `data` values it dispatches, or null if none
   */
  add(block, dataLines) {
    const bytes = Buffer.byteLength(block);
    this.byteLength += bytes;
    if (dataLines !== null) {
      this.events++;
      let len = dataLines.length - 1; // the LFs that join data lines
      for (const line of dataLines) len += line.length;
      this.dataLength += len;
      if (bytes > this.largestEvent) this.largestEvent = bytes;
    }
    this.pending.push(block);
    this.pendingChars += block.length;
    if (this.pendingChars >= 1 << 20) this.flush();
  }

  flush() {
    if (this.pending.length === 0) return;
    this.parts.push(Buffer.from(this.pending.join(""), "utf8"));
    this.pending = [];
    this.pendingChars = 0;
  }

  /**
   * @param {string} name
   * @param {string} description
   * @returns {Corpus}
   */
  finish(name, description) {
    this.flush();
    const bytes = Buffer.concat(this.parts, this.byteLength);
    this.parts = [];
    return {
      name,
      description,
      bytes,
      events: this.events,
      dataLength: this.dataLength,
      largestEvent: this.largestEvent,
    };
  }
}

/**
 * @param {() => number} rand
 * @param {number} n
 */
function alnum(rand, n) {
  let s = "";
  for (let i = 0; i < n; i++) s += ALNUM[(rand() * 64) | 0];
  return s;
}

const VENUES = ["NASDAQ", "NYSE", "ARCA", "BATS", "IEX"];

/**
 * One-line JSON tick, about 100 bytes.
 * @param {() => number} rand
 * @param {number} seq
 */
function tickJson(rand, seq) {
  const sym = SYMBOLS[(rand() * SYMBOLS.length) | 0];
  const bid = (100 + rand() * 400).toFixed(2);
  const ask = (Number(bid) + 0.01 + ((rand() * 5) | 0) / 100).toFixed(2);
  const size = 100 * (1 + ((rand() * 50) | 0));
  return `{"s":"${sym}","b":${bid},"a":${ask},"z":${size},"t":${1732550000000 + seq * 3},"q":${seq},"v":"${VENUES[(rand() * VENUES.length) | 0]}"}`;
}

/**
 * Market ticks: ~120-byte events, each `id`, `event: tick` and a one-line JSON `data`.
 * @param {CorpusOptions & { crlf?: boolean }} [options]
 * @returns {Corpus}
 */
export function marketTicks({ size = FULL_SIZE, seed = DEFAULT_SEED, crlf = false, events } = {}) {
  const rand = prng(seed);
  const eol = crlf ? "\r\n" : "\n";
  const b = new CorpusBuilder(events ? Infinity : size, events);
  for (let seq = 1; !b.full; seq++) {
    const data = tickJson(rand, seq);
    b.add(`id: ${1000000 + seq}${eol}event: tick${eol}data: ${data}${eol}${eol}`, [data]);
  }
  return crlf
    ? b.finish("market-ticks-crlf", "market ticks with CRLF line ends")
    : b.finish("market-ticks", "~120 B events: id, event: tick, one-line JSON data");
}

/**
 * Market ticks with CRLF line ends.
 * @param {CorpusOptions} [options]
 */
export function marketTicksCrlf(options = {}) {
  return marketTicks({ ...options, crlf: true });
}

/**
 * Short ticks: ~100-byte events whose id and type lines weigh as much as the data (the
 * WASM engine's small-chunk figure measured lower on these than on market ticks: issue 19).
 * @param {CorpusOptions} [options]
 * @returns {Corpus}
 */
export function shortTicks({ size = FULL_SIZE, seed = DEFAULT_SEED, events } = {}) {
  const rand = prng(seed);
  const b = new CorpusBuilder(events ? Infinity : size, events);
  for (let seq = 1; !b.full; seq++) {
    const sym = SYMBOLS[(rand() * SYMBOLS.length) | 0];
    const type = rand() < 0.7 ? "quote" : "trade";
    const venue = VENUES[(rand() * VENUES.length) | 0];
    const bid = 100 + rand() * 400;
    const data = `{"s":"${sym}","b":${bid.toFixed(2)},"a":${(bid + 0.01).toFixed(2)},"z":${100 * (1 + ((rand() * 50) | 0))},"v":"${venue}","q":${seq}}`;
    b.add(`id: ${1732550000000 + seq * 3}\nevent: ${type}\ndata: ${data}\n\n`, [data]);
  }
  return b.finish("short-ticks", "~100 B events: id, event: quote or trade, short JSON data");
}

/**
 * Large payloads: one 16 KiB `data` line per event.
 * @param {CorpusOptions & { payload?: number }} [options]
 * @returns {Corpus}
 */
export function largePayloads({ size = FULL_SIZE, seed = DEFAULT_SEED, payload = 16 * 1024 } = {}) {
  const rand = prng(seed);
  // Slicing a random pool at random offsets keeps generation fast and every event distinct.
  const pool = alnum(rand, 1 << 20);
  const b = new CorpusBuilder(size);
  for (let seq = 1; !b.full; seq++) {
    const at = (rand() * (pool.length - payload)) | 0;
    const data = pool.slice(at, at + payload);
    b.add(`id: ${seq}\nevent: blob\ndata: ${data}\n\n`, [data]);
  }
  return b.finish("large-payloads", `${payload / 1024} KiB single-line data per event`);
}

/**
 * Multi-line data: 20 `data:` lines per event.
 * @param {CorpusOptions & { lines?: number }} [options]
 * @returns {Corpus}
 */
export function multiLine({ size = FULL_SIZE, seed = DEFAULT_SEED, lines = 20 } = {}) {
  const rand = prng(seed);
  const b = new CorpusBuilder(size);
  for (let seq = 1; !b.full; seq++) {
    const values = [];
    let block = `id: ${seq}\n`;
    for (let i = 0; i < lines; i++) {
      const value = `${i}: ${alnum(rand, 8 + ((rand() * 40) | 0))}`;
      values.push(value);
      block += `data: ${value}\n`;
    }
    b.add(block + "\n", values);
  }
  return b.finish("multi-line", `${lines} data lines per event`);
}

/**
 * Heartbeat-heavy: 1 to 4 `: ping` comment blocks between small events.
 * @param {CorpusOptions} [options]
 * @returns {Corpus}
 */
export function heartbeats({ size = FULL_SIZE, seed = DEFAULT_SEED } = {}) {
  const rand = prng(seed);
  const b = new CorpusBuilder(size);
  for (let seq = 1; !b.full; seq++) {
    const pings = 1 + ((rand() * 4) | 0);
    b.add(": ping\n\n".repeat(pings), null);
    const data = `{"n":${seq},"ok":true}`;
    b.add(`id: ${seq}\ndata: ${data}\n\n`, [data]);
  }
  return b.finish("heartbeats", "`: ping` comments between small events");
}

// Code points from several scripts; the emoji are outside the BMP (two UTF-16 units each).
const WORDS = [
  "市場", "価格", "更新", "東京", "北京", "서울", "데이터", "Ελλάδα", "Привет", "café",
  "naïve", "Zürich", "😀", "🚀", "📈", "👍🏽", "🇯🇵", "∑", "—", "€",
];

/**
 * Non-ASCII UTF-8 data: CJK, Hangul, Greek, Cyrillic, Latin accents, emoji.
 * @param {CorpusOptions} [options]
 * @returns {Corpus}
 */
export function utf8Text({ size = FULL_SIZE, seed = DEFAULT_SEED } = {}) {
  const rand = prng(seed);
  const b = new CorpusBuilder(size);
  for (let seq = 1; !b.full; seq++) {
    const n = 4 + ((rand() * 16) | 0);
    let text = "";
    for (let i = 0; i < n; i++) text += (i ? " " : "") + WORDS[(rand() * WORDS.length) | 0];
    const data = `{"u":"ユーザー${seq % 97}","m":"${text}"}`;
    b.add(`id: ${seq}\nevent: chat\ndata: ${data}\n\n`, [data]);
  }
  return b.finish("utf8", "non-ASCII data: CJK, Hangul, Greek, Cyrillic, emoji");
}

/** Every workload, in report order. */
export const WORKLOADS = /** @type {const} */ ([
  { name: "market-ticks", generate: marketTicks },
  { name: "market-ticks-crlf", generate: marketTicksCrlf },
  { name: "short-ticks", generate: shortTicks },
  { name: "large-payloads", generate: largePayloads },
  { name: "multi-line", generate: multiLine },
  { name: "heartbeats", generate: heartbeats },
  { name: "utf8", generate: utf8Text },
]);

/**
 * Cuts a corpus into chunks of `size` bytes (the last one shorter). The chunks are views
 * (Buffers) of the corpus, cut once, so every implementation receives the same chunks.
 * @param {Uint8Array} bytes
 * @param {number} size
 * @returns {Buffer[]}
 */
export function cutChunks(bytes, size) {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks = [];
  for (let i = 0; i < buf.length; i += size) chunks.push(buf.subarray(i, i + size));
  return chunks;
}
