// createParser: the engine selection and option checks.
import { JsParser } from "./js.js";
import { WasmParser, wasmUnavailableReason } from "./wasm.js";
import type { EventStreamParser, ParserCallbacks, ParserOptions } from "./types.js";

/** The default bound on one pending event: 16 MiB. */
export const DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024;

/**
 * A streaming Server-Sent Events parser: feed it the bytes of an event stream as they
 * arrive and it calls `onEvent` for each event, exactly as the WHATWG HTML spec's "event
 * stream interpretation" dispatches them (see docs/PARSER.md).
 */
export function createParser(
  callbacks: ParserCallbacks,
  options: ParserOptions = {},
): EventStreamParser {
  if (typeof callbacks?.onEvent !== "function") {
    throw new TypeError("createParser: callbacks.onEvent must be a function");
  }
  const { engine = "auto", maxEventSize = DEFAULT_MAX_EVENT_SIZE, lastEventId = "" } = options;
  if (engine !== "auto" && engine !== "wasm" && engine !== "js") {
    throw new TypeError(`engine must be "auto", "wasm" or "js", got ${JSON.stringify(engine)}`);
  }
  if (
    typeof maxEventSize !== "number" ||
    Number.isNaN(maxEventSize) ||
    maxEventSize < 1 ||
    (Number.isFinite(maxEventSize) && !Number.isInteger(maxEventSize))
  ) {
    throw new RangeError(
      `maxEventSize must be a positive integer or Infinity, got ${String(maxEventSize)}`,
    );
  }
  if (typeof lastEventId !== "string") {
    throw new TypeError("lastEventId must be a string");
  }
  if (engine !== "js") {
    // "auto" falls back silently; an explicit "wasm" says why it cannot run.
    const reason = wasmUnavailableReason();
    if (reason === undefined) return new WasmParser(callbacks, maxEventSize, lastEventId);
    if (engine === "wasm") throw new Error(`engine "wasm" is not available: ${reason}`);
  }
  return new JsParser(callbacks, maxEventSize, lastEventId);
}
