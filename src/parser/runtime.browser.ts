/**
 * runtime.ts in the browser build (pages and workers): no Node buffer module, and no
 * environment (EVENTSOURCE_NO_WASM cannot be set in a page). Constants, so
 * that the build inlines them and an app's minifier drops the branches that test them.
 */
import type * as runtime from "./runtime.js";

export const nodeBuffer: typeof runtime.nodeBuffer = undefined;
export const latin1Slice: typeof runtime.latin1Slice = undefined;
export const ucs2Slice: typeof runtime.ucs2Slice = undefined;
export const nodeIsAscii: typeof runtime.nodeIsAscii = undefined;
export const readEnv: typeof runtime.readEnv = undefined;
