import { KeysUnavailableError } from './issuer-keys.js';
import type { TokenFailure } from './jwt-verifier.js';

/** Maps every error, a jose `TypeError` included, to a stable reason. Never throws. */
export function classify(error: unknown): TokenFailure {
  if (
    error instanceof KeysUnavailableError ||
    (error as { code?: unknown } | null)?.code === 'ERR_KEYS_UNAVAILABLE'
  )
    return {
      reason: 'jwks_unavailable',
      detail: 'signing keys of the issuer are unavailable',
      ...(typeof (error as { retryAfterSec?: unknown }).retryAfterSec === 'number'
        ? { retryAfterSec: (error as { retryAfterSec: number }).retryAfterSec }
        : {}),
    };
  const e = error as { code?: unknown; claim?: unknown };
  switch (e.code) {
    case 'ERR_JWT_EXPIRED':
      return { reason: 'jwt_expired', detail: 'token is expired' };
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (e.claim === 'aud')
        return { reason: 'jwt_audience_mismatch', detail: 'token audience is not accepted' };
      if (e.claim === 'nbf')
        return { reason: 'jwt_not_yet_valid', detail: 'token is not yet valid' };
      return { reason: 'jwt_claims_invalid', detail: `claim ${String(e.claim)} failed validation` };
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return { reason: 'jwt_signature_invalid', detail: 'token signature did not verify' };
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return { reason: 'jwt_alg_not_allowed', detail: 'token algorithm is not allowed' };
    default:
      return { reason: 'jwt_invalid', detail: 'token is invalid' };
  }
}
