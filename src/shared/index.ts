/**
 * `eventsource-wasm/shared`: one connection for every page and worker of an origin that opens
 * the same feed. A dashboard open in five tabs otherwise opens five identical feeds, with any
 * client.
 *
 * One tab holds the connection: the one that holds a Web Lock named after the feed. It runs an
 * `EventSource` and posts each event on a `BroadcastChannel` of the same name; every other tab
 * receives it there. When the holder goes (its tab closes, or `close()`), the browser releases
 * the lock and a waiting tab takes it: it asks the others how far they got, waits `syncDelay`
 * ms for the last events the old holder posted, and connects with the `Last-Event-ID` of the
 * furthest. Events are numbered across holders, so a tab dispatches each number once: with a
 * feed that has ids, no tab loses or repeats an event across a takeover. (A feed without ids
 * starts over, as any EventSource does when it reconnects.)
 */
import { EventSource, type EventSourceErrorCode, EventSourceErrorEvent, type EventSourceOptions } from "../index.js";
import { EventHandlers, parseEventSourceURL } from "../client/webidl.js";

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

interface ErrorInfo {
  code: EventSourceErrorCode;
  message: string;
  willReconnect: boolean;
  status?: number | undefined;
}

/** What tabs post on the feed's channel. */
type Post =
  /** The holder received an event; `n` numbers it across holders. */
  | { t: "event"; n: number; type: string; data: string; id: string; origin: string }
  /** The holder's source opened, failed or is reconnecting. */
  | { t: "state"; readyState: 0 | 1 | 2; error?: ErrorInfo }
  /** A new holder asks how far every tab got. */
  | { t: "sync" }
  /** A tab's answer: the number and id of the last event it dispatched. */
  | { t: "at"; n: number; id: string }
  /** A new tab asks the holder for its state (the holder may have opened long ago). */
  | { t: "hello" };

/** The part of the Web Locks API used here (`navigator.locks`). */
export interface LockManagerLike {
  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>): Promise<unknown>;
}

export interface SharedEventSourceOptions extends EventSourceOptions {
  /** Tabs that open the same name share one connection. Default: the feed's URL. */
  name?: string | undefined;
  /**
   * Ms a tab that takes over waits for the others' answers (and the old holder's last posts)
   * before it connects. Default 100.
   */
  syncDelay?: number | undefined;
  /** The Web Locks API to use. Default: `navigator.locks`. */
  locks?: LockManagerLike | undefined;
}

type Handler = ((this: SharedEventSource, event: Event) => unknown) | null;

export class SharedEventSource extends EventTarget {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSED = CLOSED;

  readonly #url: string;
  readonly #options: EventSourceOptions;
  readonly #syncDelay: number;
  readonly #channel: BroadcastChannel;
  readonly #stopWaiting = new AbortController();
  readonly #handlers = new EventHandlers(this);
  #readyState: 0 | 1 | 2 = CONNECTING;
  /** The number and id of the last event this tab dispatched. */
  #n = 0;
  #lastEventId: string;
  /** While this tab holds the connection: the furthest any tab got (see #hold). */
  #resume: { n: number; id: string } | null = null;
  #source: EventSource | null = null;

