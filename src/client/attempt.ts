/**
 * One connection attempt: the abort controller of its request, its response once there is
 * one and the reading of its body into the source's Delivery, the watchdogs (`idleTimeout`,
 * `eventTimeout`) and the pause state. Ending it (`end()`) releases all of them; the source
 * then starts a new attempt for a reconnection.
 */
import type { Delivery } from "./delivery.js";
import { errorMessage, type EventSourceErrorInit, responseInfo } from "./errors.js";
import { decodingFailure } from "./failures.js";
import { MAX_TIMER_DELAY } from "./timers.js";
import { BROWSER_BUILD } from "./transport/platform.js";
import type { TransportResponse } from "./transport/types.js";

/**
 * Fires `expired` once `last()` (a `Date.now()` reading) is `timeout` ms old, unless `active()`
 * says otherwise when it looks. Moving the deadline is a timestamp store by the caller (no
 * clearTimeout/setTimeout per chunk): the timer re-arms itself for the remaining time when it
 * fires early.
 */
class Watchdog {
  #timer: ReturnType<typeof setTimeout> | null = null;
  readonly #last: () => number;
  readonly #active: () => boolean;
  readonly #expired: () => void;

  constructor(
    readonly timeout: number,
    last: () => number,
    active: () => boolean,
    expired: () => void,
  ) {
    this.#last = last;
    this.#active = active;
    this.#expired = expired;
  }

  get armed(): boolean {
    return this.#timer !== null;
  }

  start(): void {
    if (this.timeout !== 0) this.#arm(this.timeout);
  }

  stop(): void {
    if (this.#timer === null) return;
    clearTimeout(this.#timer);
    this.#timer = null;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(this.#check, Math.min(ms, MAX_TIMER_DELAY));
    // Unref'd (Node's timers are objects with unref(), browsers' are numbers): the socket is
    // what keeps the process alive, not this watchdog.
    if (!BROWSER_BUILD) (this.#timer as { unref?: () => void }).unref?.();
  }

  readonly #check = (): void => {
    this.#timer = null;
    if (!this.#active()) return;
    const quiet = Date.now() - this.#last();
    if (quiet >= this.timeout) this.#expired();
    else this.#arm(this.timeout - quiet);
  };
}

export class Attempt {
  readonly controller = new AbortController();
  response: TransportResponse | null = null;
  /** `Date.now()` of the last activity (a response, a chunk), for the idle watchdog. */
  lastChunkAt = 0;
  /** `Date.now()` when the body started to be read or resumed, for the event watchdog. */
  #readSince = 0;
  #delivery: Delivery | null = null;
  readonly #idle: Watchdog;
  readonly #quiet: Watchdog;
  #paused = false;
  #ended = false;

  /**
   * @param idleTimeout - ms without a byte (from the request on) before `onTimeout` (0: none).
   * @param eventTimeout - ms without an event (from the open on) before `onTimeout` (0: none).
   */
  constructor(idleTimeout: number, eventTimeout: number, onTimeout: (init: EventSourceErrorInit) => void) {
    // Paused by us (backpressure) is neither idle nor quiet: both are re-armed on resume.
    const active = (): boolean => !this.#ended && !this.#paused;
    this.#idle = new Watchdog(idleTimeout, () => this.lastChunkAt, active, () =>
      onTimeout({ code: "IDLE_TIMEOUT", message: `no data received for ${idleTimeout} ms` }),
    );
    this.#quiet = new Watchdog(eventTimeout, () => Math.max(this.#readSince, this.#delivery?.lastEventAt ?? 0), active, () =>
      onTimeout({ code: "EVENT_TIMEOUT", message: `no event received for ${eventTimeout} ms` }),
    );
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** `idleTimeout`: a half-open TCP connection never errors; no byte for N ms does. */
  watchIdle(): void {
    this.lastChunkAt = Date.now();
    this.#idle.start();
  }

  /**
   * Hands each chunk of the response's body (set in `response`) to `delivery`, until the
   * attempt ends. The end of the body or its error is handed to `failed`, unless the attempt
   * has ended first.
   */
  read(delivery: Delivery, failed: (init: EventSourceErrorInit, spec: boolean) => void): void {
    const response = this.response;
    if (response === null) return;
    this.#delivery = delivery;
    // `eventTimeout`: heartbeats keep a stalled feed's bytes coming; only events count.
    this.#readSince = Date.now();
    this.#quiet.start();
    const watched = this.#idle.timeout > 0;
    response.read({
      onData: (chunk) => {
        if (this.#ended) return;
        // The clock is read per chunk only for the idle watchdog (Delivery reads it itself
        // for a chunk that carried events when this did not).
        let now = 0;
        if (watched) this.lastChunkAt = now = Date.now();
        delivery.chunk(chunk, now);
      },
      onEnd: () => {
        // 14. processEventSourceEndOfBody: "if res is not a network error, then reestablish
        // the connection." (The source ends the parser: "Once the end of the file is
        // reached, any pending data must be discarded".)
        if (!this.#ended) failed({ code: "STREAM_ENDED", message: "the server ended the stream", ...responseInfo(response) }, true);
      },
      onError: (error) => {
        if (this.#ended) return;
        // A body that cannot be decoded would be as undecodable after a reconnection: the
        // connection fails (unless the reconnect policy says otherwise). Never in a browser
        // (see failures.browser.ts): the test is left out of its build.
        if (!BROWSER_BUILD) {
          const undecodable = decodingFailure(error);
          if (undecodable !== null) return failed({ ...undecodable, ...responseInfo(response) }, false);
        }
        failed({ code: "NETWORK", message: `the connection failed: ${errorMessage(error)}`, cause: error, ...responseInfo(response) }, true);
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
    // Time spent paused by us is neither idle nor quiet: both clocks start again.
    this.lastChunkAt = this.#readSince = Date.now();
    if (!this.#idle.armed) this.#idle.start();
    if (!this.#quiet.armed) this.#quiet.start();
  }

  /** Ends the attempt: timer, body, in-flight request. */
  end(): void {
    this.#ended = true;
    this.#idle.stop();
    this.#quiet.stop();
    if (this.response !== null) {
      this.response.cancel();
      this.response = null;
    }
    this.controller.abort();
  }
}
