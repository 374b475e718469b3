// Typed event maps: what they admit, what listeners and iterators get, and typos caught.
import { EventSource, type EventSourceErrorEvent, type EventSourceMessageEvent as MessageEvent } from "eventsource-wasm";

type Feed = { tick: MessageEvent<string>; halt: MessageEvent<string> };
const source = new EventSource<Feed>("https://example.com/feed");

source.addEventListener("tick", (e) => {
  const data: string = e.data;
  const id: string = e.lastEventId;
  void data, id;
});
source.addEventListener("error", (e) => {
  const err: EventSourceErrorEvent = e;
  void err;
});
source.addEventListener("open", (e) => void e.type);
source.onmessage = (e) => {
  const data: string = e.data;
  void data;
};

// Events are MessageEvent<string>: the parser makes strings, never anything else.
// @ts-expect-error a map entry must be MessageEvent<string>
new EventSource<{ tick: MessageEvent<number> }>("https://example.com/feed");
// @ts-expect-error a map entry must be MessageEvent<string>, not a plain Event
new EventSource<{ tick: Event }>("https://example.com/feed");
// @ts-expect-error a map entry must be MessageEvent<string>, not its data
new EventSource<{ tick: string }>("https://example.com/feed");

async function iterate(): Promise<void> {
  for await (const e of source.events({ types: ["tick", "halt"] })) {
    const data: string = e.data;
    void data;
  }
  // @ts-expect-error "tikc" is not an event of the map
  source.events({ types: ["tikc"] });
  for await (const e of source) {
    const data: string = e.data;
    void data;
  }
}
void iterate;

// An untyped source takes any event name.
const plain = new EventSource("https://example.com/feed");
plain.addEventListener("anything", (e) => void e);
plain.events({ types: ["anything", "message"] });
