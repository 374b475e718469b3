/**
 * redirect.ts in the browser build: fetch follows redirects there (`redirect: "follow"`), so
 * no response this client sees is one to follow, and no body is ever dropped by one (the
 * browser deletes the body's headers itself).
 */
import type { isRequestBodyHeader as isBodyHeader, redirectOf as follow } from "./redirect.js";

export const redirectOf: typeof follow = () => null;
export const isRequestBodyHeader: typeof isBodyHeader = () => false;
