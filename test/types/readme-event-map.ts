// The README's EventSource example, as a user would paste it (its helpers declared here).
// MessageEvent comes from the package: without the DOM library there is no generic global
// one (@types/node's is not generic), and this must compile in a plain Node project.
import { EventSource, type EventSourceMessageEvent as MessageEvent } from "eventsource-wasm";

declare const tokens: { current(): Promise<string> };
declare const store: { get(key: string): Promise<string | undefined>; set(key: string, value: string): void };
declare const book: { update(tick: unknown): void };
declare const ledger: { record(trade: unknown): Promise<void> };

type Feed = { tick: MessageEvent<string>; trade: MessageEvent<string>; halt: MessageEvent<string> };

const source = new EventSource<Feed>("https://feed.example.com/v1/stream?symbols=AAPL,MSFT", {
  headers: async () => ({ authorization: `Bearer ${await tokens.current()}` }),
  lastEventId: (await store.get("feed:lastId")) ?? "",
  reconnect: { initialDelay: 1000, factor: 2, maxDelay: 30_000, jitter: 0.2, maxAttempts: 20 },
  idleTimeout: 45_000,
  maxEventSize: 1 << 20,
});

source.addEventListener("tick", (e) => book.update(JSON.parse(e.data)));
source.addEventListener("halt", (e) => console.warn("halted:", e.data));
source.addEventListener("error", (e) => {
  console.warn(`[feed] ${e.code}: ${e.message}${e.willReconnect ? " (reconnecting)" : ""}`);
});

let resumeId = source.lastEventId;
setInterval(() => store.set("feed:lastId", resumeId), 1000);
for await (const e of source.events({ types: ["trade"] })) {
  await ledger.record(JSON.parse(e.data));
  resumeId = e.lastEventId;
}
