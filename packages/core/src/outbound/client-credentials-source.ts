import { decodeJwt } from 'jose';
import type { X509Source, X509Svid } from '../tls/sources.js';
import { createAuthenticator, type ClientAuthentication } from './client-auth.js';
import { checkEndpointUrl, discoverTokenEndpoint, type DiscoveredEndpoints } from './discovery.js';
import { TokenSourceError } from './errors.js';
import {
  fetchSend,
  mtlsSend,
  oauthErrorOf,
  retryPolicy,
  sendWithRetry,
  type HttpAnswer,
  type HttpSend,
  type TokenRetryOptions,
} from './http.js';
import { createTokenCache, type TimedToken } from './token-cache.js';
import type { TokenSource } from './token-source.js';

/** Options of {@link createClientCredentialsSource}. */
export interface ClientCredentialsSourceOptions {
  /** The OAuth client id. */
  clientId: string;
  /** Client authentication at the token endpoint. */
  clientAuth: ClientAuthentication;
  /** The token endpoint. Give this or `issuer`. */
  tokenEndpoint?: string;
  /**
   * The issuer, for discovery (`/.well-known/openid-configuration`, then RFC 8414). The
   * document's `issuer` must equal this exactly. With mTLS client authentication an RFC 8705
   * `mtls_endpoint_aliases.token_endpoint` wins.
   */
  issuer?: string;
  /** `scope`: a space-separated string or a list. */
  scope?: string | readonly string[];
  /** RFC 8707 resource indicator(s): one `resource` parameter each. */
  resource?: string | readonly string[];
  /** `audience` parameter (Auth0, Okta and others; not an RFC 6749 parameter). */
  audience?: string;
  /** More form parameters. Must not set `grant_type` or credentials. */
  extraParams?: Readonly<Record<string, string>>;
  /**
   * `fetch` for discovery and for token requests without mTLS. Default `globalThis.fetch`.
   * mTLS token requests (`tls_client_auth`) go through `node:https` with the SVID.
   */
  fetch?: typeof fetch;
  /**
   * Refresh this long before `expires_in` runs out. Default max(30 s, 10 % of the lifetime).
   * Never more than half the lifetime.
   */
  refreshMarginSec?: number;
  /** Lifetime assumed when the response has no `expires_in` and the token is no JWT. Default 60. */
  defaultExpiresInSec?: number;
  /** Timeout of one HTTP attempt. Default 10 000 ms. */
  timeoutMs?: number;
  /** Retries on network errors, 5xx, 408 and 429 (never on other 4xx). */
  retry?: TokenRetryOptions;
}

const RESERVED_PARAMS = new Set([
  'grant_type',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
]);

/** RFC 6749 §5.2 `error` characters; anything else stays out of messages. */
const OAUTH_ERROR_CODE = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}$/;

function config(message: string): never {
  throw new TokenSourceError('ERR_TOKEN_SOURCE_CONFIG', message);
}

function list(value: string | readonly string[] | undefined): readonly string[] {
  return value === undefined ? [] : typeof value === 'string' ? [value] : value;
}

function checkOptions(options: ClientCredentialsSourceOptions): void {
  if (typeof options.clientId !== 'string' || options.clientId === '')
    config('clientId must be a non-empty string');
  if ((options.tokenEndpoint === undefined) === (options.issuer === undefined))
    config('give exactly one of tokenEndpoint and issuer');
  if (options.tokenEndpoint !== undefined)
    checkEndpointUrl(options.tokenEndpoint, 'tokenEndpoint', 'ERR_TOKEN_SOURCE_CONFIG');
  if (options.issuer !== undefined)
    checkEndpointUrl(options.issuer, 'issuer', 'ERR_TOKEN_SOURCE_CONFIG');
  for (const key of Object.keys(options.extraParams ?? {}))
    if (RESERVED_PARAMS.has(key)) config(`extraParams must not set ${key}`);
  const margin = options.refreshMarginSec;
  if (margin !== undefined && !(margin >= 0)) config('refreshMarginSec must be ≥ 0');
  const fallback = options.defaultExpiresInSec;
  if (fallback !== undefined && !(fallback > 0)) config('defaultExpiresInSec must be > 0');
}

function leafFingerprint(svid: X509Svid): string | undefined {
  return svid.certificates[0]?.fingerprint256;
}

