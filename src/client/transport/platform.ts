/**
 * What the fetch transport asks of the platform it runs on. The browser build has
 * platform.browser.ts instead: a page or worker, with a fetch that takes every field.
 */
import type { FetchLike, FetchLikeInit, FetchLikeResponse } from "./types.js";

/**
 * True in the browser build only (platform.browser.ts), where the transport is always a page's
 * or worker's fetch. A constant, so that tsup folds it into the tests of it (its `minifySyntax`)
 * and what only other runtimes run (the Node transport's cache headers and decoding errors,
 * Fetch's redirect steps, unref'd timers) is left out of dist/browser.js.
 */
export const BROWSER_BUILD: boolean = false;

/**
 * Whether this global is a page or a worker (jsdom and happy-dom count as pages). There fetch
 * applies CORS: a `"manual"` redirect is an opaque response with status 0, and a request
 * header that is not CORS-safelisted costs a preflight. Deno, workerd and Node show a redirect
 * as it is, and have no CORS.
 */
export function inBrowser(): boolean {
  const g = globalThis as { document?: unknown; importScripts?: unknown };
  return (typeof g.document === "object" && g.document !== null) || typeof g.importScripts === "function";
}

/** Fetches that threw on the `cache` field: asked without it from then on. */
const refusesCache = new WeakSet<FetchLike>();

/**
 * fetch, and once more without `cache` if the platform refuses that field: workerd on an
 * older compatibility date throws "The 'cache' field on 'RequestInitializerDict' is not
 * implemented" on every call, which would otherwise be a network error retried forever.
 */
export async function send(fetchFn: FetchLike, url: string, init: FetchLikeInit): Promise<FetchLikeResponse> {
  if (refusesCache.has(fetchFn)) delete init.cache;
  try {
    return await fetchFn(url, init);
  } catch (error) {
    if (init.cache === undefined || !isCacheFieldRefusal(error)) throw error;
    refusesCache.add(fetchFn);
    delete init.cache;
    return fetchFn(url, init);
  }
}

function isCacheFieldRefusal(error: unknown): boolean {
  const message = error instanceof Error ? error.message : "";
  return /\bcache\b/i.test(message) && /not (?:yet )?(?:implemented|supported)|unsupported/i.test(message);
}
