import { MeshlessError } from '../errors.js';

/**
 * Thrown by a key store when it has no usable key set: never fetched, the last fetch failed and
 * no earlier set is left, or the stale-if-error window of the last good set has passed. The
 * verifier maps it to `jwks_unavailable` (503), never to a 401: a 401 makes clients re-authenticate
 * and storm the identity provider.
 */
export class KeysUnavailableError extends MeshlessError {
  declare readonly code: 'ERR_KEYS_UNAVAILABLE';
  /** Seconds after which the store will try the issuer again; send it as `Retry-After`. */
  readonly retryAfterSec: number;

  constructor(message: string, options: { cause?: unknown; retryAfterSec?: number } = {}) {
    super('ERR_KEYS_UNAVAILABLE', message, 'cause' in options ? { cause: options.cause } : {});
    this.retryAfterSec = Math.max(1, Math.ceil(options.retryAfterSec ?? 5));
  }
}

/** Why one JWKS fetch failed. Stable; match on these, never on the message. */
export type JwksFetchErrorCode =
  | 'ERR_JWKS_URL_NOT_ALLOWED'
  | 'ERR_JWKS_NETWORK'
  | 'ERR_JWKS_TIMEOUT'
  | 'ERR_JWKS_REDIRECT'
  | 'ERR_JWKS_HTTP_STATUS'
  | 'ERR_JWKS_TOO_LARGE'
  | 'ERR_JWKS_INVALID';

/** One failed JWKS fetch (transport, status, size or document shape). Kept as `cause`. */
export class JwksFetchError extends MeshlessError {
  declare readonly code: JwksFetchErrorCode;

  constructor(code: JwksFetchErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}
