// The recording file format of `eventsource-wasm record` / `replay` (docs/recording.md), read
// and written here only. Imports nothing but node: modules, so bench/parse.bench.mjs can load
// this file on its own (transpiled, outside the CLI bundle) and read recordings as corpora.
//
//   eventsource-wasm recording v1\n                     the magic line, with the version
//   {"url":...,"status":200,"headers":[[n,v],...]}\n    the response, one JSON line
//   <ms> <length>\n<length bytes>\n                     a frame: one body chunk as received
//   ...
//   <ms> end <reason>\n                                 why the recording stopped (optional)
//
// Written frame by frame as chunks arrive, each frame in one write, so a recorder killed
// mid-stream leaves a file that reads up to its last whole frame.

import { closeSync, openSync, readFileSync, writeSync } from "node:fs";

export const MAGIC = "eventsource-wasm recording v";
export const VERSION = 1;

/** The response the recording is of. */
export interface RecordingHeader {
  /** The URL whose response was recorded (after redirects). */
  url: string;
  /** When the response arrived (ISO 8601). */
  recordedAt: string;
  status: number;
  statusText: string;
  /** The response headers as received, in order, names lower case. */
  headers: [name: string, value: string][];
}

/** One body chunk: `at` ms after the response's headers arrived. */
export interface Frame {
  at: number;
  bytes: Uint8Array;
}

/**
 * Why a recording stopped: the server ended the body (`eof`), the connection failed
 * (`error`), or the recorder stopped it (`count`, `duration`, `signal`).
 */
export type EndReason = "eof" | "error" | "count" | "duration" | "signal";
const END_REASONS: readonly string[] = ["eof", "error", "count", "duration", "signal"];

export interface Recording {
  header: RecordingHeader;
  frames: Frame[];
  /** The end record; absent when the recorder was killed before writing one. */
  end: { at: number; reason: EndReason } | undefined;
  /** Byte offset of a last frame cut short (a recorder killed mid-write), which is left out. */
  truncatedAt: number | undefined;
}

/** A file that is not a readable recording; the message names the byte offset. */
export class RecordingError extends Error {
  override readonly name = "RecordingError";
}

const LF = 0x0a;
const FRAME_LINE = /^(\d{1,12}(?:\.\d{1,6})?) (?:(\d{1,12})|end ([a-z]+))$/;
// Frame lines are short; a longer "line" is not one (a binary or a text file that is not ours).
const MAX_LINE = 64;

/** A recording in `bytes` (a whole file). Frames are views into `bytes`, not copies. */
export function parseRecording(bytes: Uint8Array): Recording {
  const latin1 = (from: number, to: number) => Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString("latin1");
  const magicEnd = bytes.indexOf(LF);
  const magic = latin1(0, magicEnd < 0 ? Math.min(bytes.length, MAGIC.length + 8) : magicEnd);
  if (!magic.startsWith(MAGIC)) throw new RecordingError(`not a recording (it does not start with "${MAGIC}${VERSION}")`);
  const version = magic.slice(MAGIC.length);
  if (!/^\d+$/.test(version)) throw new RecordingError(`not a recording (bad version ${JSON.stringify(version)} on the first line)`);
  if (Number(version) !== VERSION) {
    throw new RecordingError(`recording format v${version}: this version of eventsource-wasm reads v${VERSION} only`);
  }
  const headerEnd = bytes.indexOf(LF, magicEnd + 1);
  if (magicEnd < 0 || headerEnd < 0) throw new RecordingError("cut short before the end of its header line (no frame to replay)");
  const header = parseHeader(Buffer.from(bytes.buffer, bytes.byteOffset + magicEnd + 1, headerEnd - magicEnd - 1).toString("utf8"));

  const frames: Frame[] = [];
  let end: Recording["end"];
  let truncatedAt: number | undefined;
  let last = 0;
  for (let pos = headerEnd + 1; pos < bytes.length; ) {
    if (end !== undefined) throw new RecordingError(`bytes after the end record, at byte ${pos}`);
    const lineEnd = bytes.indexOf(LF, pos);
    if (lineEnd < 0 || lineEnd - pos > MAX_LINE) {
      // No line end at all: the recorder stopped while writing this line.
      if (lineEnd < 0 && bytes.length - pos <= MAX_LINE && /^[\d. a-z]*$/.test(latin1(pos, bytes.length))) {
        truncatedAt = pos;
        break;
      }
      throw new RecordingError(`bad frame line at byte ${pos}`);
    }
    const line = latin1(pos, lineEnd);
    const m = FRAME_LINE.exec(line);
    if (m === null) throw new RecordingError(`bad frame line at byte ${pos}: ${JSON.stringify(line)}`);
    const at = Number(m[1]);
    if (at < last) throw new RecordingError(`frame at byte ${pos} is earlier (${at} ms) than the one before it (${last} ms)`);
    last = at;
    if (m[3] !== undefined) {
      if (!END_REASONS.includes(m[3])) throw new RecordingError(`unknown end reason ${JSON.stringify(m[3])} at byte ${pos}`);
      end = { at, reason: m[3] as EndReason };
      pos = lineEnd + 1;
      continue;
    }
    const start = lineEnd + 1;
    const stop = start + Number(m[2]);
    if (stop + 1 > bytes.length) {
      truncatedAt = pos;
      break;
    }
    if (bytes[stop] !== LF) throw new RecordingError(`frame at byte ${pos} does not end where its length (${m[2]}) says`);
    frames.push({ at, bytes: bytes.subarray(start, stop) });
    pos = stop + 1;
  }
  return { header, frames, end, truncatedAt };
}

