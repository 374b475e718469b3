export { createParser, DEFAULT_MAX_EVENT_SIZE, ParseError, ParserStream } from "./parser/index.js";
export type {
  EngineChoice,
  EngineName,
  EventStreamParser,
  ParsedEvent,
  ParseErrorCode,
  ParserCallbacks,
  ParserOptions,
  ParserStreamOptions,
} from "./parser/index.js";
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
