import { hash } from 'node:crypto';
import { compactVerify, type JWTPayload } from 'jose';
import { Lru } from '../internal/lru.js';
import type { IssuerKeysOptions } from './issuer-keys.js';
import { deepFreeze } from '../internal/deep-freeze.js';
import { classify } from './failure-reason.js';
import { checkClaims } from './token-claims.js';
import { decodeToken } from './token-decode.js';
import type { JwksStatus } from './jwks-options.js';
import {
  certificateThumbprint,
  checkConfirmation,
  readConfirmation,
  type TokenConfirmation,
} from './token-binding.js';
import {
  checkRuleHeader,
  checkRulePayload,
  compileRule,
  type CompiledRule,
  type TokenRule,
} from './token-rules.js';
import { spiffeTrustDomainOf, type TokenWorkload } from './token-workload.js';

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
  /** The header `typ` is not the one the rule requires (RFC 9068 `at+jwt`, JWT-SVID `JWT`/`JOSE`). */
  | 'jwt_typ_invalid'
  /** The token is sender-constrained (`cnf`) and this request cannot satisfy it (RFC 8705). */
  | 'jwt_cnf_mismatch'
  | 'jwt_invalid'
  | 'jwks_unavailable';

/** Why one rule refused a token. */
export interface TokenFailure {
  readonly reason: TokenFailureReason;
  /** Fixed vocabulary: never the token or claim values. */
  readonly detail: string;
  /** For `jwks_unavailable`: when to try again, in seconds. */
  readonly retryAfterSec?: number;
}

/** A token that verified. `claims` is the verified payload. */
export interface VerifiedToken {
  /** `iss`; for a JWT-SVID without `iss`, the trust domain ID (`spiffe://example.org`). */
  readonly issuer: string;
  readonly subject: string | undefined;
  /**
   * The request principal: `iss/sub` as Istio forms it, or the SPIFFE ID for a JWT-SVID.
   */
  readonly principal: string;
  readonly claims: JWTPayload;
  readonly alg: string;
  readonly kid: string | undefined;
  /** Index in {@link JwtVerifierOptions.issuers} of the rule that accepted the token. */
  readonly ruleIndex: number;
  /** The workload a JWT-SVID or a Kubernetes service-account token names. */
  readonly workload?: TokenWorkload;
  /** `cnf.x5t#S256` of a certificate-bound token (RFC 8705); checked against the request's peer. */
  readonly certificateThumbprint?: string;
}

/** The request a token arrived with. */
export interface VerifyContext {
  /**
   * DER of the verified mTLS client certificate of this request. A token bound to a certificate
   * (`cnf.x5t#S256`) is accepted only with this certificate.
   */
  peerCertificateDer?: Uint8Array | undefined;
  /**
   * The same as a ready `x5t#S256` thumbprint (see `thumbprintFromFingerprint256`); ignored when
   * `peerCertificateDer` is given.
   */
  peerCertificateThumbprint?: string | undefined;
  /** Current time in ms since the epoch. Default `Date.now()`. */
  now?: number | undefined;
}

export type TokenResult =
  | { readonly kind: 'ok'; readonly token: VerifiedToken; readonly cached: boolean }
  | {
      readonly kind: 'fail';
      readonly reason: TokenFailureReason;
      /** Safe to show: never contains the token or claim values. */
      readonly detail: string;
      /** For `jwks_unavailable`: when to try again, in seconds. */
      readonly retryAfterSec?: number | undefined;
      readonly issuer?: string | undefined;
      readonly alg?: string | undefined;
      readonly kid?: string | undefined;
    };

