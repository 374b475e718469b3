/**
 * The transport used when no `fetch` option is given, in browsers, workers and other runtimes
 * without `node:http`: the global `fetch`, looked up per request so that a polyfill installed
 * after import is used. In a page or a worker it asks for a native EventSource's request.
 */
import { fetchTransport } from "./fetch.js";
import { BROWSER_BUILD, inBrowser } from "./platform.js";
import type { FetchLike, NodeTransportOptions, Transport } from "./types.js";

export const defaultTransport: Transport = (request) => {
  if (typeof globalThis.fetch !== "function") {
    return Promise.reject(new TypeError("no global fetch: pass the `fetch` option"));
  }
  // In the browser build fetchTransport asks for a browser's request untold.
  return fetchTransport(globalThis.fetch as unknown as FetchLike, BROWSER_BUILD ? undefined : { browser: inBrowser() })(request);
};

/**
 * `tls` and `proxy` configure node:http(s), which this build does not have: refused where the
 * source is made, rather than silently connecting directly or with the default trust.
 */
export function configuredTransport(_options: NodeTransportOptions): Transport {
  throw new TypeError("the tls and proxy options need the Node transport; off Node, pass a `fetch` that does it");
}
