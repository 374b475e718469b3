/**
 * failures.ts in the browser build: a browser's fetch fails with a bare TypeError ("Failed to
 * fetch"), whose cause carries no code to tell a refused certificate or a corrupt body from a
 * network error, so every failure is one that a reconnection may get past.
 */
import type { decodingFailure as decoding, tlsFailure as tls } from "./failures.js";

export const tlsFailure: typeof tls = () => null;
export const decodingFailure: typeof decoding = () => null;