/** Options of {@link JwtVerifier}. */
export interface JwtVerifierOptions {
  /**
   * OIDC issuers (optionally with `profile`, `maxLifetimeSec`, `requiredClaims`), JWT-SVID trust
   * domains (`kind: 'jwt-svid'`) and Kubernetes clusters (`kind: 'kubernetes'`).
   */
  issuers: TokenRule[];
  /** Seconds of clock skew accepted on `exp`/`nbf`. Default 30, at most 300. */
  clockToleranceSec?: number;
  /** Asymmetric algorithms accepted. Default: ES256/384/512, RS256/384/512, PS256/384/512, EdDSA. */
  algorithms?: string[];
  /** fetch used for discovery and JWKS (e.g. one that trusts a private CA). */
  fetch?: typeof fetch;
  /** Allow plain-HTTP discovery and JWKS URLs beyond loopback. Default false. */
  allowInsecureHttp?: boolean;
  /** Key store timings (TTL clamps, stale-if-error window, unknown-kid cooldown, fetch timeout). */
  keyStore?: IssuerKeysOptions['jwks'];
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
const NOT_COMPACT: TokenResult = Object.freeze({
  kind: 'fail',
  reason: 'jwt_malformed',
  detail: 'token is not a compact JWS',
});

interface CacheEntry {
  token: VerifiedToken;
  until: number;
  exp: number | undefined;
  nbf: number | undefined;
  /** Checked against the presenter on every hit: a bound token is never served to another peer. */
  confirmation: TokenConfirmation;
}

/**
 * Verifies bearer JWTs against per-rule key stores. The rule is chosen by exact `iss` (or, for a
 * JWT-SVID without `iss`, by the trust domain of `sub`) before any network I/O; embedded keys
 * (`jku`, `x5u`, `jwk`, `x5c`) are never used. Verified tokens are cached by SHA-256 of the token
 * (bounded), with `exp`/`nbf` and any certificate binding re-checked on every hit.
 */
export class JwtVerifier {
  /** Rules per exact issuer; a token is accepted when it satisfies any of them (Istio merges rules). */
  readonly #issuers = new Map<string, CompiledRule[]>();
  /** JWT-SVID rules for tokens without `iss`, per trust domain. */
  readonly #trustDomains = new Map<string, CompiledRule[]>();
  readonly #tolerance: number;
  readonly #algorithms: string[];
  readonly #cache = new Lru<string, CacheEntry>(10_000);
  /**
   * Hashes of tokens verified once and not cached yet: a token enters the cache when it is seen a
   * second time. One-off tokens (a unique token per request, a flood minted with a stolen client
   * credential) then cost a 43-character string each instead of a cache entry, and cannot evict
   * the tokens that are actually reused.
   */
  readonly #seenOnce = new Lru<string, true>(10_000);
  readonly #rules: CompiledRule[] = [];

