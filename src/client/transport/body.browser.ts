/**
 * body.ts in the browser build: a ReadableStream (a browser's fetch gives one), or null. A
 * Node stream (node-fetch's body, which body.ts adapts) has no place in a page.
 */
import type { bodyOf as readerOf } from "./body.js";
import type { FetchLikeReader } from "./types.js";

export const bodyOf: typeof readerOf = (value) => {
  if (value === null) return null;
  const getReader = (value as { getReader?: unknown } | undefined)?.getReader;
  if (typeof getReader === "function") return () => getReader.call(value) as FetchLikeReader;
  const kind = typeof value === "object" ? (value as object).constructor?.name ?? "object" : typeof value;
  return `the fetch response's body is not a ReadableStream (got ${kind})`;
};
