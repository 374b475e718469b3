// The parser as a WHATWG TransformStream: bytes (or strings) in, parsed events out, for
// `response.body.pipeThrough(new ParserStream())`, as eventsource-parser/stream offers (but
// on bytes, so no TextDecoderStream is needed in front of it).

import { createParser } from "./create.js";
import type { ParseError } from "./errors.js";
import type { EngineName, EventStreamParser, ParsedEvent, ParserOptions } from "./types.js";

export interface ParserStreamOptions extends ParserOptions {
  /** A `retry` field whose value is all ASCII digits: the new reconnection time in ms. */
  onRetry?: ((ms: number) => void) | undefined;
  /** A comment line (a line starting with `:`), without the colon and one leading space. */
  onComment?: ((comment: string) => void) | undefined;
  /**
   * What a parse error (an event over `maxEventSize`) does: `"terminate"` errors the stream
   * with the `ParseError` and parses nothing more; a function is called with it while
   * parsing goes on at the next event. Default: the event is dropped silently.
   */
  onError?: "terminate" | ((error: ParseError) => void) | undefined;
}

/** A TransformStream from the bytes (or strings) of an event stream to its events. */
export interface ParserStream extends TransformStream<Uint8Array | string, ParsedEvent> {
  /** The engine in use. */
  readonly engine: EngineName;
  /** The last event ID string: set by `id` fields when a blank line ends their block. */
  readonly lastEventId: string;
}

/**
 * Parses a Server-Sent Events byte stream: write the bytes of an event stream (or strings,
 * which are UTF-8 encoded), read `{ type, data, lastEventId }` objects, one per dispatched
 * event. The end of the input ends the stream as the spec says: an unfinished event is
 * discarded.
 *
 * @example
 * const events = response.body.pipeThrough(new ParserStream());
 * for await (const event of events) console.log(event.type, event.data);
 */
// A class made by a pure call: a class that extends a global (TransformStream) counts as a
// side effect to bundlers, so an app that never used it still carried it (240 bytes gzipped of
// the parser-only app); the call marked pure is dropped when ParserStream is not imported. A
// named function, not an arrow called at once, which a build that minifies syntax (the browser
// parser build) would unwrap into the class itself (208 bytes of the EventSource app).
export const ParserStream: {
  new (options?: ParserStreamOptions): ParserStream;
  readonly prototype: ParserStream;
} = /* @__PURE__ */ parserStreamClass();

function parserStreamClass() {
  return class ParserStream extends TransformStream<Uint8Array | string, ParsedEvent> {
    readonly #parser: EventStreamParser;

    constructor(options: ParserStreamOptions = {}) {
      const { onRetry, onComment, onError, ...parserOptions } = options;
      if (onError !== undefined && onError !== "terminate" && typeof onError !== "function") {
        throw new TypeError('ParserStream: onError must be "terminate" or a function');
      }
      let controller!: TransformStreamDefaultController<ParsedEvent>;
      // Set when onError is "terminate" and an error came: the stream is errored, so nothing
      // may be enqueued any more.
      let terminated = false;
      // Made before super(): an invalid option throws from the constructor, not at the first
      // chunk. The callbacks only run from transform/flush, once `controller` is set.
      const parser: EventStreamParser = createParser(
        {
          onEvent: (event) => controller.enqueue(event),
          onRetry,
          onComment,
          onError:
            onError === "terminate"
              ? (error) => {
                  terminated = true;
                  // Stops the chunk being parsed: what follows the error is not read.
                  parser.end();
                  controller.error(error);
                }
              : onError,
        },
        parserOptions,
      );
      super({
        start: (c) => {
          controller = c;
        },
        transform: (chunk) => {
          if (terminated) return;
          if (typeof chunk !== "string" && !(chunk instanceof Uint8Array)) {
            throw new TypeError("ParserStream: chunks must be Uint8Array or string");
          }
          parser.feed(chunk);
        },
        flush: () => {
          if (!terminated) parser.end();
        },
      });
      this.#parser = parser;
    }

    /** The engine in use. */
    get engine(): EngineName {
      return this.#parser.engine;
    }

    /** The last event ID string: set by `id` fields when a blank line ends their block. */
    get lastEventId(): string {
      return this.#parser.lastEventId;
    }
  };
}
