import { describe, expect, it } from 'vitest';
import { createGuard } from '../../src/guard/guard.js';
import type { LintFinding } from '../../src/policy/lint.js';

const POLICIES = `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: payments }
spec: { mtls: { mode: PERMISSIVE } }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-all, namespace: payments }
spec:
  action: ALLOW
  rules: [{}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: other-namespace, namespace: billing }
spec:
  action: ALLOW
  rules: [{}]
`;

const workload = { namespace: 'payments', trustDomain: 'example.org' };

describe('createGuard: policy lint at load', () => {
  it('hands the findings of the policies in scope to onPolicyLint, once', async () => {
    const calls: (readonly LintFinding[])[] = [];
    const guard = await createGuard({
      workload,
      policies: POLICIES,
      onPolicyLint: (findings) => calls.push(findings),
    });
    await guard.check({
      method: 'GET',
      path: '/',
      host: 'a',
      headers: {},
      sourceIp: '10.0.0.1',
      destinationPort: 8080,
    });
    expect(calls).toHaveLength(1);
    const found = (calls[0] ?? []).map((f) => [f.code, f.policy]);
    expect(found).toContainEqual(['lint_permissive', 'payments/default']);
    expect(found).toContainEqual(['lint_allow_all', 'payments/allow-all']);
    // billing's policy does not apply to this workload: not linted.
    expect(found.some(([, policy]) => policy === 'billing/other-namespace')).toBe(false);
  });

  it('by default emits one MeshlessPolicyWarning per warning-level finding', async () => {
    const warnings: Error[] = [];
    const listener = (w: Error) => warnings.push(w);
    process.on('warning', listener);
    try {
      await createGuard({ workload, policies: POLICIES });
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on next tick
    } finally {
      process.off('warning', listener);
    }
    const ours = warnings.filter((w) => w.name === 'MeshlessPolicyWarning');
    expect(ours.map((w) => (w as Error & { code?: string }).code).sort()).toEqual([
      'lint_allow_all',
      'lint_permissive',
    ]);
    expect(ours[0]?.message).toMatch(/payments\//);
  });
});

describe('guard.mtlsMode: PeerAuthentication for the listener', () => {
  it('returns the composed workload mode and the port-level override', async () => {
    const guard = await createGuard({
      workload: { ...workload, labels: { app: 'api' } },
      onPolicyLint: () => {},
      policies: `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: payments }
spec: { mtls: { mode: PERMISSIVE } }
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: api, namespace: payments }
spec:
  selector: { matchLabels: { app: api } }
  mtls: { mode: UNSET }
  portLevelMtls: { '8443': { mode: STRICT }, '9090': { mode: DISABLE } }
`,
    });
    expect(guard.mtlsMode?.()).toBe('PERMISSIVE');
    expect(guard.mtlsMode?.(8080)).toBe('PERMISSIVE');
    expect(guard.mtlsMode?.(8443)).toBe('STRICT');
    expect(guard.mtlsMode?.(9090)).toBe('DISABLE');
  });
});
