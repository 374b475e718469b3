export type ParseErrorCode = "EVENT_TOO_LARGE";

/**
 * A recoverable error found while parsing. The parser reports it through `onError` and
 * carries on at the next event boundary; nothing already dispatched is lost.
 */
export class ParseError extends Error {
  override readonly name = "ParseError";
  readonly code: ParseErrorCode;
  /** For EVENT_TOO_LARGE: the limit in bytes. */
  readonly maxEventSize: number;

  constructor(code: ParseErrorCode, message: string, maxEventSize: number) {
    super(message);
    this.code = code;
    this.maxEventSize = maxEventSize;
  }
}

export function eventTooLarge(maxEventSize: number): ParseError {
  return new ParseError(
    "EVENT_TOO_LARGE",
    `event over maxEventSize (${maxEventSize} bytes) discarded; parsing resumes at the next event`,
    maxEventSize,
  );
}
