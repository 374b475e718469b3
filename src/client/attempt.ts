/**
 * One connection attempt: the abort controller of its request, its response once there is
 * one and the reading of its body, the idle watchdog and the pause state. Ending it (`end()`)
 * releases all of them; the source then starts a new attempt for a reconnection.
 */
import type { EventStreamParser } from "../parser/types.js";
import type { Delivery } from "./delivery.js";
import { errorMessage, type EventSourceErrorInit, responseInfo } from "./errors.js";
import type { EventSourceStats } from "./events.js";
import { MAX_TIMER_DELAY } from "./timers.js";
import type { TransportResponse } from "./transport/types.js";

/** Timers are objects with unref() on Node, numbers in browsers. */
function unref(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.();
}

export class Attempt {
  readonly controller = new AbortController();
  response: TransportResponse | null = null;
  /** `Date.now()` of the last activity (a response, a chunk), for the idle watchdog. */
  lastChunkAt = 0;
  #idleTimer: ReturnType<typeof setTimeout> | null = null;
  #paused = false;
  #ended = false;

  /**
   * @param idleTimeout - ms without activity before `onIdle` (0: no watchdog).
   */
  constructor(
    readonly idleTimeout: number,
    readonly onIdle: () => void,
  ) {}

  get paused(): boolean {
    return this.#paused;
  }

  /** `idleTimeout`: a half-open TCP connection never errors; no byte for N ms does. */
  watchIdle(): void {
    const timeout = this.idleTimeout;
    if (timeout === 0) return;
    this.lastChunkAt = Date.now();
    const check = (): void => {
      this.#idleTimer = null;
      if (this.#ended || this.#paused) return; // paused by us: not idle, re-armed on resume
      const idle = Date.now() - this.lastChunkAt;
      if (idle >= timeout) {
        this.onIdle();
      } else {
        this.#idleTimer = setTimeout(check, Math.min(timeout - idle, MAX_TIMER_DELAY));
        unref(this.#idleTimer);
      }
    };
    // Reset per chunk is a timestamp store (no clearTimeout/setTimeout per chunk): the
    // timer re-arms itself for the remaining time when it fires early.
    this.#idleTimer = setTimeout(check, Math.min(timeout, MAX_TIMER_DELAY));
    // Unref'd: the socket is what keeps the process alive, not this watchdog.
    unref(this.#idleTimer);
  }

  /**
   * HTML constructor step 15.4: "interpret res's body line by line" (the response set in
   * `response`). The end of the body or its error is handed to `failed`, unless the attempt
   * has ended first.
   */
  read(
    parser: EventStreamParser,
    stats: Pick<EventSourceStats, "events" | "bytes" | "lastEventAt">,
    delivery: Delivery,
    failed: (init: EventSourceErrorInit) => void,
  ): void {
    const response = this.response;
    if (response === null) return;
    const watched = this.idleTimeout > 0;
    response.read({
      onData: (chunk) => {
        if (this.#ended) return;
        // The clock is read per chunk only for the idle watchdog; without one, only for a
        // chunk that carried events (stats.lastEventAt).
        let now = 0;
        if (watched) this.lastChunkAt = now = Date.now();
        stats.bytes += chunk.byteLength;
        const before = stats.events;
        // One call per chunk; the parser calls back per event (see Delivery.deliver).
        parser.feed(chunk);
        if (stats.events !== before) {
          stats.lastEventAt = watched ? now : Date.now();
          delivery.flush();
        }
      },
      onEnd: () => {
        // 14. processEventSourceEndOfBody: "if res is not a network error, then reestablish
        // the connection." (The source ends the parser: "Once the end of the file is
        // reached, any pending data must be discarded".)
        if (!this.#ended) failed({ code: "STREAM_ENDED", message: "the server ended the stream", ...responseInfo(response) });
      },
      onError: (error) => {
        if (this.#ended) return;
        failed({ code: "NETWORK", message: `the connection failed: ${errorMessage(error)}`, cause: error, ...responseInfo(response) });
      },
    });
  }

  /** Stop reading from the network (backpressure). */
  pause(): void {
    if (this.#paused || this.response === null) return;
    this.#paused = true;
    this.response.pause();
  }

  resume(): void {
    if (!this.#paused || this.response === null) return;
    this.#paused = false;
    this.response.resume();
    if (this.#idleTimer === null) this.watchIdle();
  }

  /** Ends the attempt: timer, body, in-flight request. */
  end(): void {
    this.#ended = true;
    if (this.#idleTimer !== null) {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = null;
    }
    if (this.response !== null) {
      this.response.cancel();
      this.response = null;
    }
    this.controller.abort();
  }
}
