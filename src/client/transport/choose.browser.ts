/**
 * choose.ts in the browser build: a page's or worker's fetch, the global one or the `fetch`
 * option. The options that configure the Node transport are refused, as they are on every
 * runtime without it, rather than silently connecting directly or with the default trust.
 */
import type { chooseTransport as choose } from "./choose.js";
import { defaultTransport } from "./default.js";
import { fetchTransport } from "./fetch.js";

export const chooseTransport: typeof choose = (options) => {
  if (options.tls || options.proxy || (options.compression ?? true) !== true || (options.http2 ?? "auto") !== "auto") {
    throw new TypeError("tls, proxy, compression and http2 configure the Node transport, which a browser does not have");
  }
  return { transport: options.fetch ? fetchTransport(options.fetch, { browser: true }) : defaultTransport, browser: true };
};
