/**
 * platform.ts in the browser build, which bundlers give to pages and workers: always a
 * browser, whose fetch takes the `cache` field. (Elsewhere, under a bundler that takes the
 * "browser" condition all the same, fetch still follows redirects and ignores what it has no
 * use for: `mode` and `credentials`.)
 */
import type { BROWSER_BUILD as isBrowserBuild, inBrowser as isBrowser, send as fetchWith } from "./platform.js";

export const BROWSER_BUILD: typeof isBrowserBuild = true;

export const inBrowser: typeof isBrowser = () => true;

export const send: typeof fetchWith = (fetchFn, url, init) => fetchFn(url, init);
