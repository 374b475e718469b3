/** The engines that can run the parser. `auto` picks WASM when it can be instantiated. */
export type EngineName = "wasm" | "js";
export type EngineChoice = "auto" | EngineName;

/** One dispatched event, as the spec's "dispatch the event" step produces it. */
export interface ParsedEvent {
  /** The event type buffer, or `"message"` when the stream named none. */
  type: string;
  /** The data buffer, with the final LF removed. */
  data: string;
  /** The last event ID string at dispatch time. */
  lastEventId: string;
}

export interface ParserCallbacks {
  onEvent(event: ParsedEvent): void;
  /** A `retry` field whose value is all ASCII digits: the new reconnection time in ms. */
  onRetry?: ((ms: number) => void) | undefined;
  /** A comment line (a line starting with `:`), without the colon. */
  onComment?: ((comment: string) => void) | undefined;
  /** A recoverable parse error, such as an event over `maxEventSize`. Parsing goes on. */
  onError?: ((error: import("./errors.js").ParseError) => void) | undefined;
}

export interface ParserOptions {
  /** `"auto"` (default) uses WASM when it can, else the TypeScript engine. */
  engine?: EngineChoice | undefined;
  /**
   * Bound on the bytes of one pending event: its data buffer, its event type buffer and the
   * line being read. Default 16 MiB (`DEFAULT_MAX_EVENT_SIZE`); `Infinity` for none.
   */
  maxEventSize?: number | undefined;
  /** Seeds the last event ID (as a browser does when it reconnects). Default `""`. */
  lastEventId?: string | undefined;
}

export interface EventStreamParser {
  /** Feed the next chunk of the stream (bytes, or a string which is UTF-8 encoded first). */
  feed(chunk: Uint8Array | string): void;
  /**
   * The stream ended: an unfinished event (and line) is discarded, as the spec says. The
   * parser is then ready for a new stream (a leading BOM is stripped again); the last event
   * ID is kept.
   */
  end(): void;
  /** Back to the state just after creation: pending input dropped, last event ID re-seeded. */
  reset(): void;
  /** The engine in use. */
  readonly engine: EngineName;
  /** The last event ID string: set by `id` fields when a blank line ends their block. */
  readonly lastEventId: string;
}
