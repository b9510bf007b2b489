import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../../src/policy/compile-policy.js';
import { evaluatePolicies } from '../../src/policy/evaluate.js';
import { loadPolicies } from '../../src/policy/load-policies.js';
import type { AuthorizationPolicy } from '../../src/policy/model.js';
import { attrs, CTX, fromSource, policy, toOperation } from './helpers.js';

const compile = (...policies: AuthorizationPolicy[]) => policies.map((p) => compilePolicy(p, CTX));
const DRY = { annotations: { 'istio.io/dry-run': 'true' } };
const PEER = 'spiffe://example.org/ns/shop/sa/checkout';

describe('evaluatePolicies: Istio order and defaults', () => {
  it('no policy: allow by default', () => {
    expect(evaluatePolicies([], attrs())).toEqual({ allow: true, reason: 'authz_allow_default' });
  });

  it('ALLOW without rules (allow-nothing) denies everything', () => {
    for (const spec of [{}, { rules: [] }]) {
      expect(
        evaluatePolicies(compile(policy('nothing', spec)), attrs({ principal: PEER })),
      ).toEqual({
        allow: false,
        reason: 'authz_no_allow_match',
      });
    }
  });

  it('ALLOW rules: [{}] allows everything and names policy and rule', () => {
    expect(evaluatePolicies(compile(policy('all', { rules: [{}] })), attrs())).toEqual({
      allow: true,
      reason: 'authz_allow_policy',
      policy: 'payments/all',
      rule: 0,
      action: 'ALLOW',
    });
  });

  it('DENY rules: [{}] denies everything', () => {
    expect(
      evaluatePolicies(compile(policy('deny-all', { action: 'DENY', rules: [{}] })), attrs()),
    ).toMatchObject({
      allow: false,
      reason: 'authz_deny_policy',
      policy: 'payments/deny-all',
      rule: 0,
      action: 'DENY',
    });
  });

  it('once an ALLOW policy applies, a request no ALLOW policy matches is denied', () => {
    const ps = compile(policy('get-only', { rules: [toOperation({ methods: ['GET'] })] }));
    expect(evaluatePolicies(ps, attrs({ method: 'GET' })).allow).toBe(true);
    expect(evaluatePolicies(ps, attrs({ method: 'POST' }))).toEqual({
      allow: false,
      reason: 'authz_no_allow_match',
    });
  });

  it('any matching ALLOW policy allows; the first matching one is reported with the matching rule index', () => {
    const ps = compile(
      policy('a', { rules: [toOperation({ paths: ['/a'] })] }),
      policy(
        'b',
        { rules: [toOperation({ paths: ['/x'] }), toOperation({ paths: ['/b'] })] },
        { namespace: 'istio-system' },
      ),
    );
    expect(evaluatePolicies(ps, attrs({ path: '/b' }))).toEqual({
      allow: true,
      reason: 'authz_allow_policy',
      policy: 'istio-system/b',
      rule: 1,
      action: 'ALLOW',
    });
  });

  it('DENY is evaluated before ALLOW, whatever the order of the policies', () => {
    const allowAll = policy('allow-all', { rules: [{}] });
    const denyAdmin = policy('deny-admin', {
      action: 'DENY',
      rules: [toOperation({ paths: ['/nope'] }), toOperation({ paths: ['/admin*'] })],
    });
    for (const order of [
      [allowAll, denyAdmin],
      [denyAdmin, allowAll],
    ]) {
      expect(evaluatePolicies(compile(...order), attrs({ path: '/admin/users' }))).toEqual({
        allow: false,
        reason: 'authz_deny_policy',
        policy: 'payments/deny-admin',
        rule: 1,
        action: 'DENY',
      });
      expect(evaluatePolicies(compile(...order), attrs({ path: '/public' })).reason).toBe(
        'authz_allow_policy',
      );
    }
  });

  it('a DENY that does not match leaves the default allow', () => {
    const ps = compile(
      policy('deny-admin', { action: 'DENY', rules: [toOperation({ paths: ['/admin'] })] }),
    );
    expect(evaluatePolicies(ps, attrs({ path: '/x' }))).toEqual({
      allow: true,
      reason: 'authz_allow_default',
    });
  });

  it('ALLOW with principals refuses an anonymous (plaintext) peer', () => {
    const ps = compile(
      policy('mtls-only', {
        rules: [fromSource({ principals: ['cluster.local/ns/shop/sa/checkout'] })],
      }),
    );
    expect(evaluatePolicies(ps, attrs()).allow).toBe(false);
    expect(evaluatePolicies(ps, attrs({ principal: PEER })).allow).toBe(true);
  });

  it('ALLOW with notNamespaces lets plaintext through; DENY with namespaces misses it (faithful to ISTIO-SECURITY-2021-004)', () => {
    const allow = compile(policy('not-evil', { rules: [fromSource({ notNamespaces: ['evil'] })] }));
    expect(evaluatePolicies(allow, attrs()).allow).toBe(true);
    const deny = compile(
      policy('deny-evil', { action: 'DENY', rules: [fromSource({ namespaces: ['evil'] })] }),
    );
    expect(evaluatePolicies(deny, attrs()).allow).toBe(true);
    expect(
      evaluatePolicies(deny, attrs({ principal: 'spiffe://example.org/ns/evil/sa/x' })).allow,
    ).toBe(false);
    // Mitigation: DENY notNamespaces ["*"] refuses anonymous peers.
    const mitigated = compile(
      policy('deny-anon', { action: 'DENY', rules: [fromSource({ notNamespaces: ['*'] })] }),
    );
    expect(evaluatePolicies(mitigated, attrs()).allow).toBe(false);
    expect(evaluatePolicies(mitigated, attrs({ principal: PEER })).allow).toBe(true);
  });

  it('requestPrincipals ["*"] demands a token; DENY notRequestPrincipals ["*"] refuses anonymous requests', () => {
    const allow = compile(
      policy('jwt-required', { rules: [fromSource({ requestPrincipals: ['*'] })] }),
    );
    expect(evaluatePolicies(allow, attrs()).allow).toBe(false);
    expect(evaluatePolicies(allow, attrs({ requestIssuer: 'i', requestSubject: 's' })).allow).toBe(
      true,
    );
    const deny = compile(
      policy('no-anon', { action: 'DENY', rules: [fromSource({ notRequestPrincipals: ['*'] })] }),
    );
    expect(evaluatePolicies(deny, attrs()).allow).toBe(false);
    expect(evaluatePolicies(deny, attrs({ requestIssuer: 'i', requestSubject: 's' })).allow).toBe(
      true,
    );
  });
});

