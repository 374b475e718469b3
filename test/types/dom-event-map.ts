// A browser or DOM-typed project writes its event map with the DOM's own MessageEvent.
import { EventSource } from "eventsource-wasm";

type Feed = { tick: MessageEvent<string> };
const source = new EventSource<Feed>("/feed");
source.addEventListener("tick", (e: MessageEvent<string>) => void e.data);
// @ts-expect-error a map entry must be MessageEvent<string>
new EventSource<{ tick: MessageEvent<ArrayBuffer> }>("/feed");
// The runtime's own EventSource and ours can be used side by side.
const native: globalThis.EventSource = new globalThis.EventSource("/feed");
native.close();
source.close();
