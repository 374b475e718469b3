// Compiled with exactOptionalPropertyTypes: every optional option also takes `undefined`,
// so options can be passed through from a user's own optional fields.
import { EventSource } from "eventsource-wasm";
import { createParser } from "eventsource-wasm/parser";

declare const maybe: { signal?: AbortSignal | undefined; lastEventId?: string | undefined };

new EventSource("https://example.com/feed", {
  withCredentials: undefined,
  headers: undefined,
  method: undefined,
  body: undefined,
  fetch: undefined,
  lastEventId: maybe.lastEventId,
  reconnect: { initialDelay: undefined, maxDelay: undefined, factor: undefined, jitter: undefined, maxAttempts: undefined },
  idleTimeout: undefined,
  signal: maybe.signal,
  engine: undefined,
  maxEventSize: undefined,
  maxRedirects: undefined,
  sensitiveHeaders: undefined,
});
new EventSource("https://example.com/feed", { reconnect: undefined });
new EventSource("https://example.com/feed").events({ types: undefined, maxBuffered: undefined });

createParser(
  { onEvent() {}, onRetry: undefined, onComment: undefined, onError: undefined },
  { engine: undefined, maxEventSize: undefined, lastEventId: undefined },
);
