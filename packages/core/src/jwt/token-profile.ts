import type { JWTPayload } from 'jose';
import { ConfigError } from '../errors.js';
import type { TokenFailure } from './jwt-verifier.js';

/** Per-rule token requirements, on top of signature, `iss`, `aud`, `exp` and `nbf`. */
export interface JwtRuleOptions {
  /**
   * `'rfc9068'`: JWT access tokens only (RFC 9068 §4): header `typ` `at+jwt` (or
   * `application/at+jwt`), and the claims `iss`, `exp`, `aud`, `sub`, `client_id`, `iat` and `jti`.
   * Refuses ID tokens and other JWTs signed by the same issuer. Default: no profile.
   */
  profile?: 'rfc9068';
  /**
   * Longest accepted token lifetime in seconds: `exp − iat`, or `exp − now` for a token without
   * `iat`. Default 86 400 (24 h). `Infinity` turns the check off.
   */
  maxLifetimeSec?: number;
  /** Claims that must be present (any value). */
  requiredClaims?: string[];
}

/** Default {@link JwtRuleOptions.maxLifetimeSec}: 24 hours. */
export const DEFAULT_MAX_LIFETIME_SEC = 86_400;

/** The claims RFC 9068 §2.2 makes mandatory in a JWT access token. */
export const RFC9068_CLAIMS: readonly string[] = [
  'iss',
  'exp',
  'aud',
  'sub',
  'client_id',
  'iat',
  'jti',
];

/** Media types compare case-insensitively, and `application/` may be left out (RFC 7515 §4.1.9). */
function normalizeTyp(typ: string): string {
  return typ.toLowerCase().replace(/^application\//, '');
}

/** Header check of the RFC 9068 profile: `typ` must be `at+jwt`. */
export function checkAccessTokenTyp(typ: unknown): TokenFailure | undefined {
  if (typeof typ === 'string' && normalizeTyp(typ) === 'at+jwt') return undefined;
  return { reason: 'jwt_typ_invalid', detail: 'token typ is not at+jwt' };
}

/**
 * Claim checks of the RFC 9068 profile beyond presence (jose's `requiredClaims` checks that):
 * `sub`, `client_id` and `jti` are non-empty strings.
 */
export function checkAccessTokenClaims(payload: JWTPayload): TokenFailure | undefined {
  for (const claim of ['sub', 'client_id', 'jti']) {
    const value = payload[claim];
    if (typeof value !== 'string' || value === '')
      return { reason: 'jwt_claims_invalid', detail: `claim ${claim} must be a non-empty string` };
  }
  return undefined;
}

/** Refuses a token that lives longer than `maxLifetimeSec` (`exp − iat`, else `exp − now`). */
export function checkLifetime(
  payload: JWTPayload,
  maxLifetimeSec: number,
  now: number,
): TokenFailure | undefined {
  if (typeof payload.exp !== 'number') return undefined; // exp is required before this runs
  const start = typeof payload.iat === 'number' ? payload.iat : now / 1000;
  if (payload.exp - start > maxLifetimeSec)
    return { reason: 'jwt_claims_invalid', detail: 'token lifetime exceeds the maximum' };
  return undefined;
}

/** Claim names jose must find in the payload for a rule with these options. */
export function requiredClaimsOf(options: JwtRuleOptions): string[] {
  const names = new Set(['exp', ...(options.requiredClaims ?? [])]);
  if (options.profile === 'rfc9068') for (const c of RFC9068_CLAIMS) names.add(c);
  return [...names];
}

/**
 * Validates {@link JwtRuleOptions} of one rule.
 *
 * @throws {ConfigError}
 */
export function validateRuleOptions(options: JwtRuleOptions, where: string): void {
  if (options.profile !== undefined && options.profile !== 'rfc9068')
    throw new ConfigError(`${where}.profile must be 'rfc9068' when set`);
  const max = options.maxLifetimeSec;
  if (max !== undefined && (typeof max !== 'number' || Number.isNaN(max) || max <= 0))
    throw new ConfigError(`${where}.maxLifetimeSec must be a positive number of seconds`);
  const claims = options.requiredClaims;
  if (
    claims !== undefined &&
    (!Array.isArray(claims) || claims.some((c) => typeof c !== 'string' || c === ''))
  )
    throw new ConfigError(`${where}.requiredClaims must be a list of non-empty claim names`);
}
