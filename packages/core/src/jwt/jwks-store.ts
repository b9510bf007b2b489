import { createLocalJWKSet, type JWK, type JWTVerifyGetKey } from 'jose';
import { Lru } from '../internal/lru.js';
import { removedKeys } from './jwks-document.js';
import { JwksFetchError, KeysUnavailableError } from './jwks-errors.js';
import { fetchJwks } from './jwks-fetch.js';
import {
  jwksSettings,
  ttlFor,
  type JwksSettings,
  type JwksStatus,
  type JwksStoreOptions,
  type RemovedKeys,
  type JwksRefreshOutcome,
} from './jwks-options.js';
import { isAllowedKeyUrl } from './key-url.js';

interface KeySet {
  readonly keys: JWK[];
  readonly resolve: ReturnType<typeof createLocalJWKSet>;
  readonly fetchedAt: number;
  readonly refreshAt: number;
  readonly expiresAt: number;
  readonly usableUntil: number;
}

/**
 * The signing keys of one issuer rule, from one JWKS URL. Serves keys by `kid`/`alg` from memory;
 * refreshes in the background at ~80% of the TTL (from `Cache-Control`, clamped), so no request
 * waits; keeps serving the last good set past its TTL for `staleIfErrorSec` while fetches fail;
 * then throws {@link KeysUnavailableError}. An unknown `kid` triggers one single-flight refetch
 * when the cooldown has passed or the rotation budget allows, so a freshly rotated key works at
 * once while a flood of random kids costs a couple of fetches a minute.
 *
 * @example
 * const store = new JwksStore('https://idp.example/jwks')
 * await jwtVerify(token, store.getKey, { issuer: 'https://idp.example', algorithms: ['ES256'] })
 */
export class JwksStore {
  readonly url: string;
  readonly #o: JwksSettings;
  readonly #fetch: typeof fetch | undefined;
  readonly #onRefresh: JwksStoreOptions['onRefresh'];
  readonly #telemetry: JwksStoreOptions['telemetry'];
  readonly #issuer: string | undefined;
  readonly #missing: Lru<string, number>;
  readonly #removedListeners = new Set<(removed: RemovedKeys) => void>();
  #set: KeySet | undefined;
  #inflight: Promise<void> | undefined;
  #lastAttemptAt = -Infinity;
  #lastFailureAt: number | undefined;
  #lastError: JwksFetchError | undefined;
  #budget: number;
  #budgetAt = -Infinity;

  /** @throws {KeysUnavailableError} when `url` is not https (http only to loopback or with the opt-in). */
  constructor(url: string, options: JwksStoreOptions = {}) {
    if (!isAllowedKeyUrl(url, options.allowInsecureHttp === true))
      throw new KeysUnavailableError('JWKS URL must be https (http only to loopback)', {
        cause: new JwksFetchError('ERR_JWKS_URL_NOT_ALLOWED', 'JWKS URL is not allowed'),
      });
    this.url = url;
    this.#fetch = options.fetch;
    this.#onRefresh = options.onRefresh;
    this.#telemetry = options.telemetry;
    this.#issuer = options.issuer;
    this.#o = jwksSettings(options);
    this.#missing = new Lru(this.#o.negativeCacheSize);
    this.#budget = this.#o.rotationBudgetPerMin;
  }

  /** A jose key resolver. Throws {@link KeysUnavailableError}, or jose's `ERR_JWKS_NO_MATCHING_KEY`. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const set = this.#currentSet() ?? (await this.#usableSet()); // no extra await on the hot path
    this.#refreshAheadIfDue(set);
    try {
      return await set.resolve(header, token);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ERR_JWKS_NO_MATCHING_KEY') throw error;
      const kid = header.kid;
      const now = this.#o.now();
      if (kid !== undefined && (this.#missing.get(kid) ?? -Infinity) > now) throw error;
      const pending = this.#inflight ?? (this.#mayRefetch(now) ? this.#refresh() : undefined);
      if (!pending) throw error;
      await pending;
      const next = this.#set;
      if (next === undefined || next === set || this.#o.now() >= next.usableUntil) throw error;
      try {
        return await next.resolve(header, token);
      } catch (retryError) {
        const code = (retryError as { code?: unknown }).code;
        if (code === 'ERR_JWKS_NO_MATCHING_KEY' && kid !== undefined)
          this.#missing.set(kid, this.#o.now() + this.#o.cooldownSec * 1000);
        throw retryError;
      }
    }
  };

  /** Fetches now unless a usable set exists. Rejects with {@link KeysUnavailableError} when none is usable afterwards. */
  async prefetch(): Promise<void> {
    await this.#usableSet();
  }

  /** Drops every key (compromise response), reporting them removed; the next request refetches. */
  purge(): void {
    const previous = this.#set;
    this.#set = undefined;
    this.#missing.clear();
    if (previous) this.#notifyRemoved(removedKeys(previous.keys, []));
  }

