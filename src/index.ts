// The package's main entry: the parser (also on its own as `eventsource-wasm/parser`) and
// the EventSource client.
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
export { EventSource } from "./client/event-source.js";
export type { EventStreamReadable } from "./client/readable.js";
export { EventSourceErrorEvent, EventSourceError } from "./client/errors.js";
export type { EventSourceErrorCode, EventSourceErrorInit } from "./client/errors.js";
export type {
  EventSourceAddListenerOptions,
  EventSourceBaseEventMap,
  EventSourceEventMap,
  EventSourceListener,
  EventSourceListenerOptions,
  EventSourceMessageEvent,
  EventSourceStats,
} from "./client/types.js";
export type {
  BatchesOptions,
  EventSourceHooks,
  EventSourceOptions,
  EventsOptions,
  GiveUpInfo,
  OpenInfo,
  Overflow,
  ReadableStreamSourceOptions,
  ReconnectInfo,
  ReconnectOptions,
  RetryContext,
} from "./client/options.js";
export type { HeadersLike } from "./client/connection.js";
export type { FetchLike, FetchLikeInit, FetchLikeReader, FetchLikeResponse } from "./client/transport/types.js";
