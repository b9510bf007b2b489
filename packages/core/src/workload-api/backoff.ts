/** A retry delay sequence for one watch (go-spiffe's `workloadapi.Backoff`). */
export interface Backoff {
  /** The delay before the next attempt, in milliseconds. */
  next(): number;
  /** Called after every message received: the next failure starts over. */
  reset(): void;
}

/** Options of {@link createLinearBackoff}. */
export interface LinearBackoffOptions {
  /** The first delay, and the step added after each failure. Default 1000 ms. */
  initialDelayMs?: number;
  /** The largest delay. Default 30 000 ms. */
  maxDelayMs?: number;
}

/** Default first delay of {@link createLinearBackoff}, as in go-spiffe. */
export const DEFAULT_INITIAL_DELAY_MS = 1000;
/** Default largest delay of {@link createLinearBackoff}, as in go-spiffe. */
export const DEFAULT_MAX_DELAY_MS = 30_000;

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`${name} must be a positive number of milliseconds`);
  return value;
}

/**
 * go-spiffe's linear backoff: `initialDelayMs × n` after the n-th consecutive failure, capped at
 * `maxDelayMs` (1 s, 2 s, 3 s, ... 30 s by default); `reset()` after a message starts over.
 *
 * @throws {RangeError} for a delay that is not a positive number.
 * @example
 * ```ts
 * const backoff = createLinearBackoff({ initialDelayMs: 100, maxDelayMs: 1000 });
 * backoff.next(); // 100
 * backoff.next(); // 200
 * ```
 */
export function createLinearBackoff(options: LinearBackoffOptions = {}): Backoff {
  const initial = positive(options.initialDelayMs, DEFAULT_INITIAL_DELAY_MS, 'initialDelayMs');
  const max = Math.max(initial, positive(options.maxDelayMs, DEFAULT_MAX_DELAY_MS, 'maxDelayMs'));
  let attempts = 0;
  return {
    next: () => {
      attempts++;
      return Math.min(initial * attempts, max);
    },
    reset: () => {
      attempts = 0;
    },
  };
}