  /** Readiness: the state of the key set, the last fetch and its error. */
  status(): JwksStatus {
    const now = this.#o.now();
    const set = this.#set;
    const usable = set !== undefined && now < set.usableUntil;
    const failed = this.#lastFailureAt !== undefined;
    return {
      state: usable ? (now < set.expiresAt ? 'fresh' : 'stale') : failed ? 'failed' : 'empty',
      lastFetch: set?.fetchedAt,
      lastError: failed ? pickError(this.#lastError) : undefined,
      keyCount: usable ? set.keys.length : 0,
    };
  }

  /**
   * Calls `listener` with the keys that a successful refresh removed (or replaced under the same
   * kid). Tokens verified with them must be dropped from any cache. Returns an unsubscribe function.
   */
  onKeysRemoved(listener: (removed: RemovedKeys) => void): () => void {
    this.#removedListeners.add(listener);
    return () => void this.#removedListeners.delete(listener);
  }

  /** The key set when it is still usable (fresh or within stale-if-error). */
  #currentSet(): KeySet | undefined {
    const set = this.#set;
    return set !== undefined && this.#o.now() < set.usableUntil ? set : undefined;
  }

  async #usableSet(): Promise<KeySet> {
    const current = this.#currentSet();
    if (current) return current;
    if (!this.#inflight) {
      const wait = this.#backoffRemainingMs();
      if (wait > 0)
        throw new KeysUnavailableError('issuer keys failed recently', {
          cause: this.#lastError,
          retryAfterSec: wait / 1000,
        });
    }
    await (this.#inflight ?? this.#refresh());
    const after = this.#currentSet();
    if (after) return after;
    throw new KeysUnavailableError('issuer keys could not be fetched', {
      cause: this.#lastError,
      retryAfterSec: Math.max(this.#backoffRemainingMs() / 1000, 1),
    });
  }

  #refreshAheadIfDue(set: KeySet): void {
    const now = this.#o.now();
    if (this.#inflight || now < set.refreshAt || this.#backoffRemainingMs() > 0) return;
    void this.#refresh();
  }

  #backoffRemainingMs(): number {
    if (this.#lastFailureAt === undefined) return 0;
    return Math.max(this.#lastFailureAt + this.#o.failureBackoffSec * 1000 - this.#o.now(), 0);
  }

  /** Outside the cooldown, or one token of the rotation budget (refilled continuously). */
  #mayRefetch(now: number): boolean {
    if (this.#backoffRemainingMs() > 0) return false;
    if (now - this.#lastAttemptAt >= this.#o.cooldownSec * 1000) return true;
    const cap = this.#o.rotationBudgetPerMin;
    if (Number.isFinite(this.#budgetAt))
      this.#budget = Math.min(cap, this.#budget + ((now - this.#budgetAt) / 60_000) * cap);
    this.#budgetAt = now;
    if (this.#budget < 1) return false;
    this.#budget -= 1;
    return true;
  }

  /** Single-flight fetch; never rejects (the outcome is recorded on the store). */
  #refresh(): Promise<void> {
    this.#lastAttemptAt = this.#o.now();
    const run = async (): Promise<void> => {
      try {
        const limits = { timeoutMs: this.#o.timeoutMs, maxBodyBytes: this.#o.maxBodyBytes };
        const doFetch = this.#fetch ?? fetch;
        const fetched = this.#telemetry
          ? await this.#telemetry.fetch(this.#issuer, this.url, doFetch, (f) =>
              fetchJwks(this.url, { ...limits, fetch: f }),
            )
          : await fetchJwks(this.url, { ...limits, fetch: doFetch });
        this.#install(fetched.keys, fetched.maxAgeSec, fetched.dropped);
      } catch (cause) {
        const error =
          cause instanceof JwksFetchError
            ? cause
            : new JwksFetchError('ERR_JWKS_INVALID', 'JWKS document was refused', { cause });
        this.#lastFailureAt = this.#o.now();
        this.#lastError = error;
        const set = this.#set;
        const serving = set !== undefined && this.#o.now() < set.usableUntil ? 'stale' : 'none';
        this.#emit({ ok: false, error, serving });
      }
    };
    const pending = run().finally(() => {
      if (this.#inflight === pending) this.#inflight = undefined;
    });
    this.#inflight = pending;
    return pending;
  }

  #install(keys: JWK[], maxAgeSec: number | undefined, dropped: number): void {
    const resolve = createLocalJWKSet({ keys });
    const ttlSec = ttlFor(this.#o, maxAgeSec);
    const now = this.#o.now();
    const ttlMs = ttlSec * 1000;
    const previous = this.#set;
    this.#set = {
      keys,
      resolve,
      fetchedAt: now,
      refreshAt: now + ttlMs * (0.75 + 0.1 * this.#o.random()),
      expiresAt: now + ttlMs,
      usableUntil: now + ttlMs + this.#o.staleIfErrorSec * 1000,
    };
    this.#lastFailureAt = undefined;
    this.#lastError = undefined;
    this.#emit({ ok: true, keyCount: keys.length, dropped, ttlSec });
    if (previous) this.#notifyRemoved(removedKeys(previous.keys, keys));
  }

  #notifyRemoved(removed: RemovedKeys): void {
    if (removed.kids.length === 0 && removed.withoutKid === 0) return;
    for (const listener of this.#removedListeners) {
      try {
        listener(removed);
      } catch {
        // A listener's failure must not undo a key rotation.
      }
    }
  }

  #emit(outcome: JwksRefreshOutcome): void {
    try {
      this.#telemetry?.refreshed(this.#issuer, this.url, outcome);
      this.#onRefresh?.(outcome);
    } catch {
      // Telemetry hooks never break key handling.
    }
  }
}

const pickError = (e: JwksFetchError | undefined) => e && { code: e.code, message: e.message };
