// The `fetch` option takes the global fetch, undici's fetch, and a function that wraps one
// (the README's way to a proxy: undici's fetch with a dispatcher).
import { EventSource } from "eventsource-wasm";
import { ProxyAgent, fetch as undiciFetch } from "undici";

new EventSource("https://example.com/feed", { fetch });
new EventSource("https://example.com/feed", { fetch: globalThis.fetch });
new EventSource("https://example.com/feed", { fetch: undiciFetch });

const dispatcher = new ProxyAgent("http://127.0.0.1:3128");
new EventSource("https://example.com/feed", {
  fetch: (input, init) => undiciFetch(input, { ...init, dispatcher }),
});
