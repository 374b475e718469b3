// The transport an EventSource uses when no `fetch` option is given, off Node: the
// runtime's own fetch. Looked up at each request, not at import, so that a fetch installed
// or wrapped later (a polyfill, a test double) is the one used.
import { fetchTransport, type FetchLike } from "../transport.js";

export const defaultTransport = fetchTransport((input, init) =>
  (globalThis.fetch as unknown as FetchLike)(input, init),
);
