import type { AuthzAttributes, CompiledPolicy } from './compile-policy.js';

/** Outcome of authorization, before telemetry and HTTP mapping. */
export interface AuthzResult {
  allow: boolean;
  reason:
    'authz_allow_policy' | 'authz_allow_default' | 'authz_deny_policy' | 'authz_no_allow_match';
  /** `namespace/name` of the deciding policy (absent for the default). */
  policy?: string;
  rule?: number;
  action?: 'ALLOW' | 'DENY';
  audit?: boolean;
  /** Set when the dry-run policies, evaluated on their own, would deny. */
  dryRun?: { wouldDeny: boolean; policy?: string };
}

type Verdict = Omit<AuthzResult, 'audit' | 'dryRun'>;

function firstMatch(policy: CompiledPolicy, attrs: AuthzAttributes): number {
  const rules = policy.rules;
  if (policy.index) {
    // Only the rules whose paths fit, in rule order: the same first match as the full scan.
    for (const i of policy.index.candidates(attrs.path))
      if ((rules[i] as (a: AuthzAttributes) => boolean)(attrs)) return i;
    return -1;
  }
  for (let i = 0; i < rules.length; i++)
    if ((rules[i] as (a: AuthzAttributes) => boolean)(attrs)) return i;
  return -1;
}

/**
 * DENY (any match denies), then ALLOW (once any ALLOW policy applies, a request none matches is
 * denied), over either the enforced or the dry-run policies only: Istio evaluates dry-run
 * policies in a separate shadow engine.
 */
function decide(
  policies: readonly CompiledPolicy[],
  attrs: AuthzAttributes,
  dryRun: boolean,
): Verdict {
  for (const p of policies) {
    if (p.action !== 'DENY' || p.dryRun !== dryRun) continue;
    const rule = firstMatch(p, attrs);
    if (rule >= 0)
      return { allow: false, reason: 'authz_deny_policy', policy: p.name, rule, action: 'DENY' };
  }
  let anyAllow = false;
  for (const p of policies) {
    if (p.action !== 'ALLOW' || p.dryRun !== dryRun) continue;
    anyAllow = true;
    const rule = firstMatch(p, attrs);
    if (rule >= 0)
      return { allow: true, reason: 'authz_allow_policy', policy: p.name, rule, action: 'ALLOW' };
  }
  return anyAllow
    ? { allow: false, reason: 'authz_no_allow_match' }
    : { allow: true, reason: 'authz_allow_default' };
}

/**
 * Istio's order: DENY then ALLOW (default deny once any enforced ALLOW policy applies); AUDIT only
 * marks; dry-run (`istio.io/dry-run`) policies are evaluated on their own and reported, never
 * enforced, and never cause the default deny of enforced policies.
 */
export function evaluatePolicies(
  policies: readonly CompiledPolicy[],
  attrs: AuthzAttributes,
): AuthzResult {
  let audit = false;
  let anyDryRun = false;
  for (const p of policies) {
    if (p.dryRun) anyDryRun = true;
    else if (p.action === 'AUDIT' && !audit && firstMatch(p, attrs) >= 0) audit = true;
  }
  const result: AuthzResult = decide(policies, attrs, false);
  if (audit) result.audit = true;
  if (anyDryRun) {
    const shadow = decide(policies, attrs, true);
    if (!shadow.allow)
      result.dryRun = { wouldDeny: true, ...(shadow.policy ? { policy: shadow.policy } : {}) };
  }
  return result;
}
