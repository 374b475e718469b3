// `eventsource-wasm/parser`: the parser alone.
import {
  createParser,
  DEFAULT_MAX_EVENT_SIZE,
  ParseError,
  type EventStreamParser,
  type ParsedEvent,
} from "eventsource-wasm/parser";

const events: ParsedEvent[] = [];
const parser: EventStreamParser = createParser(
  {
    onEvent: (e) => events.push(e),
    onError: (error) => {
      const e: ParseError = error;
      const code: "EVENT_TOO_LARGE" = e.code;
      void code;
    },
  },
  { engine: "auto", maxEventSize: DEFAULT_MAX_EVENT_SIZE },
);
parser.feed(new Uint8Array([100, 97, 116, 97, 10, 10]));
parser.feed("data: x\n\n");
parser.end();
const engine: "wasm" | "js" = parser.engine;
void engine;
// @ts-expect-error the engine is "auto", "wasm" or "js"
createParser({ onEvent() {} }, { engine: "asm" });
