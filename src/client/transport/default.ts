/**
 * The transport used when no `fetch` option is given, on Node (and on runtimes that take the
 * package's "node" export condition). The web and browser builds replace this module with
 * default.web.ts (through default.browser.ts in the browser build), so that their bundles
 * never see `node:http`.
 */
export { nodeTransport as defaultTransport, createNodeTransport as configuredTransport } from "./node.js";
