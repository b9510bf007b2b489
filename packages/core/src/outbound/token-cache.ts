import { TokenSourceError } from './errors.js';

/** A token with its timing, as a fetcher returns it (all times in epoch milliseconds). */
export interface TimedToken {
  readonly token: string;
  /** From here on a background refresh starts; callers still get this token. */
  readonly staleAt: number;
  /** From here on callers wait for a new token instead. */
  readonly usableUntil: number;
}

/** Options of {@link createTokenCache}. @internal */
export interface TokenCacheOptions {
  /** Fetches a new token (with its own retries). */
  fetchToken: () => Promise<TimedToken>;
  /** Delay before another background attempt after a failed one. Default 5 000 ms. */
  backgroundRetryMs?: number;
}

/** A cached, single-flight, refresh-ahead token. @internal */
export interface TokenCache {
  get(): Promise<string>;
  /** Drops the cached token; a request in flight no longer fills the cache. */
  invalidate(): void;
  close(): void;
}

/** setTimeout's limit (about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The caching engine behind the token sources: one token, reused until `staleAt`; from then on
 * one background refresh (callers keep getting the old token until `usableUntil`); past
 * `usableUntil` callers wait. Concurrent callers share one request. A timer refreshes ahead of
 * `staleAt` only when the token was used since the last refresh, so an idle source stops
 * calling the token endpoint. Timers are `unref`'d.
 *
 * @internal
 */
export function createTokenCache(options: TokenCacheOptions): TokenCache {
  const backgroundRetryMs = options.backgroundRetryMs ?? 5_000;
  let current: TimedToken | undefined;
  let inflight: Promise<TimedToken> | undefined;
  let generation = 0;
  let used = false;
  let closed = false;
  let nextBackgroundAttempt = 0;
  let timer: NodeJS.Timeout | undefined;

  function schedule(at: number): void {
    clearTimeout(timer);
    const delay = Math.min(Math.max(at - Date.now(), 0), MAX_TIMER_MS);
    timer = setTimeout(onTimer, delay);
    timer.unref();
  }

  function onTimer(): void {
    timer = undefined;
    if (closed || current === undefined || !used) return; // idle: let the token lapse
    used = false;
    background();
  }

  function refresh(): Promise<TimedToken> {
    if (inflight) return inflight;
    const gen = generation;
    const request = options.fetchToken().then((token) => {
      if (gen === generation && !closed) {
        current = token;
        nextBackgroundAttempt = 0;
        schedule(token.staleAt);
      }
      return token;
    });
    const settle = (): void => {
      if (inflight === tracked) inflight = undefined;
    };
    const tracked = request.finally(settle);
    inflight = tracked;
    return tracked;
  }

  function background(): void {
    const now = Date.now();
    if (inflight || now < nextBackgroundAttempt) return;
    refresh().catch(() => {
      // Keep serving the current token while it is usable; try again a little later.
      nextBackgroundAttempt = Date.now() + backgroundRetryMs;
      if (!closed && current && nextBackgroundAttempt < current.usableUntil) {
        used = true;
        schedule(nextBackgroundAttempt);
      }
    });
  }

  return {
    async get(): Promise<string> {
      if (closed) throw new TokenSourceError('ERR_TOKEN_SOURCE_CLOSED', 'token source is closed');
      used = true;
      const now = Date.now();
      if (current && now < current.usableUntil) {
        if (now >= current.staleAt) background();
        return current.token;
      }
      current = undefined;
      return (await refresh()).token;
    },
    invalidate(): void {
      generation++;
      current = undefined;
      inflight = undefined;
      nextBackgroundAttempt = 0;
      clearTimeout(timer);
      timer = undefined;
    },
    close(): void {
      closed = true;
      generation++;
      current = undefined;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