function parseHeader(text: string): RecordingHeader {
  let h: unknown;
  try {
    h = JSON.parse(text);
  } catch {
    throw new RecordingError("bad header line (not JSON)");
  }
  const o = h as Partial<RecordingHeader> | null;
  const status = o?.status;
  if (typeof status !== "number" || !Number.isInteger(status) || status < 100 || status > 999) {
    throw new RecordingError("bad header line (no HTTP status)");
  }
  const headers = o?.headers;
  if (!Array.isArray(headers) || !headers.every((p) => Array.isArray(p) && p.length === 2 && p.every((s) => typeof s === "string"))) {
    throw new RecordingError('bad header line ("headers" is not a list of [name, value] pairs)');
  }
  // What an HTTP server can send again: a token for a name, no line break or NUL in a value.
  for (const [name, value] of headers) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(value)) {
      throw new RecordingError(`bad header line (header ${JSON.stringify(name)} cannot be sent)`);
    }
  }
  return {
    url: typeof o?.url === "string" ? o.url : "",
    recordedAt: typeof o?.recordedAt === "string" ? o.recordedAt : "",
    status,
    statusText: typeof o?.statusText === "string" ? o.statusText : "",
    headers,
  };
}

/** Reads a recording file (throws RecordingError for a bad one, a Node error if unreadable). */
export function readRecording(path: string): Recording {
  return parseRecording(readFileSync(path));
}

/** Times in ms, to the microsecond: enough for chunk timings, short enough to read. */
function ms(at: number): string {
  return String(Math.round(Math.max(0, at) * 1000) / 1000);
}

/** Writes a recording as it goes: each call is one synchronous write, so nothing is held back. */
export class RecordingWriter {
  readonly #fd: number;
  #closed = false;

  /** Creates (or replaces) `path` and writes the magic and header lines. */
  constructor(path: string, header: RecordingHeader) {
    this.#fd = openSync(path, "w");
    this.#write(Buffer.from(`${MAGIC}${VERSION}\n${JSON.stringify(header)}\n`, "utf8"));
  }

  frame(at: number, bytes: Uint8Array): void {
    const head = Buffer.from(`${ms(at)} ${bytes.byteLength}\n`, "latin1");
    const frame = Buffer.allocUnsafe(head.length + bytes.byteLength + 1);
    frame.set(head, 0);
    frame.set(bytes, head.length);
    frame[frame.length - 1] = LF;
    this.#write(frame);
  }

  end(at: number, reason: EndReason): void {
    this.#write(Buffer.from(`${ms(at)} end ${reason}\n`, "latin1"));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }

  #write(buf: Uint8Array): void {
    for (let off = 0; off < buf.length; ) off += writeSync(this.#fd, buf, off);
  }
}
