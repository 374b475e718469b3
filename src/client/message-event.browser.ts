/**
 * message-event.ts in the browser build: a browser's MessageEvent is native, and cheap to
 * make, so the runtime's own is used as it is (what message-event.ts does there too).
 */
import type { makeMessageEvent as make } from "./message-event.js";

export const makeMessageEvent: typeof make = (type, data, origin, lastEventId) =>
  new MessageEvent(type, { data, origin, lastEventId });
