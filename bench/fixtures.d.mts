// Types for bench/fixtures.mjs, so TypeScript tests can import it under `strict`.

export interface Corpus {
  /** workload name, e.g. "market-ticks" */
  name: string;
  /** one line, for reports */
  description: string;
  /** the whole stream */
  bytes: Buffer;
  /** events a spec-exact parser dispatches */
  events: number;
  /** sum of `data.length` (UTF-16 code units) over those events */
  dataLength: number;
  /** bytes of the largest event block in the stream */
  largestEvent: number;
}

export interface CorpusOptions {
  /** approximate size in bytes (the last event is completed); default FULL_SIZE */
  size?: number;
  /** PRNG seed; default DEFAULT_SEED */
  seed?: number;
  /** stop after this many events instead (when it comes before `size`) */
  events?: number;
}

export const FULL_SIZE: number;
export const DEFAULT_SEED: number;
export function prng(seed: number): () => number;
export function marketTicks(options?: CorpusOptions & { crlf?: boolean }): Corpus;
export function marketTicksCrlf(options?: CorpusOptions): Corpus;
export function shortTicks(options?: CorpusOptions): Corpus;
export function largePayloads(options?: CorpusOptions & { payload?: number }): Corpus;
export function multiLine(options?: CorpusOptions & { lines?: number }): Corpus;
export function heartbeats(options?: CorpusOptions): Corpus;
export function utf8Text(options?: CorpusOptions): Corpus;
export const WORKLOADS: readonly { readonly name: string; readonly generate: (options?: CorpusOptions) => Corpus }[];
export function cutChunks(bytes: Uint8Array, size: number): Buffer[];
