/**
 * `guard.explain(facts)`: the decision `check` would make, and, for every AuthorizationPolicy in
 * scope, whether it matched and where each rule failed. For humans and tooling; `check` stays the
 * hot path and never pays for it.
 */
import type { AuthzAttributes, CompiledPolicy } from '../policy/compile-policy.js';
import { explainPolicy, notEvaluated, type PolicyExplanation } from '../policy/explain-rule.js';
import { internalErrorDecision, type Decision, type DecisionReason } from './decision.js';
import type { RequestFacts } from './request-facts.js';

export type { PolicyExplanation, RuleExplanation } from '../policy/explain-rule.js';

/** The pipeline stage that decided a request. */
export type ExplainStage = 'request' | 'peer' | 'custom' | 'token' | 'authorization' | 'internal';

/**
 * A decision, its stage, and every AuthorizationPolicy in scope. Holds no token and no claim
 * values: `decision` is the one `check` returns without `claims` and `requestHeaders`, and with
 * the query removed from `url`.
 */
export interface Explanation {
  decision: Decision;
  /**
   * The stage that decided: `request` (400 pre-checks), `peer` (mTLS, 403), `custom` (a CUSTOM
   * provider denied or failed), `token` (RequestAuthentication, 401 or 503), `authorization`
   * (DENY/ALLOW), `internal` (503 `internal_error`). Policies of a stage that did not run are
   * listed with `evaluated: false`.
   */
  stage: ExplainStage;
  /** Every AuthorizationPolicy in scope for the workload (enforced and dry-run), in load order. */
  policies: PolicyExplanation[];
}

/** Receives the attributes authorization reads, each time the pipeline builds them. */
export type AttrsProbe = (attrs: AuthzAttributes) => void;

/** Passes `attrs` through, showing them to `probe` first (explain only; `check` passes none). */
export function probed(probe: AttrsProbe | undefined, attrs: AuthzAttributes): AuthzAttributes {
  probe?.(attrs);
  return attrs;
}

/** The stage a decision came from, by its reason code. */
export function stageOf(reason: DecisionReason): ExplainStage {
  if (reason.startsWith('request_')) return 'request';
  if (reason.startsWith('mtls_')) return 'peer';
  if (reason.startsWith('authz_custom_')) return 'custom';
  if (reason.startsWith('jwt') || reason === 'jwks_unavailable') return 'token';
  if (reason.startsWith('authz_')) return 'authorization';
  return 'internal';
}

/** The decision without token content: no claims, no header values set from claims, no query. */
function redact(decision: Decision): Decision {
  const { claims: _claims, requestHeaders: _headers, ...rest } = decision;
  if (rest.url !== undefined) rest.url = rest.url.split('?', 1)[0] as string;
  return rest;
}

/** CUSTOM runs before the token: it never sees token attributes. */
function withoutToken(attrs: AuthzAttributes): AuthzAttributes {
  return { ...attrs, requestIssuer: undefined, requestSubject: undefined, claims: undefined };
}

/**
 * Runs the guard's pipeline once with a probe, then explains each policy against the attributes
 * the pipeline built: CUSTOM policies whenever the CUSTOM stage was reached, the others only when
 * authorization ran.
 */
export async function explainRequest(
  facts: RequestFacts,
  compiled: readonly CompiledPolicy[],
  decide: (facts: RequestFacts, probe: AttrsProbe) => Promise<Decision>,
): Promise<Explanation> {
  let attrs: AuthzAttributes | undefined;
  let decision: Decision;
  try {
    decision = await decide(facts, (a) => (attrs = a));
  } catch {
    decision = internalErrorDecision();
  }
  const stage = stageOf(decision.reason);
  const seen = attrs;
  const policies = compiled.map((p) => {
    if (seen === undefined) return notEvaluated(p);
    if (p.action === 'CUSTOM') return explainPolicy(p, withoutToken(seen));
    return stage === 'authorization' ? explainPolicy(p, seen) : notEvaluated(p);
  });
  return { decision: redact(decision), stage, policies };
}
