import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from 'jose';

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

const DISCOVERY_TIMEOUT_MS = 5_000;
const DISCOVERY_RETRY_MS = 5_000;

/**
 * The key store of one issuer rule: discovery (when no `jwksUri`) once, single-flight; after a
 * failed discovery requests fail fast for a few seconds, then it is tried again. jose's remote JWKS
 * set behind it. One store per rule, so a `kid` collision across issuers is harmless.
 */
export class IssuerKeys {
  readonly config: JwtIssuerConfig;
  readonly #fetch: typeof fetch | undefined;
  #keys: JWTVerifyGetKey | undefined;
  #pending: Promise<JWTVerifyGetKey> | undefined;
  /** After a failed discovery, requests fail fast until this time instead of waiting on the issuer. */
  #retryAt = 0;

  constructor(config: JwtIssuerConfig, fetchImpl?: typeof fetch) {
    this.config = config;
    this.#fetch = fetchImpl;
    if (config.jwksUri) this.#keys = this.#remote(config.jwksUri);
  }

  /** A jose key resolver that reports any failure to obtain keys as {@link KeysUnavailableError}. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const keys = this.#keys ?? (await this.#discover());
    try {
      return await keys(header, token);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS')
        throw error;
      throw new KeysUnavailableError('JWKS could not be fetched', { cause: error });
    }
  };

  #remote(uri: string): JWTVerifyGetKey {
    return createRemoteJWKSet(new URL(uri), {
      timeoutDuration: DISCOVERY_TIMEOUT_MS,
      ...(this.#fetch ? { [customFetch]: this.#fetch } : {}),
    });
  }

  #discover(): Promise<JWTVerifyGetKey> {
    if (this.#pending === undefined && Date.now() < this.#retryAt)
      return Promise.reject(new KeysUnavailableError('OIDC discovery failed recently'));
    this.#pending ??= this.#runDiscovery().then(
      (keys) => {
        this.#keys = keys;
        return keys;
      },
      (error: unknown) => {
        this.#pending = undefined;
        this.#retryAt = Date.now() + DISCOVERY_RETRY_MS;
        throw error;
      },
    );
    return this.#pending;
  }

  async #runDiscovery(): Promise<JWTVerifyGetKey> {
    const url = `${this.config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const doFetch = this.#fetch ?? fetch;
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
    const meta = doc as { issuer?: unknown; jwks_uri?: unknown };
    if (meta.issuer !== this.config.issuer)
      throw new KeysUnavailableError('OIDC discovery document names a different issuer');
    if (typeof meta.jwks_uri !== 'string')
      throw new KeysUnavailableError('OIDC discovery document has no jwks_uri');
    return this.#remote(meta.jwks_uri);
  }
}