function currentSvid(source: X509Source): X509Svid {
  try {
    return source.getX509Svid();
  } catch (cause) {
    throw new TokenSourceError('ERR_TOKEN_SOURCE_NO_SVID', 'no X.509-SVID for mTLS client auth', {
      cause,
    });
  }
}

function invalid(message: string, cause?: unknown): never {
  throw new TokenSourceError(
    'ERR_TOKEN_SOURCE_INVALID_RESPONSE',
    message,
    cause === undefined ? {} : { cause },
  );
}

/** Seconds of validity: `expires_in`, else the JWT's `exp`, else the configured default. */
function lifetimeSec(json: Record<string, unknown>, token: string, fallback: number): number {
  const raw = json['expires_in'];
  if (raw !== undefined) {
    const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
      invalid('token response has an invalid expires_in');
    return value;
  }
  try {
    const { exp } = decodeJwt(token);
    if (typeof exp === 'number') return Math.max(exp - Date.now() / 1000, 0);
  } catch {
    // An opaque token: use the default.
  }
  return fallback;
}

function rejected(endpoint: string, answer: HttpAnswer): TokenSourceError {
  const oauth = oauthErrorOf(answer.body);
  const code =
    oauth.error !== undefined && OAUTH_ERROR_CODE.test(oauth.error) ? ` ${oauth.error}` : '';
  return new TokenSourceError(
    'ERR_TOKEN_SOURCE_REJECTED',
    `token endpoint ${endpoint} refused the request: HTTP ${answer.status}${code}`,
    {
      status: answer.status,
      ...(oauth.error === undefined ? {} : { oauthError: oauth.error }),
      ...(oauth.description === undefined ? {} : { oauthErrorDescription: oauth.description }),
    },
  );
}

/**
 * An outbound token source running the OAuth 2.0 client_credentials grant (RFC 6749 §4.4) with
 * `client_secret_basic` / `client_secret_post`, RFC 8705 mTLS (`tls_client_auth`,
 * `self_signed_tls_client_auth`: the SVID is the client certificate and the token is bound to
 * it) or RFC 7523 `private_key_jwt`, plus `scope`, RFC 8707 `resource` and `audience`.
 *
 * Tokens are reused until `expires_in` minus a margin (max(30 s, 10 %), at most half the
 * lifetime), then refreshed in the background while the old one is still handed out; concurrent
 * callers share one request. Network errors, timeouts, 5xx, 408 and 429 are retried with
 * exponential backoff; other 4xx are not and reject with `ERR_TOKEN_SOURCE_REJECTED` and the
 * OAuth `error`. With mTLS, an SVID rotation drops the token bound to the old certificate.
 * Nothing is sent until the first `getToken()`.
 *
 * @throws {TokenSourceError} `ERR_TOKEN_SOURCE_CONFIG` for unusable options.
 * @example
 * ```ts
 * const source = createClientCredentialsSource({
 *   issuer: 'https://login.example.com',
 *   clientId: 'checkout',
 *   clientAuth: { method: 'client_secret_basic', clientSecret: process.env.CLIENT_SECRET! },
 *   resource: 'https://payments.example.com',
 *   scope: ['payments:write'],
 * });
 * const res = await fetch('https://payments.example.com/v1/charges', {
 *   method: 'POST',
 *   headers: { authorization: `Bearer ${await source.getToken()}` },
 * });
 * ```
 */
