// The `fetch` option takes the runtime's own fetch, and a function that calls it.
import { EventSource } from "eventsource-wasm";

new EventSource("https://example.com/feed", { fetch });
new EventSource("https://example.com/feed", { fetch: globalThis.fetch });
new EventSource("https://example.com/feed", {
  fetch: (input, init) => fetch(input, { ...init, credentials: "include" }),
});
