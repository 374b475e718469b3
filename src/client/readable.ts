/**
 * `EventSource.fromReadableStream(stream)` (the WHATWG proposal whatwg/html#12272): a source
 * whose "response" is a stream the caller already has. It goes through the same request,
 * response and parsing steps as a network source, with a transport that hands over that
 * stream once: there is one code path, and no reconnection (the stream cannot be fetched
 * again).
 */
import type { FetchLike, FetchLikeReader } from "./transport/types.js";

/** The proposal's URL for a source made from a stream. */
export const STREAM_URL = "about:event-stream";

/** What `fromReadableStream` reads: a WHATWG `ReadableStream` of bytes (typed structurally). */
export interface EventStreamReadable {
  readonly locked: boolean;
  getReader(): FetchLikeReader;
}

/** The stream of a source under construction: the constructor's private path. */
export class StreamInput {
  readonly fetch: FetchLike;
  readonly #reader: FetchLikeReader;
  #taken = false;

  constructor(stream: unknown) {
    const s = stream as EventStreamReadable | null;
    if (typeof s !== "object" || s === null || typeof s.getReader !== "function") {
      throw new TypeError("EventSource.fromReadableStream: the argument is not a ReadableStream");
    }
    // Getting a reader "throws a TypeError if stream is locked": at once, in the caller.
    if (s.locked) throw new TypeError("EventSource.fromReadableStream: the stream is locked");
    const reader = s.getReader();
    this.#reader = reader;
    this.fetch = async () => {
      if (this.#taken) throw new TypeError("the stream of this source was read already");
      this.#taken = true;
      return {
        status: 200,
        statusText: "",
        headers: new Headers({ "content-type": "text/event-stream" }),
        body: { getReader: () => reader },
      };
    };
  }

  /** The source closed before its first read: the stream is cancelled all the same. */
  release(): void {
    if (this.#taken) return;
    this.#taken = true;
    this.#reader.cancel().catch(() => {});
  }

  toString(): string {
    return STREAM_URL;
  }
}