export function createClientCredentialsSource(
  options: ClientCredentialsSourceOptions,
): TokenSource {
  checkOptions(options);
  const authenticate = createAuthenticator(options.clientId, options.clientAuth);
  const retry = retryPolicy(options.retry);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const fallbackSec = options.defaultExpiresInSec ?? 60;
  const plainSend = fetchSend(options.fetch ?? globalThis.fetch);
  const auth = options.clientAuth;
  const mtls =
    auth.method === 'tls_client_auth' || auth.method === 'self_signed_tls_client_auth'
      ? auth
      : undefined;

  let endpoint: Promise<string> | undefined;
  function resolveEndpoint(): Promise<string> {
    if (options.tokenEndpoint !== undefined) return Promise.resolve(options.tokenEndpoint);
    if (endpoint === undefined) {
      const pending = discoverTokenEndpoint(options.issuer ?? '', plainSend, retry, timeoutMs).then(
        (found: DiscoveredEndpoints) =>
          (mtls === undefined ? undefined : found.mtlsTokenEndpoint) ?? found.tokenEndpoint,
      );
      pending.catch(() => {
        if (endpoint === pending) endpoint = undefined; // not cached: the next call tries again
      });
      endpoint = pending;
    }
    return endpoint;
  }

  function body(auth: Record<string, string>): string {
    const form = new URLSearchParams(options.extraParams);
    form.set('grant_type', 'client_credentials');
    const scope = list(options.scope).join(' ');
    if (scope !== '') form.set('scope', scope);
    for (const resource of list(options.resource)) form.append('resource', resource);
    if (options.audience !== undefined) form.set('audience', options.audience);
    for (const [key, value] of Object.entries(auth)) form.set(key, value);
    return form.toString();
  }

  function timed(json: Record<string, unknown>, token: string, startedAt: number): TimedToken {
    const lifetimeMs = lifetimeSec(json, token, fallbackSec) * 1000;
    const expiresAt = startedAt + lifetimeMs;
    const margin =
      options.refreshMarginSec === undefined
        ? Math.max(30_000, lifetimeMs / 10)
        : options.refreshMarginSec * 1000;
    return {
      token,
      staleAt: expiresAt - Math.min(margin, lifetimeMs / 2),
      usableUntil: expiresAt - Math.min(5_000, lifetimeMs / 10),
    };
  }

  async function requestOnce(url: string, send: HttpSend): Promise<TimedToken> {
    const parts = await authenticate(url);
    const startedAt = Date.now();
    const answer = await sendWithRetry(
      (signal) =>
        send(url, {
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
            ...parts.headers,
          },
          body: body(parts.params),
          signal,
        }),
      retry,
      timeoutMs,
      'ERR_TOKEN_SOURCE_UNAVAILABLE',
      `token endpoint ${url}`,
    );
    if (answer.status < 200 || answer.status > 299) throw rejected(url, answer);
    let json: unknown;
    try {
      json = JSON.parse(answer.body);
    } catch (cause) {
      invalid('token response is not JSON', cause);
    }
    if (typeof json !== 'object' || json === null) invalid('token response is not a JSON object');
    const fields = json as Record<string, unknown>;
    const token = fields['access_token'];
    if (typeof token !== 'string' || token === '') invalid('token response has no access_token');
    const type = fields['token_type'];
    if (type !== undefined && (typeof type !== 'string' || type.toLowerCase() !== 'bearer'))
      invalid('token response has a token_type other than Bearer');
    return timed(fields, token, startedAt);
  }

  /** Fingerprint of the certificate the cached token is bound to (mTLS only). */
  let boundTo: string | undefined;

  async function fetchToken(): Promise<TimedToken> {
    const url = await resolveEndpoint();
    if (mtls === undefined) return requestOnce(url, plainSend);
    // If the SVID rotates while a request is in flight, the token is bound to the old
    // certificate: ask again (a few times at most) with the new one.
    for (let round = 0; ; round++) {
      const svid = currentSvid(mtls.x509Source);
      const send = mtlsSend(() => ({
        key: svid.privateKeyPem,
        cert: svid.certChainPem,
        ca: mtls.ca,
      }));
      const token = await requestOnce(url, send);
      const used = leafFingerprint(svid);
      if (round >= 2 || leafFingerprint(currentSvid(mtls.x509Source)) === used) {
        boundTo = used;
        return token;
      }
    }
  }

  const cache = createTokenCache({ fetchToken });

  function dropIfRotated(): void {
    if (mtls === undefined || boundTo === undefined) return;
    let now: string | undefined;
    try {
      now = leafFingerprint(mtls.x509Source.getX509Svid());
    } catch {
      now = undefined;
    }
    if (now !== boundTo) {
      boundTo = undefined;
      cache.invalidate();
    }
  }

  const unsubscribe = mtls?.x509Source.subscribe?.((event) => {
    if (event.type === 'updated') dropIfRotated();
  });

  return {
    getToken(): Promise<string> {
      dropIfRotated(); // also covers X509Sources without subscribe()
      return cache.get();
    },
    close(): void {
      unsubscribe?.();
      cache.close();
    },
  };
}
