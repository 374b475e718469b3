import { createParser } from "../../src/parser/index.js";
import type { EngineName } from "../../src/parser/types.js";
import type { OracleResult, Output } from "./oracle.js";

export const enc = new TextEncoder();

/** Cuts `bytes` at the given offsets (sorted or not, out-of-range ones ignored). */
export function cut(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const points = [...new Set(offsets.filter((o) => o > 0 && o < bytes.length))].sort(
    (a, b) => a - b,
  );
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(start, p));
    start = p;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

export function everyByte(bytes: Uint8Array): Uint8Array[] {
  return Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
}

/** Feeds the chunks to a parser of the given engine, then ends the stream. */
export function collect(
  engine: EngineName,
  chunks: Iterable<Uint8Array>,
  options: { maxEventSize?: number; lastEventId?: string } = {},
): OracleResult {
  const outputs: Output[] = [];
  const parser = createParser(
    {
      onEvent: (e) =>
        outputs.push({ kind: "event", type: e.type, data: e.data, lastEventId: e.lastEventId }),
      onRetry: (ms) => outputs.push({ kind: "retry", ms }),
      onComment: (text) => outputs.push({ kind: "comment", text }),
      onError: (err) => outputs.push({ kind: "error", code: err.code }),
    },
    { engine, ...options },
  );
  // A copy, overwritten after each feed: the parser must not keep references to our bytes.
  for (const chunk of chunks) {
    const copy = chunk.slice();
    parser.feed(copy);
    copy.fill(0x41);
  }
  parser.end();
  return { outputs, lastEventId: parser.lastEventId };
}
