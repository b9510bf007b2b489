import { createHash } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { Lru } from '../internal/lru.js';
import { IssuerKeys, KeysUnavailableError, type JwtIssuerConfig } from './issuer-keys.js';

/** Stable reasons a presented token is refused. */
export type TokenFailureReason =
  | 'jwt_malformed'
  | 'jwt_issuer_unknown'
  | 'jwt_expired'
  | 'jwt_not_yet_valid'
  | 'jwt_audience_mismatch'
  | 'jwt_claims_invalid'
  | 'jwt_signature_invalid'
  | 'jwt_alg_not_allowed'
  | 'jwt_invalid'
  | 'jwks_unavailable';

/** A token that verified. `claims` is the verified payload. */
export interface VerifiedToken {
  readonly issuer: string;
  readonly subject: string | undefined;
  readonly claims: JWTPayload;
  readonly alg: string;
  readonly kid: string | undefined;
}

export type TokenResult =
  | { readonly kind: 'ok'; readonly token: VerifiedToken; readonly cached: boolean }
  | {
      readonly kind: 'fail';
      readonly reason: TokenFailureReason;
      /** Safe to show: never contains the token or claim values. */
      readonly detail: string;
      readonly issuer?: string | undefined;
      readonly alg?: string | undefined;
      readonly kid?: string | undefined;
    };

/** Options of {@link JwtVerifier}. */
export interface JwtVerifierOptions {
  issuers: JwtIssuerConfig[];
  /** Seconds of clock skew accepted on `exp`/`nbf`. Default 30, at most 300. */
  clockToleranceSec?: number;
  /** Asymmetric algorithms accepted. Default: ES256/384/512, RS256/384/512, PS256/384/512, EdDSA. */
  algorithms?: string[];
  /** fetch used for discovery and JWKS (e.g. one that trusts a private CA). */
  fetch?: typeof fetch;
  /** Allow plain-HTTP discovery and JWKS URLs beyond loopback. Default false. */
  allowInsecureHttp?: boolean;
}

const DEFAULT_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
];
const MAX_TOKEN_BYTES = 8192;
const MAX_CACHE_ENTRY_MS = 60_000;
const SAFE_ALG = /^[A-Za-z0-9+_-]{1,16}$/;
const SAFE_KID = /^[\x21-\x7e]{1,256}$/;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

interface CacheEntry {
  token: VerifiedToken;
  until: number;
  exp: number | undefined;
  nbf: number | undefined;
}

/**
 * Verifies bearer JWTs against per-issuer key stores. The issuer is chosen by exact `iss` before
 * any network I/O; embedded keys (`jku`, `x5u`, `jwk`, `x5c`) are never used. Verified tokens are
 * cached by SHA-256 of the token (bounded), with `exp`/`nbf` re-checked on every hit.
 */
export class JwtVerifier {
  /** Rules per exact issuer; a token is accepted when it satisfies any of them (Istio merges rules). */
  readonly #issuers = new Map<string, IssuerKeys[]>();
  readonly #tolerance: number;
  readonly #algorithms: string[];
  readonly #cache = new Lru<string, CacheEntry>(10_000);

  constructor(options: JwtVerifierOptions) {
    for (const config of options.issuers) {
      const rules = this.#issuers.get(config.issuer) ?? [];
      rules.push(
        new IssuerKeys(config, {
          fetch: options.fetch,
          allowInsecureHttp: options.allowInsecureHttp,
        }),
      );
      this.#issuers.set(config.issuer, rules);
    }
    this.#tolerance = Math.min(Math.max(options.clockToleranceSec ?? 30, 0), 300);
    this.#algorithms = options.algorithms ?? DEFAULT_ALGORITHMS;
  }

  /** True when at least one issuer is configured. */
  get enabled(): boolean {
    return this.#issuers.size > 0;
  }

