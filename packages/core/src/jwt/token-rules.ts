import type { JWTPayload, JWTVerifyGetKey, VerifyOptions } from 'jose';
import { ConfigError } from '../errors.js';
import { IssuerKeys, type IssuerKeysOptions, type JwtIssuerConfig } from './issuer-keys.js';
import type { TokenFailure } from './jwt-verifier.js';
import type { JwksInput } from './token-workload.js';
import {
  checkAccessTokenClaims,
  checkAccessTokenTyp,
  checkLifetime,
  DEFAULT_MAX_LIFETIME_SEC,
  requiredClaimsOf,
  validateRuleOptions,
  type JwtRuleOptions,
} from './token-profile.js';
import {
  checkJwtSvidHeader,
  JWT_SVID_ALGORITHMS,
  jwtSvidWorkload,
  kubernetesWorkload,
  localKeyResolver,
  validateJwtSvidRule,
  validateKubernetesRule,
  type JwtSvidRule,
  type KubernetesTokenRule,
  type TokenWorkload,
} from './token-workload.js';

/** An OIDC / OAuth issuer rule (Istio `jwtRules` entry) with the optional per-rule checks. */
export type OidcTokenRule = JwtIssuerConfig & JwtRuleOptions & { kind?: 'oidc' };

/** One rule of a {@link JwtVerifier}: an OIDC issuer, a SPIFFE trust domain or a Kubernetes cluster. */
export type TokenRule = OidcTokenRule | JwtSvidRule | KubernetesTokenRule;

/** A rule ready to verify: keys, allowlists and checks fixed at construction. @internal */
export interface CompiledRule {
  /** Index in the verifier's rule list. */
  readonly index: number;
  readonly kind: 'oidc' | 'jwt-svid' | 'kubernetes';
  /** Exact `iss` this rule is selected by; undefined for a JWT-SVID rule of tokens without `iss`. */
  readonly issuer: string | undefined;
  /** For JWT-SVID rules. */
  readonly trustDomain: string | undefined;
  readonly getKey: JWTVerifyGetKey;
  /** The remote key store, when the rule fetches its keys (to watch key removals). */
  readonly keys?: IssuerKeys;
  readonly audiences: readonly string[] | undefined;
  readonly algorithms: string[];
  readonly requiredClaims: string[];
  readonly maxLifetimeSec: number;
  readonly profile: 'rfc9068' | undefined;
  /** jose's signature-check options (the algorithm allowlist), built once. */
  readonly jwsOptions: VerifyOptions;
}

/** Context shared by every rule of one verifier. @internal */
export interface RuleContext extends IssuerKeysOptions {
  readonly algorithms: readonly string[];
}

/**
 * Validates one rule and prepares its key store.
 *
 * @throws {ConfigError} when a new-style field (kind, profile, lifetime, workload fields) is
 *   invalid. Plain issuer fields are validated by createGuard, as before.
 */
export function compileRule(rule: TokenRule, index: number, ctx: RuleContext): CompiledRule {
  const compiled = compileRuleFields(rule, index, ctx);
  return { ...compiled, jwsOptions: { algorithms: compiled.algorithms } };
}

function compileRuleFields(
  rule: TokenRule,
  index: number,
  ctx: RuleContext,
): Omit<CompiledRule, 'jwsOptions'> {
  const where = `token rule ${index}`;
  validateRuleOptions(rule, where);
  // RequestAuthentication `timeout` (JwtRule.timeoutMs) bounds each key fetch.
  const timeoutMs = (rule as { timeoutMs?: number }).timeoutMs;
  const keyOptions: IssuerKeysOptions = {
    fetch: ctx.fetch,
    allowInsecureHttp: ctx.allowInsecureHttp,
    jwks: { ...ctx.jwks, ...(timeoutMs !== undefined ? { timeoutMs } : {}) },
  };
  const common = {
    index,
    requiredClaims: requiredClaimsOf(rule),
    maxLifetimeSec: rule.maxLifetimeSec ?? DEFAULT_MAX_LIFETIME_SEC,
  };
  switch (rule.kind) {
    case 'jwt-svid': {
      const trustDomain = validateJwtSvidRule(rule, where);
      return {
        kind: 'jwt-svid',
        issuer: rule.issuer,
        trustDomain,
        getKey: localKeyResolver(rule.jwks, { jwtSvid: true }),
        audiences: [...rule.audiences],
        algorithms: ctx.algorithms.filter((a) => JWT_SVID_ALGORITHMS.includes(a)),
        profile: undefined,
        ...common,
      };
    }
    case 'kubernetes': {
      validateKubernetesRule(rule, where);
      const remote =
        rule.jwks !== undefined
          ? undefined
          : new IssuerKeys(
              {
                issuer: rule.issuer,
                ...(rule.jwksUri !== undefined ? { jwksUri: rule.jwksUri } : {}),
              },
              keyOptions,
            );
      return {
        kind: 'kubernetes',
        issuer: rule.issuer,
        trustDomain: undefined,
        getKey: remote ? remote.getKey : localKeyResolver(rule.jwks as JwksInput),
        ...(remote ? { keys: remote } : {}),
        audiences: [...rule.audiences],
        algorithms: [...ctx.algorithms],
        profile: undefined,
        ...common,
      };
    }
    case undefined:
    case 'oidc': {
      // A RequestAuthentication may carry its keys inline (`jwks`): no fetch at all then.
      const inline = (rule as { jwks?: JwksInput }).jwks;
      const keys = inline === undefined ? new IssuerKeys(rule, keyOptions) : undefined;
      const audiences = rule.audiences;
      return {
        kind: 'oidc',
        issuer: rule.issuer,
        trustDomain: undefined,
        getKey: keys ? keys.getKey : localKeyResolver(inline as JwksInput),
        ...(keys ? { keys } : {}),
        audiences: audiences && audiences.length > 0 ? audiences : undefined,
        algorithms: [...ctx.algorithms],
        profile: rule.profile,
        ...common,
      };
    }
    default:
      throw new ConfigError(`${where}.kind must be 'oidc', 'jwt-svid' or 'kubernetes'`);
  }
}

/** Header checks of a rule, before any key is fetched. */
export function checkRuleHeader(
  rule: CompiledRule,
  header: Readonly<Record<string, unknown>>,
  alg: string,
  kid: string | undefined,
): TokenFailure | undefined {
  if (!rule.algorithms.includes(alg))
    return { reason: 'jwt_alg_not_allowed', detail: 'token algorithm is not allowed' };
  if (rule.profile === 'rfc9068') return checkAccessTokenTyp(header['typ']);
  if (rule.kind === 'jwt-svid') return checkJwtSvidHeader(header, kid);
  return undefined;
}

/** Payload checks of a rule after the signature and standard claims verified. */
export function checkRulePayload(
  rule: CompiledRule,
  payload: JWTPayload,
  now: number,
): { workload: TokenWorkload | undefined } | TokenFailure {
  const lifetime = checkLifetime(payload, rule.maxLifetimeSec, now);
  if (lifetime) return lifetime;
  if (rule.profile === 'rfc9068') {
    const claims = checkAccessTokenClaims(payload);
    if (claims) return claims;
  }
  if (rule.kind === 'jwt-svid') {
    const workload = jwtSvidWorkload(payload, rule.trustDomain as string);
    return 'reason' in workload ? workload : { workload };
  }
  if (rule.kind === 'kubernetes') {
    const workload = kubernetesWorkload(payload);
    return 'reason' in workload ? workload : { workload };
  }
  return { workload: undefined };
}
