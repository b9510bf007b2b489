import type { JWTPayload } from 'jose';
import type { TokenFailure } from './jwt-verifier.js';

/** The registered-claim checks of one rule, fixed when the rule is compiled. @internal */
export interface ClaimChecks {
  /** Exact `iss`; undefined when the rule is chosen otherwise (JWT-SVID without `iss`). */
  readonly issuer: string | undefined;
  /** Accepted `aud` values; undefined means `aud` is not checked. */
  readonly audiences: readonly string[] | undefined;
  /** Claims that must be present (always `exp`). */
  readonly requiredClaims: readonly string[];
}

const invalid = (claim: string): TokenFailure => ({
  reason: 'jwt_claims_invalid',
  detail: `claim ${claim} failed validation`,
});
const AUDIENCE: TokenFailure = {
  reason: 'jwt_audience_mismatch',
  detail: 'token audience is not accepted',
};
const NOT_YET_VALID: TokenFailure = {
  reason: 'jwt_not_yet_valid',
  detail: 'token is not yet valid',
};
const EXPIRED: TokenFailure = { reason: 'jwt_expired', detail: 'token is expired' };
const FUTURE_IAT: TokenFailure = {
  reason: 'jwt_claims_invalid',
  detail: 'claim iat is in the future',
};

/**
 * Checks the registered claims of a payload whose signature verified, with the semantics of jose's
 * `jwtVerify` (presence of `iss`, `aud` and the required claims in that order, exact `iss`, `aud`
 * intersection, numeric `iat`/`nbf`/`exp`, `nbf > now + tolerance` not yet valid,
 * `exp <= now - tolerance` expired, whole seconds) plus meshless's own: `iat` more than the
 * tolerance in the future is refused.
 *
 * @param nowMs Current time in ms since the epoch.
 * @param toleranceSec Accepted clock skew in seconds.
 */
export function checkClaims(
  checks: ClaimChecks,
  payload: JWTPayload,
  nowMs: number,
  toleranceSec: number,
): TokenFailure | undefined {
  if (checks.issuer !== undefined && !Object.hasOwn(payload, 'iss')) return invalid('iss');
  if (checks.audiences !== undefined && !Object.hasOwn(payload, 'aud')) return AUDIENCE;
  const required = checks.requiredClaims;
  for (let i = required.length - 1; i >= 0; i--) {
    const claim = required[i] as string;
    if (!Object.hasOwn(payload, claim)) return claim === 'aud' ? AUDIENCE : invalid(claim);
  }
  if (checks.issuer !== undefined && payload.iss !== checks.issuer) return invalid('iss');
  if (checks.audiences !== undefined && !audienceMatches(payload.aud, checks.audiences))
    return AUDIENCE;

  const now = Math.floor(nowMs / 1000);
  const { iat, nbf, exp } = payload;
  if (iat !== undefined && typeof iat !== 'number') return invalid('iat');
  if (nbf !== undefined && typeof nbf !== 'number') return invalid('nbf');
  if (nbf !== undefined && nbf > now + toleranceSec) return NOT_YET_VALID;
  if (exp !== undefined && typeof exp !== 'number') return invalid('exp');
  if (exp !== undefined && exp <= now - toleranceSec) return EXPIRED;
  if (iat !== undefined && iat * 1000 > nowMs + toleranceSec * 1000) return FUTURE_IAT;
  return undefined;
}

function audienceMatches(aud: unknown, accepted: readonly string[]): boolean {
  if (typeof aud === 'string') return accepted.includes(aud);
  if (Array.isArray(aud)) return accepted.some((a) => aud.includes(a));
  return false;
}
