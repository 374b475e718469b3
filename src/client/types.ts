/**
 * The event and listener types of the public API, written out here rather than taken from
 * the DOM library: the declarations must compile with `"lib": ["ES2022"]` and `@types/node`
 * alone (whose `MessageEvent` is not generic and which has no `AddEventListenerOptions`), and
 * with the DOM library too. Each is a structural subset of the DOM type of the same role, so
 * DOM events and listeners fit them.
 */
import type { EngineName } from "../parser/types.js";
import type { EventSourceErrorEvent } from "./errors.js";

/** `source.stats`: a snapshot of a source's counters. */
export interface EventSourceStats {
  /** Events received on open connections (dispatched, yielded or batched; once each). */
  events: number;
  /** Response body bytes received (after any HTTP decoding). */
  bytes: number;
  /** Connections that opened (a 200 `text/event-stream` response). */
  connections: number;
  /** Reconnection attempts started. */
  reconnects: number;
  /** Events dropped by iterators' overflow policies (summed over iterators). */
  dropped: number;
  /** Events discarded by the parser (over `maxEventSize`). */
  parseErrors: number;
  /** `Date.now()` when the last chunk that carried events was parsed, or null. */
  lastEventAt: number | null;
  /** The parser engine in use. */
  engine: EngineName;
}

/**
 * A message event as this library dispatches it: the runtime's own `MessageEvent` (type
 * "message" or the stream's event type). DOM's `MessageEvent<string>` and Node's global
 * `MessageEvent` are both assignable to it.
 */
export interface EventSourceMessageEvent<Data = string> extends Event {
  readonly data: Data;
  /** The last event ID string when the event was dispatched. */
  readonly lastEventId: string;
  /** The origin of the stream's final URL (after redirects). */
  readonly origin: string;
}

/** The events every source has, for typed listeners. */
export interface EventSourceBaseEventMap {
  open: Event;
  message: EventSourceMessageEvent;
  error: EventSourceErrorEvent;
}

/** The event map of a source: the built-in events, plus the caller's named events. */
export type EventSourceEventMap<Events extends { [K in keyof Events]: EventSourceMessageEvent }> = Omit<
  EventSourceBaseEventMap,
  keyof Events
> &
  Events;

/**
 * The event types an iterator of a source can ask for: any string for an untyped source; for
 * a typed one, "message" and its named events, so that a typo is a type error.
 */
export type MessageEventType<Events> = [keyof Events] extends [never] ? string : "message" | (keyof Events & string);

/** What an iterator over `types` yields. */
export type MessageEventOf<Events, K extends string> = K extends keyof Events ? Events[K] : EventSourceMessageEvent;

export interface EventSourceListenerOptions {
  capture?: boolean | undefined;
}

export interface EventSourceAddListenerOptions extends EventSourceListenerOptions {
  once?: boolean | undefined;
  passive?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

/** A listener for any event type: a function, or an object with `handleEvent`. */
export type EventSourceListener =
  | ((event: Event) => unknown)
  | { handleEvent(event: Event): unknown };
