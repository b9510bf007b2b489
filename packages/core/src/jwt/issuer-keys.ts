import type { JWTVerifyGetKey } from 'jose';
import { KeysUnavailableError } from './jwks-errors.js';
import type { JwksStatus, JwksStoreOptions, RemovedKeys } from './jwks-options.js';
import { JwksStore } from './jwks-store.js';
import { isAllowedKeyUrl } from './key-url.js';

export { KeysUnavailableError } from './jwks-errors.js';

/** One trusted token issuer: exact `iss`, where its keys are, which audiences it may mint for. */
export interface JwtIssuerConfig {
  /** Exact `iss` value. Compared byte-for-byte (a trailing slash matters). */
  issuer: string;
  /** JWKS URL. When absent, OIDC discovery at `<issuer>/.well-known/openid-configuration` finds it. */
  jwksUri?: string;
  /** Accepted `aud` values; empty or absent means `aud` is not checked (Istio's behaviour). */
  audiences?: string[];
}

const DISCOVERY_TIMEOUT_MS = 5_000;
/** After a failed discovery, requests fail fast for this long instead of waiting. */
const RETRY_AFTER_FAILURE_MS = 5_000;

/** Options shared by every issuer's key store. */
export interface IssuerKeysOptions {
  fetch?: typeof fetch | undefined;
  /** Allow plain-HTTP discovery and JWKS URLs beyond loopback. Default false. */
  allowInsecureHttp?: boolean | undefined;
  /** Timings and limits of the JWKS store (TTL, stale-if-error, cooldown, rotation budget...). */
  jwks?: Omit<JwksStoreOptions, 'fetch' | 'allowInsecureHttp'> | undefined;
}

/**
 * The key store of one issuer rule: OIDC discovery (when no `jwksUri`) once, single-flight; a
 * {@link JwksStore} behind it (TTL from `Cache-Control`, refresh ahead, stale-if-error, budgeted
 * unknown-kid refetch). After a failed discovery, requests fail fast for a few seconds before the
 * issuer is tried again. One store per rule, so a `kid` collision across issuers is harmless.
 * Keys are fetched over HTTPS only (plain HTTP to loopback, or with the opt-in).
 */
export class IssuerKeys {
  readonly config: JwtIssuerConfig;
  readonly #options: IssuerKeysOptions;
  readonly #removedListeners = new Set<(removed: RemovedKeys) => void>();
  #store: JwksStore | undefined;
  #refused: KeysUnavailableError | undefined;
  #pending: Promise<JwksStore> | undefined;
  #failedUntil = 0;
  #lastError: KeysUnavailableError | undefined;

  constructor(config: JwtIssuerConfig, options: IssuerKeysOptions = {}) {
    this.config = config;
    this.#options = options;
    if (config.jwksUri) {
      try {
        this.#store = this.#createStore(config.jwksUri);
      } catch (error) {
        // createGuard refuses such URLs first; a direct JwtVerifier user gets jwks_unavailable.
        this.#refused = asUnavailable(error, 'JWKS URL is not allowed');
      }
    }
  }

  /** A jose key resolver; a failure to obtain keys is a {@link KeysUnavailableError}. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const store = this.#store ?? (await this.#getStore());
    return store.getKey(header, token);
  };

  /** Discovers (when needed) and fetches the keys. Rejects with {@link KeysUnavailableError}. */
  async prefetch(): Promise<void> {
    await (await this.#getStore()).prefetch();
  }

  /** Readiness of this rule's keys (discovery failures show as `failed`). */
  status(): JwksStatus {
    if (this.#store) return this.#store.status();
    const error = this.#refused ?? this.#lastError;
    return {
      state: error ? 'failed' : 'empty',
      lastFetch: undefined,
      lastError: error ? { code: error.code, message: error.message } : undefined,
      keyCount: 0,
    };
  }

  /**
   * Calls `listener` with the kids a JWKS refresh removed (or replaced), so a verified-token cache
   * can drop tokens signed with them. Works before discovery has found the JWKS URL.
   */
  onKeysRemoved(listener: (removed: RemovedKeys) => void): () => void {
    this.#removedListeners.add(listener);
    return () => void this.#removedListeners.delete(listener);
  }

  /** Drops the cached keys (compromise response); the next request fetches anew. */
  purge(): void {
    this.#store?.purge();
  }

  async #getStore(): Promise<JwksStore> {
    if (this.#store) return this.#store;
    if (this.#refused) throw this.#refused;
    const wait = this.#failedUntil - Date.now();
    if (wait > 0)
      throw new KeysUnavailableError('issuer discovery failed recently', {
        cause: this.#lastError,
        retryAfterSec: wait / 1000,
      });
    this.#pending ??= this.#runDiscovery().then(
      (store) => {
        this.#store = store;
        this.#pending = undefined;
        return store;
      },
      (error: unknown) => {
        this.#pending = undefined;
        this.#failedUntil = Date.now() + RETRY_AFTER_FAILURE_MS;
        this.#lastError = asUnavailable(error, 'OIDC discovery failed');
        throw this.#lastError;
      },
    );
    return this.#pending;
  }

  #createStore(uri: string): JwksStore {
    const store = new JwksStore(uri, {
      ...this.#options.jwks,
      issuer: this.config.issuer,
      fetch: this.#options.fetch,
      allowInsecureHttp: this.#options.allowInsecureHttp,
    });
    store.onKeysRemoved((removed) => {
      for (const listener of this.#removedListeners) listener(removed);
    });
    return store;
  }

  async #runDiscovery(): Promise<JwksStore> {
    const url = `${this.config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    if (!isAllowedKeyUrl(url, this.#options.allowInsecureHttp === true))
      throw new KeysUnavailableError('issuer must be https for discovery (http only to loopback)');
    const doFetch = this.#options.fetch ?? fetch;
    let doc: unknown;
    try {
      const res = await doFetch(url, {
        redirect: 'manual',
        signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS),
        headers: { accept: 'application/json' },
      });
      if (res.status !== 200) throw new Error(`discovery answered HTTP ${res.status}`);
      doc = await res.json();
    } catch (cause) {
      throw new KeysUnavailableError('OIDC discovery failed', { cause });
    }
    const meta = (typeof doc === 'object' && doc !== null ? doc : {}) as {
      issuer?: unknown;
      jwks_uri?: unknown;
    };
    if (meta.issuer !== this.config.issuer)
      throw new KeysUnavailableError('OIDC discovery document names a different issuer');
    if (typeof meta.jwks_uri !== 'string')
      throw new KeysUnavailableError('OIDC discovery document has no jwks_uri');
    return this.#createStore(meta.jwks_uri);
  }
}

function asUnavailable(error: unknown, message: string): KeysUnavailableError {
  return error instanceof KeysUnavailableError
    ? error
    : new KeysUnavailableError(message, { cause: error });
}
