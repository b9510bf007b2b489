import { context, SpanStatusCode, trace, type Attributes, type Tracer } from '@opentelemetry/api';
import { bearerChallenge } from '../http/challenge.js';
import type { JwtVerifier, VerifiedToken } from '../jwt/jwt-verifier.js';
import { DEFAULT_LOCATIONS, locationKey, searchToken } from '../jwt/locations.js';
import { outputHeaderNames, tokenOutputs, type RequestChanges } from '../jwt/token-outputs.js';
import { thumbprintFromFingerprint256 } from '../jwt/token-binding.js';
import type { TokenRule } from '../jwt/token-rules.js';
import type { JwtLocation, JwtRule } from '../policy/model.js';
import * as A from '../telemetry/attributes.js';
import type { AuthnOutcome, GuardTelemetry } from '../telemetry/guard-telemetry.js';
import type { Decision, DecisionReason } from './decision.js';
import type { RequestFacts } from './request-facts.js';

export type TokenStageResult =
  | { readonly kind: 'none'; readonly changes: RequestChanges }
  | { readonly kind: 'ok'; readonly token: VerifiedToken; readonly changes: RequestChanges }
  | { readonly kind: 'deny'; readonly decision: Decision };

const RETRY_AFTER_SEC = '30';

/** A token rule as the stage sees it: the verifier's rule plus RequestAuthentication's locations and outputs. */
export type TokenStageRule = TokenRule &
  Partial<
    Pick<
      JwtRule,
      | 'locations'
      | 'outputPayloadToHeader'
      | 'outputClaimToHeaders'
      | 'forwardOriginalToken'
      | 'timeoutMs'
    >
  >;

function deny(
  status: 401 | 503,
  reason: DecisionReason,
  detail: string,
  headers: Record<string, string>,
): TokenStageResult {
  return { kind: 'deny', decision: { allow: false, status, reason, detail, headers } };
}

function challenge(reason: DecisionReason, detail: string): Record<string, string> {
  const error =
    reason === 'jwt_malformed' || reason === 'jwt_ambiguous' ? 'invalid_request' : 'invalid_token';
  return { 'www-authenticate': bearerChallenge({ error, description: detail }) };
}

/**
 * The RequestAuthentication stage (Istio semantics): the token is looked for at every location
 * the rules name (default: `Authorization: Bearer`, `?access_token=`); no token is anonymous; an
 * invalid token, or a token whose issuer has no rule for the location it was found at
 * (CVE-2021-21378), is 401; unavailable keys are 503. On success, output headers are set and the
 * token is removed unless `forwardOriginalToken`. Incoming headers named like outputs are always
 * removed.
 */
