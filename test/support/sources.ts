/**
 * The EventSources of a test file: opened with a short reconnection time (a test must not wait
 * the default 3 s), and closed after each test together with every test server, so that no
 * socket or timer outlives the test that made it. (Each test file has its own module state.)
 */
import { EventSource, type EventSourceErrorEvent, type EventSourceOptions } from "../../src/index.js";
import { closeAllServers } from "./server.js";

const sources = new Set<EventSource<any>>();

/** Closes `source` after the test. */
export function track<S extends EventSource<any>>(source: S): S {
  sources.add(source);
  return source;
}

/** A source on `url`, reconnecting after 10 ms unless `init.reconnect` says otherwise. */
export function open<E extends { [K in keyof E]: MessageEvent } = {}>(
  url: string | URL,
  init?: EventSourceOptions,
): EventSource<E> {
  return track(new EventSource<E>(url, { reconnect: { initialDelay: 10 }, ...init }));
}

/** For afterEach: closes every tracked source, then every test server. */
export async function closeSources(): Promise<void> {
  for (const source of sources) source.close();
  sources.clear();
  await closeAllServers();
}

/** The `data` of each event of `type` that `source` dispatches from now on. */
export function record(source: EventTarget, type = "message"): string[] {
  const out: string[] = [];
  source.addEventListener(type, (e) => out.push((e as MessageEvent).data));
  return out;
}

/** Each error event that `source` dispatches from now on. */
export function errors(source: EventTarget): EventSourceErrorEvent[] {
  const out: EventSourceErrorEvent[] = [];
  source.addEventListener("error", (e) => out.push(e as EventSourceErrorEvent));
  return out;
}
