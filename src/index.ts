export { createParser, DEFAULT_MAX_EVENT_SIZE } from "./parser.js";
export { ParseError } from "./errors.js";
export type { ParseErrorCode } from "./errors.js";
export type {
  EngineChoice,
  EngineName,
  EventStreamParser,
  ParsedEvent,
  ParserCallbacks,
  ParserOptions,
} from "./types.js";
export { EventSource, EventSourceErrorEvent, EventSourceError } from "./event-source.js";
export type {
  EventSourceOptions,
  EventSourceErrorCode,
  EventSourceErrorInit,
  EventSourceStats,
  EventSourceEventMap,
  EventSourceBaseEventMap,
  EventsOptions,
  ReconnectOptions,
  HeadersLike,
  FetchLike,
  FetchLikeInit,
  FetchLikeResponse,
} from "./event-source.js";
