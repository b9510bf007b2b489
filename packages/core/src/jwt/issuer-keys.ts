import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from 'jose';
import { isAllowedKeyUrl } from './key-url.js';

/** One trusted token issuer: exact `iss`, where its keys are, which audiences it may mint for. */
export interface JwtIssuerConfig {
  /** Exact `iss` value. Compared byte-for-byte (a trailing slash matters). */
  issuer: string;
  /** JWKS URL. When absent, OIDC discovery at `<issuer>/.well-known/openid-configuration` finds it. */
  jwksUri?: string;
  /** Accepted `aud` values; empty or absent means `aud` is not checked (Istio's behaviour). */
  audiences?: string[];
}

/** Thrown when an issuer's keys cannot be obtained (network, discovery, JWKS document). */
export class KeysUnavailableError extends Error {
  readonly code = 'ERR_KEYS_UNAVAILABLE';
}

const FETCH_TIMEOUT_MS = 5_000;
/** After a failed discovery or JWKS fetch, requests fail fast for this long instead of waiting. */
const RETRY_AFTER_FAILURE_MS = 5_000;

/** Options shared by every issuer's key store. */
export interface IssuerKeysOptions {
  fetch?: typeof fetch | undefined;
  /** Allow plain-HTTP discovery and JWKS URLs beyond loopback. Default false. */
  allowInsecureHttp?: boolean | undefined;
}

/**
 * The key store of one issuer rule: OIDC discovery (when no `jwksUri`) once, single-flight;
 * jose's remote JWKS set behind it. After a failed discovery or key fetch, requests fail fast for
 * a few seconds before the issuer is tried again, so an unreachable issuer does not hold every
 * request for the fetch timeout. One store per rule, so a `kid` collision across issuers is
 * harmless. Keys are fetched over HTTPS only (plain HTTP to loopback, or with the opt-in).
 */
export class IssuerKeys {
  readonly config: JwtIssuerConfig;
  readonly #options: IssuerKeysOptions;
  #keys: JWTVerifyGetKey | undefined;
  #pending: Promise<JWTVerifyGetKey> | undefined;
  #failedUntil = 0;

  constructor(config: JwtIssuerConfig, options: IssuerKeysOptions = {}) {
    this.config = config;
    this.#options = options;
    if (config.jwksUri) {
      try {
        this.#keys = this.#remote(config.jwksUri);
      } catch {
        // createGuard refuses such URLs first; a direct JwtVerifier user gets jwks_unavailable.
        this.#keys = () => Promise.reject(new KeysUnavailableError('JWKS URL is not allowed'));
      }
    }
  }

  /** A jose key resolver that reports any failure to obtain keys as {@link KeysUnavailableError}. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (Date.now() < this.#failedUntil)
      throw new KeysUnavailableError('issuer keys failed recently');
    try {
      const keys = this.#keys ?? (await this.#discover());
      return await keys(header, token);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS')
        throw error;
      this.#failedUntil = Date.now() + RETRY_AFTER_FAILURE_MS;
      throw error instanceof KeysUnavailableError
        ? error
        : new KeysUnavailableError('issuer keys could not be fetched', { cause: error });
    }
  };

  #remote(uri: string): JWTVerifyGetKey {
    if (!isAllowedKeyUrl(uri, this.#options.allowInsecureHttp === true))
      throw new KeysUnavailableError('JWKS URL must be https (http only to loopback)');
    return createRemoteJWKSet(new URL(uri), {
      timeoutDuration: FETCH_TIMEOUT_MS,
      ...(this.#options.fetch ? { [customFetch]: this.#options.fetch } : {}),
    });
  }

  #discover(): Promise<JWTVerifyGetKey> {
    this.#pending ??= this.#runDiscovery().then(
      (keys) => {
        this.#keys = keys;
        return keys;
      },
      (error: unknown) => {
        this.#pending = undefined;
        throw error;
      },
    );
    return this.#pending;
  }

  async #runDiscovery(): Promise<JWTVerifyGetKey> {
    const url = `${this.config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    if (!isAllowedKeyUrl(url, this.#options.allowInsecureHttp === true))
      throw new KeysUnavailableError('issuer must be https for discovery (http only to loopback)');
    const doFetch = this.#options.fetch ?? fetch;
    let doc: unknown;
    try {
      const res = await doFetch(url, {
        redirect: 'manual',
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
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
    return this.#remote(meta.jwks_uri);
  }
}
