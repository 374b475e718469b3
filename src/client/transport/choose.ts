/**
 * The transport a source's options ask for. The browser build has choose.browser.ts instead:
 * there the only transport is fetch.
 */
import { compressionOption, type EventSourceOptions, http2Option } from "../options.js";
import { configuredTransport, defaultTransport } from "./default.js";
import { fetchTransport } from "./fetch.js";
import { inBrowser } from "./platform.js";
import type { Transport } from "./types.js";

/**
 * The transport, and whether it is a page's or worker's fetch (see inBrowser): then the
 * request is the one a native EventSource makes (no cache headers, which would cost a CORS
 * preflight), and the browser follows redirects.
 */
export function chooseTransport(options: EventSourceOptions): { readonly transport: Transport; readonly browser: boolean } {
  const compression = compressionOption(options.compression);
  const http2 = http2Option(options.http2);
  if (options.fetch && (options.tls || options.proxy || !compression || http2 !== "auto")) {
    // A fetch has its own way (a dispatcher, an agent): silently ignoring these would
    // connect directly, or with the default trust, where the caller asked otherwise.
    throw new TypeError("the tls, proxy, compression and http2 options configure the Node transport: with `fetch`, configure that fetch");
  }
  const browser = !(options.tls || options.proxy) && inBrowser();
  const transport = options.fetch
    ? fetchTransport(options.fetch, { browser })
    : options.tls || options.proxy || !compression || http2 !== "auto"
      ? configuredTransport({ tls: options.tls, proxy: options.proxy, compression, http2 })
      : defaultTransport;
  return { transport, browser };
}
