/**
 * Node's setTimeout turns any delay above 2^31 - 1 ms (about 24.8 days) into 1 ms: a longer
 * reconnection time (the spec sets no bound on `retry:`) or idle timeout would make the timer
 * fire at once, again and again. Every timer waits at most this long instead.
 */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;
