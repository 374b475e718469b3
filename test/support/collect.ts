import { createParser } from "../../src/parser/index.js";
import type { EngineName, ParserCallbacks } from "../../src/parser/types.js";
import type { OracleResult, Output } from "./oracle.js";

export const enc = new TextEncoder();

/** The engines this runtime can run (both on Node; "js" alone where WebAssembly is refused). */
export const runnableEngines: EngineName[] = (["js", "wasm"] as const).filter((engine) => {
  try {
    return createParser({ onEvent() {} }, { engine }).engine === engine;
  } catch {
    return false;
  }
});

/** Cuts `input` (bytes, as views, or a string) at the given offsets (sorted or not, out-of-range ones ignored). */
export function cut<T extends Uint8Array | string>(input: T, offsets: number[]): T[] {
  const points = [...new Set(offsets.filter((o) => o > 0 && o < input.length))].sort(
    (a, b) => a - b,
  );
  const piece = (from: number, to?: number): T =>
    (typeof input === "string" ? input.slice(from, to) : input.subarray(from, to)) as T;
  const chunks: T[] = [];
  let start = 0;
  for (const p of points) {
    chunks.push(piece(start, p));
    start = p;
  }
  chunks.push(piece(start));
  return chunks;
}

/** Parser callbacks that record everything the parser reports into `outputs`, as the oracle does. */
export function recording(outputs: Output[]): ParserCallbacks {
  return {
    onEvent: (e) => outputs.push({ kind: "event", type: e.type, data: e.data, lastEventId: e.lastEventId }),
    onRetry: (ms) => outputs.push({ kind: "retry", ms }),
    onComment: (text) => outputs.push({ kind: "comment", text }),
    onError: (err) => outputs.push({ kind: "error", code: err.code }),
  };
}

/** The `data` of the next `count` items of an iterator; throws if it ends first. */
export async function takeData(it: AsyncIterator<{ data: string }>, count: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = await it.next();
    if (r.done) throw new Error(`ended after ${out.length} of ${count}`);
    out.push(r.value.data);
  }
  return out;
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
  const parser = createParser(recording(outputs), { engine, ...options });
  // A copy, overwritten after each feed: the parser must not keep references to our bytes.
  for (const chunk of chunks) {
    const copy = chunk.slice();
    parser.feed(copy);
    copy.fill(0x41);
  }
  parser.end();
  return { outputs, lastEventId: parser.lastEventId };
}
