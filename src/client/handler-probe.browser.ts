/**
 * handler-probe.ts in the browser build: a browser's dispatchEvent calls listeners only, never
 * an `on<type>` property of a subclass, as Chromium, Firefox and WebKit show (the browser
 * suite compares every handler's calls with the native EventSource's).
 */
import type { platformCallsHandlers as probe } from "./handler-probe.js";

export const platformCallsHandlers: typeof probe = () => false;
