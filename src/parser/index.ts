// The parser's public surface, complete: what a parser-only entry offers, and what
// src/index.ts re-exports beside the EventSource. Nothing here reaches the client layer.
export { createParser, DEFAULT_MAX_EVENT_SIZE } from "./create.js";
export { ParseError } from "./errors.js";
export type { ParseErrorCode } from "./errors.js";
export { ParserStream } from "./stream.js";
export { useWasmModule } from "./wasm-module.js";
export type { ParserStreamOptions } from "./stream.js";
export type {
  EngineChoice,
  EngineName,
  EventStreamParser,
  ParsedEvent,
  ParserCallbacks,
  ParserOptions,
} from "./types.js";
