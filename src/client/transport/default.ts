// The transport an EventSource uses when no `fetch` option is given, on Node (and wherever
// the package's "node" export condition applies): node:http moved the same bytes with less
// CPU than Node's fetch (see transport.ts). Builds for browsers, workers and other
// runtimes swap this file for default.web.ts (tsup.config.ts), so they never see node:http.
export { nodeTransport as defaultTransport } from "../transport.js";
