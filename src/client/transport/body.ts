/**
 * What the fetch transport reads a response's body with. The browser build has body.browser.ts
 * instead: a browser's fetch gives a ReadableStream, and the Node-stream adapter stays out.
 */
import type { FetchLikeReader } from "./types.js";

/**
 * The response body as a reader factory, null for no body, or a string saying why it cannot
 * be read. Checked once the response arrives, so that a user `fetch` returning something else
 * (a string, undefined, a stream of another kind) fails the connection with a reason instead of
 * opening it and then throwing where nothing can catch.
 */
export function bodyOf(value: unknown): (() => FetchLikeReader) | null | string {
  if (value === null) return null;
  if (typeof value === "object" || typeof value === "function") {
    const v = value as { getReader?: unknown; [Symbol.asyncIterator]?: unknown };
    if (typeof v.getReader === "function") return () => (v.getReader as () => FetchLikeReader).call(value);
    // A Node Readable (node-fetch, got...): an async iterable of Buffers. Its iterator is
    // read one chunk at a time, which leaves pausing to us, as for a ReadableStream.
    const iterate = v[Symbol.asyncIterator];
    if (typeof iterate === "function") return () => iterableReader(iterate.call(value) as AsyncIterator<unknown>, value);
  }
  const kind = typeof value === "object" ? (value as object).constructor?.name ?? "object" : typeof value;
  return `the fetch response's body is not a ReadableStream or an async iterable of bytes (got ${kind})`;
}

function iterableReader(it: AsyncIterator<unknown>, source: unknown): FetchLikeReader {
  return {
    async read() {
      const r = await it.next();
      return r.done ? { done: true } : { done: false, value: r.value };
    },
    async cancel() {
      // return() ends a Node Readable's iterator by destroying the stream.
      await it.return?.();
      (source as { destroy?: () => void }).destroy?.();
    },
  };
}