  /** @throws {ConfigError} when a rule's kind, profile, lifetime or workload fields are invalid. */
  constructor(options: JwtVerifierOptions) {
    this.#tolerance = Math.min(Math.max(options.clockToleranceSec ?? 30, 0), 300);
    this.#algorithms = options.algorithms ?? DEFAULT_ALGORITHMS;
    options.issuers.forEach((config, i) => {
      const rule = compileRule(config, i, {
        algorithms: this.#algorithms,
        fetch: options.fetch,
        allowInsecureHttp: options.allowInsecureHttp,
        jwks: options.keyStore,
      });
      this.#rules.push(rule);
      const [map, key] =
        rule.issuer !== undefined
          ? [this.#issuers, rule.issuer]
          : [this.#trustDomains, rule.trustDomain as string];
      const rules = map.get(key) ?? [];
      rules.push(rule);
      map.set(key, rules);
      // A key that left the JWKS must not keep accepting tokens from the verified-token cache.
      rule.keys?.onKeysRemoved(() => this.#cache.clear()); // #seenOnce holds no verdicts: kept
    });
  }

  /**
   * Fetches every rule's keys now (discovery included), so the first requests do not wait.
   * Failures are not thrown: they show in {@link keyStatus}.
   */
  async prefetch(): Promise<void> {
    await Promise.allSettled(this.#rules.flatMap((r) => (r.keys ? [r.keys.prefetch()] : [])));
  }

  /** The state of every remote key store, for readiness probes. */
  keyStatus(): { issuer: string | undefined; status: JwksStatus }[] {
    return this.#rules.flatMap((r) =>
      r.keys ? [{ issuer: r.issuer, status: r.keys.status() }] : [],
    );
  }

  /** True when at least one rule is configured. */
  get enabled(): boolean {
    return this.#issuers.size > 0 || this.#trustDomains.size > 0;
  }

  /**
   * Verifies one token presented with a request. Never throws.
   *
   * @param context The request's client certificate (for bound tokens) and the time; a number is
   *   taken as `now` (ms).
   */
  async verify(token: string, context: VerifyContext | number = {}): Promise<TokenResult> {
    const ctxIn: VerifyContext = typeof context === 'number' ? { now: context } : context;
    const now = ctxIn.now ?? Date.now();
    if (token.length > MAX_TOKEN_BYTES) return NOT_COMPACT;
    const cacheKey = hash('sha256', token, 'base64url'); // one-shot: no Hash object per request
    const hit = this.#cache.get(cacheKey);
    // Only verified tokens are cached: a hit is this very string, so its shape was checked then.
    if (hit && now < hit.until) {
      const failure = this.#checkTimes(hit, now) ?? this.#checkBinding(hit, ctxIn);
      if (failure) return failure;
      return { kind: 'ok', token: hit.token, cached: true };
    }
    if (!COMPACT_JWS.test(token)) return NOT_COMPACT;

    const decoded = decodeToken(token);
    if (decoded === undefined)
      return {
        kind: 'fail',
        reason: 'jwt_malformed',
        detail: 'token header or payload is not valid JSON',
      };
    const { header, payload } = decoded;
    const { iss, sub } = payload;
    // Unverified input that reaches spans and logs: keep only well-formed values.
    const alg =
      typeof header['alg'] === 'string' && SAFE_ALG.test(header['alg']) ? header['alg'] : undefined;
    const kid =
      typeof header['kid'] === 'string' && SAFE_KID.test(header['kid']) ? header['kid'] : undefined;
    // By exact iss; a token without iss only reaches JWT-SVID rules of its sub's trust domain.
    const trustDomain = iss === undefined ? spiffeTrustDomainOf(sub) : undefined;
    const issuer =
      typeof iss === 'string' ? iss : trustDomain ? `spiffe://${trustDomain}` : undefined;
    const rules =
      typeof iss === 'string'
        ? this.#issuers.get(iss)
        : trustDomain
          ? this.#trustDomains.get(trustDomain)
          : undefined;
    if (issuer === undefined || !rules)
      return {
        kind: 'fail',
        reason: 'jwt_issuer_unknown',
        detail: typeof iss === 'string' ? 'no rule for the token issuer' : 'token has no iss claim',
        alg,
        kid,
      };
    const ctx = { issuer, alg, kid };
    // A JWT's payload is always base64url-encoded (RFC 7797 unencoded payloads are for other JWS).
    if (header['b64'] === false)
      return { kind: 'fail', reason: 'jwt_invalid', detail: 'token is invalid', ...ctx };
    if (alg === undefined || !this.#algorithms.includes(alg))
      return {
        kind: 'fail',
        reason: 'jwt_alg_not_allowed',
        detail: 'token algorithm is not allowed',
        ...ctx,
      };

    let failure: TokenFailure | undefined;
    const fail = (f: TokenFailure): void => {
      // Keys that could not be fetched mean no decision could be made for this rule.
      if (failure === undefined || f.reason === 'jwks_unavailable') failure = f;
    };
    for (const rule of rules) {
      const refused = checkRuleHeader(rule, header, alg, kid);
      if (refused) {
        fail(refused);
        continue;
      }
      try {
        // jose checks the signature over the same segments decoded above; the claims are checked
        // here, on that one decoded payload (jose's jwtVerify would decode and check them again).
        await compactVerify(token, rule.getKey, rule.jwsOptions);
      } catch (error) {
        fail(classify(error));
        continue;
      }
      const claimsFailure = checkClaims(rule, payload, now, this.#tolerance);
      if (claimsFailure) {
        fail(claimsFailure);
        continue;
      }
      const checked = checkRulePayload(rule, payload, now);
      if ('reason' in checked) {
        fail(checked);
        continue;
      }
      const { workload } = checked;
      const subject = typeof payload.sub === 'string' ? payload.sub : undefined;
      const confirmation = readConfirmation(payload);
      const verified: VerifiedToken = {
        issuer,
        subject,
        principal: workload?.kind === 'spiffe' ? workload.id : `${issuer}/${subject ?? ''}`,
        // Shared by every request carrying this token (cache): frozen so no handler can alter it.
        claims: deepFreeze(payload),
        alg,
        kid,
        ruleIndex: rule.index,
        ...(workload ? { workload } : {}),
        ...(confirmation.kind === 'x5t#S256'
          ? { certificateThumbprint: confirmation.thumbprint }
          : {}),
      };
      const exp = typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
      const entry: CacheEntry = {
        token: verified,
        until: Math.min(
          exp === undefined ? Infinity : exp + this.#tolerance * 1000,
          now + MAX_CACHE_ENTRY_MS,
        ),
        exp,
        nbf: typeof payload.nbf === 'number' ? payload.nbf * 1000 : undefined,
        confirmation,
      };
      // A token whose cache entry just lapsed is known to be reused: cached again at once.
      if (hit !== undefined || this.#seenOnce.has(cacheKey)) {
        this.#seenOnce.delete(cacheKey);
        this.#cache.set(cacheKey, entry);
      } else this.#seenOnce.set(cacheKey, true);
      // The binding belongs to the token, not the rule: a mismatch is final.
      return this.#checkBinding(entry, ctxIn) ?? { kind: 'ok', token: verified, cached: false };
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

  /** RFC 8705 §3: a certificate-bound token is accepted only from that certificate's holder. */
  #checkBinding(entry: CacheEntry, context: VerifyContext): TokenResult | undefined {
    if (entry.confirmation.kind === 'none') return undefined;
    const der = context.peerCertificateDer;
    const thumbprint =
      der !== undefined ? certificateThumbprint(der) : context.peerCertificateThumbprint;
    const failure = checkConfirmation(entry.confirmation, thumbprint);
    if (!failure) return undefined;
    const { issuer, alg, kid } = entry.token;
    return { kind: 'fail', ...failure, issuer, alg, kid };
  }
}
