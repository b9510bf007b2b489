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
  dryRun?: { wouldDeny: boolean; policy?: string };
}

function firstMatch(policy: CompiledPolicy, attrs: AuthzAttributes): number {
  for (let i = 0; i < policy.rules.length; i++)
    if ((policy.rules[i] as (a: AuthzAttributes) => boolean)(attrs)) return i;
  return -1;
}

/**
 * Istio's order: DENY (any match denies) then ALLOW (once any enforced ALLOW policy applies, a
 * request no ALLOW policy matches is denied); AUDIT only marks; dry-run policies are evaluated and
 * reported but never enforced and never cause the default deny.
 */
export function evaluatePolicies(
  policies: readonly CompiledPolicy[],
  attrs: AuthzAttributes,
): AuthzResult {
  let audit = false;
  let dryRun: AuthzResult['dryRun'];
  for (const p of policies) {
    if (p.action !== 'AUDIT') continue;
    if (firstMatch(p, attrs) >= 0) audit = true;
  }
  const extras = (): Pick<AuthzResult, 'audit' | 'dryRun'> => ({
    ...(audit ? { audit } : {}),
    ...(dryRun ? { dryRun } : {}),
  });

  for (const p of policies) {
    if (p.action !== 'DENY') continue;
    const rule = firstMatch(p, attrs);
    if (rule < 0) continue;
    if (p.dryRun) {
      dryRun ??= { wouldDeny: true, policy: p.name };
      continue;
    }
    return {
      allow: false,
      reason: 'authz_deny_policy',
      policy: p.name,
      rule,
      action: 'DENY',
      ...extras(),
    };
  }

  let anyAllow = false;
  let dryAllowMatched = false;
  let anyDryAllow = false;
  for (const p of policies) {
    if (p.action !== 'ALLOW') continue;
    const rule = firstMatch(p, attrs);
    if (p.dryRun) {
      anyDryAllow = true;
      if (rule >= 0) dryAllowMatched = true;
      continue;
    }
    anyAllow = true;
    if (rule >= 0)
      return {
        allow: true,
        reason: 'authz_allow_policy',
        policy: p.name,
        rule,
        action: 'ALLOW',
        ...extras(),
      };
  }
  if (anyDryAllow && !dryAllowMatched) dryRun ??= { wouldDeny: true };
  if (anyAllow) return { allow: false, reason: 'authz_no_allow_match', ...extras() };
  return { allow: true, reason: 'authz_allow_default', ...extras() };
}
