/**
 * The reconnect policy: the spec's reconnection time (HTML "reestablish the connection",
 * step 2) plus this library's step 3, "Optionally, wait some more": backoff, jitter and a
 * bound on attempts in a row.
 */
import type { ReconnectSettings } from "./options.js";

/**
 * Node's setTimeout turns any delay above 2^31 - 1 ms (about 24.8 days) into 1 ms: a longer
 * reconnection time (the spec sets no bound on `retry:`) or idle timeout would make the timer
 * fire at once, again and again. Every timer here waits at most this long instead.
 */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * With `factor` > 1, backoff grows from at least this many ms: from a reconnection time of 0
 * (`retry: 0`, `initialDelay: 0`) it would otherwise stay 0 * factor^n = 0.
 */
const MIN_BACKOFF_BASE = 100;

export class ReconnectPolicy {
  /** "Each EventSource object has [...] a reconnection time, in milliseconds." */
  reconnectionTime: number;
  /** Failed attempts in a row since the last open. */
  attempts = 0;

  constructor(readonly settings: ReconnectSettings) {
    this.reconnectionTime = settings.initialDelay;
  }

  /** `maxAttempts` reconnections in a row have failed: give up. */
  get exhausted(): boolean {
    return this.attempts >= this.settings.maxAttempts;
  }

  /** The delay before reconnection attempt number `attempts` (1 = the first). */
  nextDelay(): number {
    const { maxDelay, factor, jitter } = this.settings;
    const base = this.reconnectionTime;
    let delay = base;
    if (factor > 1 && this.attempts > 1) {
      const grown = Math.max(base, MIN_BACKOFF_BASE) * factor ** (this.attempts - 1);
      // maxDelay caps the backoff, never the reconnection time itself (a server's `retry`).
      delay = Math.min(grown, Math.max(maxDelay, base));
    }
    // Clamped before the jitter: a `retry:` of hundreds of digits is Infinity, and
    // Infinity - Infinity * jitter would be NaN (which setTimeout also takes as 1 ms).
    delay = Math.min(delay, MAX_TIMER_DELAY);
    if (jitter > 0) delay -= delay * jitter * Math.random();
    return delay;
  }
}