  constructor(url: string | URL, init: SharedEventSourceOptions = {}) {
    super();
    const { name, syncDelay = 100, locks = (globalThis.navigator as { locks?: LockManagerLike } | undefined)?.locks, ...options } =
      init;
    this.#url = parseEventSourceURL(url).href;
    if (locks === undefined || typeof BroadcastChannel !== "function") {
      throw new TypeError("SharedEventSource needs the Web Locks API (navigator.locks) and BroadcastChannel");
    }
    if (typeof syncDelay !== "number" || !(syncDelay >= 0) || !Number.isFinite(syncDelay)) {
      throw new RangeError(`syncDelay must be a finite number of ms, got ${String(syncDelay)}`);
    }
    this.#options = options;
    this.#syncDelay = syncDelay;
    this.#lastEventId = options.lastEventId ?? "";
    const key = `eventsource-wasm:${name ?? this.#url}`;
    this.#channel = new BroadcastChannel(key);
    this.#channel.onmessage = (message: MessageEvent<Post>) => this.#received(message.data);
    this.#post({ t: "hello" });
    // Held until close() or the tab goes; an AbortError when closed while still waiting.
    locks.request(key, { signal: this.#stopWaiting.signal }, () => this.#hold()).catch(() => {});
  }

  get url(): string {
    return this.#url;
  }

  get withCredentials(): boolean {
    return Boolean(this.#options.withCredentials);
  }

  get readyState(): 0 | 1 | 2 {
    return this.#readyState;
  }

  /** The id of the last event this tab dispatched. */
  get lastEventId(): string {
    return this.#lastEventId;
  }

  /** This tab holds the connection (the others receive its events). */
  get holder(): boolean {
    return this.#source !== null;
  }

  get onopen(): Handler {
    return this.#handlers.get("open") as Handler;
  }
  set onopen(fn: Handler) {
    this.#handlers.set("open", fn);
  }
  get onmessage(): Handler {
    return this.#handlers.get("message") as Handler;
  }
  set onmessage(fn: Handler) {
    this.#handlers.set("message", fn);
  }
  get onerror(): Handler {
    return this.#handlers.get("error") as Handler;
  }
  set onerror(fn: Handler) {
    this.#handlers.set("error", fn);
  }

  /** Stops this tab's events; if it held the connection, another tab takes it over. */
  close(): void {
    if (this.#readyState === CLOSED) return;
    this.#readyState = CLOSED;
    this.#stopWaiting.abort();
    // Its events() loop ends, #hold returns, and the lock goes to a waiting tab.
    this.#source?.close();
    this.#source = null;
    this.#channel.close();
  }

  /** This tab got the lock: it holds the connection until close() (or until the tab goes). */
  async #hold(): Promise<void> {
    if (this.#readyState === CLOSED) return;
    this.#resume = { n: this.#n, id: this.#lastEventId };
    this.#post({ t: "state", readyState: CONNECTING });
    if (this.#readyState !== CONNECTING) this.#setState(CONNECTING);
    // Events the last holder posted may still be on their way, to this tab or another.
    this.#post({ t: "sync" });
    await new Promise((resolve) => setTimeout(resolve, this.#syncDelay));
    // close() may have run while this waited.
    if ((this.#readyState as number) === CLOSED) return;
    const resume = this.#resume;
    this.#resume = null;
    const source = new EventSource(this.#url, { ...this.#options, lastEventId: resume.id });
    this.#source = source;
    source.addEventListener("open", () => {
      this.#post({ t: "state", readyState: OPEN });
      this.#setState(OPEN);
    });
    source.addEventListener("error", (event) => {
      const { code, message, willReconnect, status } = event as EventSourceErrorEvent;
      // The feed failed for good (a 404, say): every tab's source fails with it, as one
      // EventSource would; otherwise they all wait for the reconnection.
      const post: Post = { t: "state", readyState: source.readyState, error: { code, message, willReconnect, status } };
      this.#post(post);
      this.#received(post);
    });
    let n = resume.n;
    try {
      for await (const event of source.events()) {
        const post: Post = { t: "event", n: ++n, type: event.type, data: event.data, id: event.lastEventId, origin: event.origin };
        this.#post(post);
        this.#received(post);
      }
    } catch {
      // The source failed for good: its error event was posted, and every tab is CLOSED.
    }
    // Returning releases the lock: a waiting tab takes over.
  }

  #received(post: Post): void {
    if (this.#readyState === CLOSED) return;
    switch (post.t) {
      case "event":
        if (post.n <= this.#n) return; // dispatched already (a takeover resumed before it)
        this.#n = post.n;
        this.#lastEventId = post.id;
        this.dispatchEvent(new MessageEvent(post.type, { data: post.data, lastEventId: post.id, origin: post.origin }));
        return;
      case "state":
        this.#setState(post.readyState, post.error);
        if (post.readyState === CLOSED) this.close();
        return;
      case "sync":
        this.#post({ t: "at", n: this.#n, id: this.#lastEventId });
        return;
      case "at":
        if (this.#resume !== null && post.n > this.#resume.n) this.#resume = { n: post.n, id: post.id };
        return;
      case "hello":
        if (this.#source !== null && this.#readyState === OPEN) this.#post({ t: "state", readyState: OPEN });
        return;
    }
  }

  /** The holder's state, with its `error` event, or `open` when it opens (once, not per new tab). */
  #setState(state: 0 | 1 | 2, error?: ErrorInfo): void {
    const was = this.#readyState;
    this.#readyState = state;
    if (error !== undefined) this.dispatchEvent(new EventSourceErrorEvent(error));
    else if (state === OPEN && was !== OPEN) this.dispatchEvent(new Event("open"));
  }

  #post(post: Post): void {
    this.#channel.postMessage(post);
  }
}
