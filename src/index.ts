export { createParser, DEFAULT_MAX_EVENT_SIZE } from "./parser/index.js";
export { ParseError } from "./parser/errors.js";
export type { ParseErrorCode } from "./parser/errors.js";
export type {
  EngineChoice,
  EngineName,
  EventStreamParser,
  ParsedEvent,
  ParserCallbacks,
  ParserOptions,
} from "./parser/types.js";
export { EventSource, EventSourceErrorEvent, EventSourceError } from "./client/event-source.js";
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
} from "./client/event-source.js";