describe('evaluatePolicies: AUDIT', () => {
  it('AUDIT marks a matching request and never decides', () => {
    const ps = compile(
      policy('audit-admin', { action: 'AUDIT', rules: [toOperation({ paths: ['/admin'] })] }),
    );
    expect(evaluatePolicies(ps, attrs({ path: '/admin' }))).toEqual({
      allow: true,
      reason: 'authz_allow_default',
      audit: true,
    });
    expect(evaluatePolicies(ps, attrs({ path: '/x' }))).toEqual({
      allow: true,
      reason: 'authz_allow_default',
    });
  });

  it('AUDIT without rules is a no-op and causes no default deny', () => {
    expect(evaluatePolicies(compile(policy('audit', { action: 'AUDIT' })), attrs())).toEqual({
      allow: true,
      reason: 'authz_allow_default',
    });
  });

  it('the audit mark rides along with DENY and ALLOW decisions', () => {
    const audit = policy('audit-all', { action: 'AUDIT', rules: [{}] });
    expect(
      evaluatePolicies(
        compile(audit, policy('deny-all', { action: 'DENY', rules: [{}] })),
        attrs(),
      ),
    ).toMatchObject({ allow: false, reason: 'authz_deny_policy', audit: true });
    expect(
      evaluatePolicies(compile(audit, policy('allow-all', { rules: [{}] })), attrs()),
    ).toMatchObject({
      allow: true,
      reason: 'authz_allow_policy',
      audit: true,
    });
    expect(evaluatePolicies(compile(audit, policy('nothing', {})), attrs())).toMatchObject({
      allow: false,
      reason: 'authz_no_allow_match',
      audit: true,
    });
  });
});

