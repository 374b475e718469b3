/**
 * The reconnect policy: the spec's reconnection time (HTML "reestablish the connection",
 * step 2) plus this library's step 3, "Optionally, wait some more": backoff, jitter and a
 * bound on attempts in a row; the opt-in retries the spec does not make (statuses such as
 * 503, `Retry-After`, the `shouldRetry` hook); and the wait itself.
 */
import { EventSourceError, type EventSourceErrorInit } from "./errors.js";
import type { ReconnectSettings } from "./options.js";
import { reportException } from "./report.js";
import { MAX_TIMER_DELAY } from "./timers.js";

/**
 * With `factor` > 1, backoff grows from at least this many ms: from a reconnection time of 0
 * (`retry: 0`, `initialDelay: 0`) it would otherwise stay 0 * factor^n = 0.
 */
const MIN_BACKOFF_BASE = 100;

export class ReconnectPolicy {
  /** "Each EventSource object has [...] a reconnection time, in milliseconds." */
  reconnectionTime: number;
  /** Failed attempts in a row since the last open (or `resetAfter` ms of one). */
  attempts = 0;
  /** `Date.now()` when the current connection opened (`resetAfter` only), else 0. */
  #openedAt = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;

  readonly #settings: ReconnectSettings;
  readonly #random: () => number;

  /** `random`: a number in [0, 1) for the jitter; a test gives its own. */
  constructor(settings: ReconnectSettings, random: () => number = Math.random) {
    this.#settings = settings;
    this.#random = random;
    this.reconnectionTime = settings.initialDelay;
  }

  /** A reconnection is waiting (see `wait`). */
  get waiting(): boolean {
    return this.#timer !== null;
  }

  /** `maxAttempts` reconnections in a row have failed: give up. */
  get exhausted(): boolean {
    return this.attempts >= this.#settings.maxAttempts;
  }

  /** A connection opened: the attempt count starts again, now or after `resetAfter` ms. */
  opened(): void {
    if (this.#settings.resetAfter === 0) this.attempts = 0;
    else this.#openedAt = Date.now();
  }

  /** The current connection (if one opened) ended. */
  ended(): void {
    if (this.#openedAt !== 0 && Date.now() - this.#openedAt >= this.#settings.resetAfter) this.attempts = 0;
    this.#openedAt = 0;
  }

  /**
   * After a failed attempt (`failure`; `spec`: the spec would reconnect): either give up,
   * with the failure to report, or count one more attempt and say how long to wait first
   * (`retryAfter`: the server's `Retry-After` in ms, if any).
   */
  next(
    failure: EventSourceErrorInit,
    spec: boolean,
  ): { readonly final: EventSourceErrorInit } | { readonly final: null; readonly delay: number; readonly retryAfter: number | undefined } {
    const { retry, final } = this.#decide(failure, spec);
    if (!retry) return { final };
    const retryAfter = this.#retryAfter(failure);
    this.attempts++;
    const delay = reconnectDelay(this.attempts, this.#settings, this.reconnectionTime, retryAfter, this.#random);
    return { final: null, delay, retryAfter };
  }

  /**
   * HTML "reestablish the connection" 2. "Wait a delay equal to the reconnection time of the
   * event source." 3. "Optionally, wait some more. In particular, if the previous attempt
   * failed, then user agents might introduce an exponential backoff delay": `delay` (from
   * `next`), then `reconnect`.
   *
   * Always a timer, even for a delay of 0 (`retry: 0` with factor 1 is the spec's immediate
   * reconnection): attempts that keep failing at once still let the event loop run between
   * them. The timer is ref'd on purpose: a source that is going to reconnect is alive, and a
   * script must not exit in the middle of a reconnection. `cancel()` clears it.
   */
  wait(delay: number, reconnect: () => void): void {
    this.#timer = setTimeout(() => {
      this.#timer = null;
      reconnect();
    }, delay);
  }

  cancel(): void {
    if (this.#timer === null) return;
    clearTimeout(this.#timer);
    this.#timer = null;
  }

  /**
   * Whether to reconnect after `failure`. `spec`: the spec reconnects (a network error, the
   * end of the stream) rather than failing the connection. `retryStatuses` adds statuses;
   * `maxAttempts` bounds both; `shouldRetry` has the last word. Returns the failure to report
   * when not reconnecting (MAX_ATTEMPTS when the bound is what stopped it).
   */
  #decide(failure: EventSourceErrorInit, spec: boolean): { retry: boolean; final: EventSourceErrorInit } {
    const { retryStatuses, shouldRetry } = this.#settings;
    let retry = spec || (failure.code === "HTTP_STATUS" && retryStatuses.has(failure.status!));
    let final = failure;
    if (retry && this.exhausted) {
      retry = false;
      final = {
        code: "MAX_ATTEMPTS",
        message: `gave up after ${this.attempts} reconnection attempt(s) in a row: ${failure.message}`,
        attempts: this.attempts,
        status: failure.status,
        statusText: failure.statusText,
        headers: failure.headers,
        body: failure.body,
        cause: new EventSourceError(failure),
      };
    }
    if (shouldRetry !== null) {
      try {
        const answer = shouldRetry({
          status: failure.status,
          error: new EventSourceError(failure),
          attempt: this.attempts + 1,
          retry,
        });
        if (answer !== undefined) retry = Boolean(answer);
      } catch (error) {
        reportException(error);
      }
    }
    return { retry, final };
  }

  /**
   * `Retry-After` of a failed response, in ms: "either an HTTP-date or a number of seconds"
   * (RFC 9110 10.2.3). Only for error statuses (a 200 asks nothing of a client that reconnects).
   */
  #retryAfter(failure: EventSourceErrorInit): number | undefined {
    if (failure.code !== "HTTP_STATUS" || failure.headers === undefined) return undefined;
    const value = failure.headers.get("retry-after")?.trim();
    if (value === undefined || value === "") return undefined;
    if (/^\d+$/.test(value)) return Number(value) * 1000;
    const at = Date.parse(value);
    return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
  }
}

/**
 * The delay in ms before reconnection attempt number `attempt` (1 = the first in a row),
 * from the reconnection time (`initialDelay` or the server's `retry:`) and, when the failed
 * response had one, its `Retry-After` in ms, which replaces the computed delay, capped by
 * `maxDelay`. `random` gives a number in [0, 1) for the jitter (`Math.random`).
 */
export function reconnectDelay(
  attempt: number,
  settings: Pick<ReconnectSettings, "maxDelay" | "factor" | "jitter">,
  reconnectionTime: number,
  retryAfter: number | undefined,
  random: () => number,
): number {
  if (retryAfter !== undefined) return Math.min(retryAfter, settings.maxDelay, MAX_TIMER_DELAY);
  const { maxDelay, factor, jitter } = settings;
  let delay = reconnectionTime;
  if (factor > 1 && attempt > 1) {
    const grown = Math.max(reconnectionTime, MIN_BACKOFF_BASE) * factor ** (attempt - 1);
    // maxDelay caps the backoff, never the reconnection time itself (a server's `retry`).
    delay = Math.min(grown, Math.max(maxDelay, reconnectionTime));
  }
  // Clamped before the jitter: a `retry:` of hundreds of digits is Infinity, and
  // Infinity - Infinity * jitter would be NaN (which setTimeout also takes as 1 ms).
  delay = Math.min(delay, MAX_TIMER_DELAY);
  if (jitter > 0) delay -= delay * jitter * random();
  return delay;
}
