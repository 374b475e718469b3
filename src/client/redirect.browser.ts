/**
 * redirect.ts in the browser build: fetch follows redirects there (`redirect: "follow"`), so
 * no response this client sees is one to follow.
 */
import type { redirectOf as follow } from "./redirect.js";

export const redirectOf: typeof follow = () => null;