export function createTokenStage(
  rules: readonly TokenStageRule[],
  verifier: JwtVerifier,
  tracer: Tracer,
  telemetry?: GuardTelemetry,
) {
  const locations: JwtLocation[] = [];
  const seen = new Set<string>();
  for (const r of rules)
    for (const l of r.locations ?? DEFAULT_LOCATIONS)
      if (!seen.has(locationKey(l))) {
        seen.add(locationKey(l));
        locations.push(l);
      }
  const outputs = outputHeaderNames(rules);
  // Per (location, accepting rule): the location is one of `locations` and the rule comes from the
  // configuration, so this is computed once per pair, not per request.
  const ownRules = new Map<JwtLocation, (readonly TokenStageRule[])[]>();
  const rulesAt = (ruleIndex: number, location: JwtLocation): readonly TokenStageRule[] => {
    let byRule = ownRules.get(location);
    if (byRule === undefined) ownRules.set(location, (byRule = []));
    let own = byRule[ruleIndex];
    if (own === undefined) {
      const key = locationKey(location);
      const accepting = rules[ruleIndex];
      own = rules.filter(
        (r, i) =>
          (i === ruleIndex || (accepting?.issuer !== undefined && r.issuer === accepting.issuer)) &&
          (r.locations ?? DEFAULT_LOCATIONS).some((l) => locationKey(l) === key),
      );
      byRule[ruleIndex] = own;
    }
    return own;
  };

  /**
   * @param peerFingerprint256 The verified client certificate of this request (Node's colon
   *   form), for sender-constrained tokens (RFC 8705 `cnf["x5t#S256"]`).
   */
  return async function tokenStage(
    facts: RequestFacts,
    query: string | undefined,
    peerFingerprint256: string | undefined,
  ): Promise<TokenStageResult> {
    const changes: RequestChanges = { remove: [...outputs], set: {}, removeParams: [] };
    // Without any RequestAuthentication a token is not looked at (as in Istio).
    if (!verifier.enabled) return { kind: 'none', changes };
    const search = searchToken(locations, facts.headers, query);
    if (search.kind === 'none') return { kind: 'none', changes };
    const span = tracer.startSpan(A.SPAN_AUTHN_JWT, {
      attributes: { [A.ATTR_AUTHN_METHOD]: 'jwt' },
    });
    const startedAt = telemetry?.start() ?? 0;
    let outcome: AuthnOutcome | undefined;
    try {
      const fail = (
        reason: DecisionReason,
        detail: string,
        attrs: Attributes = {},
        retryAfterSec?: number,
      ): TokenStageResult => {
        span.setAttributes({
          ...attrs,
          [A.ATTR_AUTHN_RESULT]: 'failure',
          [A.ATTR_AUTHN_FAILURE_REASON]: reason,
        });
        if (telemetry?.on) {
          const issuer = attrs[A.ATTR_JWT_ISSUER];
          outcome = {
            result: 'failure',
            reason,
            ...(reason === 'jwks_unavailable' ? { errorType: 'jwks_unavailable' } : {}),
            ...(typeof issuer === 'string' ? { issuer } : {}),
          };
        }
        if (reason === 'jwks_unavailable') {
          // No decision could be made: Error status, and 503 so clients back off instead of re-authenticating.
          span.setAttribute(A.ATTR_ERROR_TYPE, 'jwks_unavailable');
          span.setStatus({ code: SpanStatusCode.ERROR, message: 'jwks_unavailable' });
          return deny(503, reason, detail, {
            'retry-after': String(retryAfterSec ?? RETRY_AFTER_SEC),
          });
        }
        return deny(401, reason, detail, challenge(reason, detail));
      };
      if (search.kind === 'ambiguous')
        return fail('jwt_ambiguous', 'more than one token in the request');
      const { token, location } = search.found;
      const verifyContext = peerFingerprint256
        ? { peerCertificateThumbprint: thumbprintFromFingerprint256(peerFingerprint256) }
        : {};
      // Active for the verification, so a JWKS download it causes is a child `jwks.fetch` span.
      const result = span.isRecording()
        ? await context.with(trace.setSpan(context.active(), span), () =>
            verifier.verify(token, verifyContext),
          )
        : await verifier.verify(token, verifyContext);
      const attrs: Attributes = {};
      const info = result.kind === 'ok' ? result.token : result;
      if (info.issuer) attrs[A.ATTR_JWT_ISSUER] = info.issuer;
      if (info.alg) attrs[A.ATTR_JWT_ALG] = info.alg;
      if (info.kid) attrs[A.ATTR_JWT_KID] = info.kid;
      if (result.kind !== 'ok')
        return fail(result.reason, result.detail, attrs, result.retryAfterSec);
      // The rules of the token's issuer (the accepting one, and every rule with the same `iss`)
      // that look at the location the token was found at.
      const own = rulesAt(result.token.ruleIndex, location);
      if (own.length === 0)
        return fail(
          'jwt_issuer_unknown',
          'no rule for the token issuer at this token location',
          attrs,
        );
      if (span.isRecording())
        span.setAttributes({
          ...attrs,
          [A.ATTR_AUTHN_RESULT]: 'success',
          [A.ATTR_AUTHN_CACHED]: result.cached,
        });
      if (telemetry?.on) outcome = { result: 'success' };
      tokenOutputs(own, result.token.claims, location, facts.headers, changes);
      return { kind: 'ok', token: result.token, changes };
    } finally {
      if (outcome) telemetry?.authn('jwt', startedAt, outcome, facts.sourceIp, span);
      span.end();
    }
  };
}