  async verify(token: string, now: number = Date.now()): Promise<TokenResult> {
    if (token.length > MAX_TOKEN_BYTES || !COMPACT_JWS.test(token))
      return { kind: 'fail', reason: 'jwt_malformed', detail: 'token is not a compact JWS' };
    const cacheKey = createHash('sha256').update(token).digest('base64url');
    const hit = this.#cache.get(cacheKey);
    if (hit && now < hit.until) {
      const failure = this.#checkTimes(hit, now);
      if (failure) return failure;
      return { kind: 'ok', token: hit.token, cached: true };
    }

    let iss: unknown;
    let alg: string | undefined;
    let kid: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      // Unverified input that reaches spans and logs: keep only well-formed values.
      alg = typeof header.alg === 'string' && SAFE_ALG.test(header.alg) ? header.alg : undefined;
      kid = typeof header.kid === 'string' && SAFE_KID.test(header.kid) ? header.kid : undefined;
      iss = decodeJwt(token).iss;
    } catch {
      return {
        kind: 'fail',
        reason: 'jwt_malformed',
        detail: 'token header or payload is not valid JSON',
      };
    }
    if (typeof iss !== 'string')
      return {
        kind: 'fail',
        reason: 'jwt_issuer_unknown',
        detail: 'token has no iss claim',
        alg,
        kid,
      };
    const rules = this.#issuers.get(iss);
    if (!rules)
      return {
        kind: 'fail',
        reason: 'jwt_issuer_unknown',
        detail: 'no rule for the token issuer',
        alg,
        kid,
      };
    const ctx = { issuer: iss, alg, kid };
    if (alg === undefined || !this.#algorithms.includes(alg))
      return {
        kind: 'fail',
        reason: 'jwt_alg_not_allowed',
        detail: 'token algorithm is not allowed',
        ...ctx,
      };

    let failure: { reason: TokenFailureReason; detail: string } | undefined;
    for (const keys of rules) {
      let payload: JWTPayload;
      try {
        const audiences = keys.config.audiences;
        ({ payload } = await jwtVerify(token, keys.getKey, {
          issuer: iss,
          algorithms: this.#algorithms,
          clockTolerance: this.#tolerance,
          requiredClaims: ['exp'],
          currentDate: new Date(now),
          ...(audiences && audiences.length > 0 ? { audience: audiences } : {}),
        }));
      } catch (error) {
        const f = classify(error);
        // Keys that could not be fetched mean no decision could be made for this rule.
        if (failure === undefined || f.reason === 'jwks_unavailable') failure = f;
        continue;
      }
      if (typeof payload.iat === 'number' && payload.iat * 1000 > now + this.#tolerance * 1000) {
        failure ??= { reason: 'jwt_claims_invalid', detail: 'claim iat is in the future' };
        continue;
      }
      const verified: VerifiedToken = {
        issuer: iss,
        subject: typeof payload.sub === 'string' ? payload.sub : undefined,
        // Shared by every request carrying this token (cache): frozen so no handler can alter it.
        claims: deepFreeze(payload),
        alg,
        kid,
      };
      const exp = typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
      this.#cache.set(cacheKey, {
        token: verified,
        until: Math.min(
          exp === undefined ? Infinity : exp + this.#tolerance * 1000,
          now + MAX_CACHE_ENTRY_MS,
        ),
        exp,
        nbf: typeof payload.nbf === 'number' ? payload.nbf * 1000 : undefined,
      });
      return { kind: 'ok', token: verified, cached: false };
    }
    return {
      kind: 'fail',
      ...(failure ?? { reason: 'jwt_invalid', detail: 'token is invalid' }),
      ...ctx,
    };
  }

  #checkTimes(entry: CacheEntry, now: number): TokenResult | undefined {
    const skew = this.#tolerance * 1000;
    const ctx = { issuer: entry.token.issuer, alg: entry.token.alg, kid: entry.token.kid };
    if (entry.exp !== undefined && now >= entry.exp + skew)
      return { kind: 'fail', reason: 'jwt_expired', detail: 'token is expired', ...ctx };
    if (entry.nbf !== undefined && now < entry.nbf - skew)
      return {
        kind: 'fail',
        reason: 'jwt_not_yet_valid',
        detail: 'token is not yet valid',
        ...ctx,
      };
    return undefined;
  }
}

/** Maps every error, a jose `TypeError` included, to a stable reason. Never throws. */
function classify(error: unknown): { reason: TokenFailureReason; detail: string } {
  if (error instanceof KeysUnavailableError)
    return { reason: 'jwks_unavailable', detail: 'signing keys of the issuer are unavailable' };
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

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