describe('evaluatePolicies: dry-run (istio.io/dry-run) is never enforced', () => {
  it('a matching dry-run DENY does not deny, and is reported', () => {
    const ps = compile(policy('shadow-deny', { action: 'DENY', rules: [{}] }, DRY));
    expect(evaluatePolicies(ps, attrs())).toEqual({
      allow: true,
      reason: 'authz_allow_default',
      dryRun: { wouldDeny: true, policy: 'payments/shadow-deny' },
    });
  });

  it('a dry-run allow-nothing ALLOW causes no default deny, and reports that it would deny', () => {
    const ps = compile(policy('shadow-nothing', {}, DRY));
    expect(evaluatePolicies(ps, attrs())).toEqual({
      allow: true,
      reason: 'authz_allow_default',
      dryRun: { wouldDeny: true },
    });
  });

  it('a matching dry-run ALLOW reports nothing', () => {
    const ps = compile(policy('shadow-all', { rules: [{}] }, DRY));
    expect(evaluatePolicies(ps, attrs())).toEqual({ allow: true, reason: 'authz_allow_default' });
  });

  it('an enforced DENY still denies next to a dry-run ALLOW', () => {
    const ps = compile(
      policy('shadow-all', { rules: [{}] }, DRY),
      policy('deny-all', { action: 'DENY', rules: [{}] }),
    );
    expect(evaluatePolicies(ps, attrs())).toMatchObject({
      allow: false,
      reason: 'authz_deny_policy',
      policy: 'payments/deny-all',
    });
  });

  it('a dry-run ALLOW does not turn on default deny for enforced ALLOW policies', () => {
    const ps = compile(policy('shadow-get', { rules: [toOperation({ methods: ['GET'] })] }, DRY));
    expect(evaluatePolicies(ps, attrs({ method: 'POST' })).allow).toBe(true);
  });

  it('a dry-run ALLOW that would deny is reported even when an enforced ALLOW allows (either order)', () => {
    // Policies are additive and the shadow engine runs on its own: next to an enforced allow-all,
    // a shadow allow-nothing would still deny, and the decision must say so.
    const enforced = policy('allow-all', { rules: [{}] });
    const shadow = policy('shadow-nothing', {}, DRY);
    for (const order of [
      [shadow, enforced],
      [enforced, shadow],
    ]) {
      expect(evaluatePolicies(compile(...order), attrs())).toEqual({
        allow: true,
        reason: 'authz_allow_policy',
        policy: 'payments/allow-all',
        rule: 0,
        action: 'ALLOW',
        dryRun: { wouldDeny: true },
      });
    }
  });
});

describe('evaluatePolicies over loaded YAML', () => {
  it('evaluates a realistic policy set', () => {
    const set = loadPolicies(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: checkout, namespace: payments}
spec:
  rules:
    - from: [{source: {principals: ["cluster.local/ns/shop/sa/checkout"]}}]
      to: [{operation: {methods: ["POST"], paths: ["/charge"]}}]
    - to: [{operation: {methods: ["GET"], paths: ["/healthz"]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-debug, namespace: istio-system}
spec:
  action: DENY
  rules: [{to: [{operation: {paths: ["/debug*"]}}]}]
`);
    const ps = set.authorizationPolicies.map((p) => compilePolicy(p, CTX));
    expect(
      evaluatePolicies(ps, attrs({ principal: PEER, method: 'POST', path: '/charge' })),
    ).toMatchObject({
      allow: true,
      policy: 'payments/checkout',
      rule: 0,
    });
    expect(evaluatePolicies(ps, attrs({ method: 'POST', path: '/charge' })).allow).toBe(false);
    expect(evaluatePolicies(ps, attrs({ path: '/healthz' }))).toMatchObject({
      allow: true,
      rule: 1,
    });
    expect(evaluatePolicies(ps, attrs({ principal: PEER, path: '/debug/pprof' }))).toMatchObject({
      allow: false,
      reason: 'authz_deny_policy',
      policy: 'istio-system/deny-debug',
    });
  });
});
