/**
 * Authorization cost against the number of rules, in process: `guard.check` (no identity, no
 * token) with one ALLOW policy of N rules, gateway-like (each rule: methods, a path prefix and a
 * tenant header), plus a 10-rule DENY policy that does not match. The request matches only the
 * LAST rule, so a linear evaluation would run every rule: the worst position. The cost of the
 * policies is the p50 of `guard.check` at N rules minus the p50 with a single rule.
 */
import { createGuard, type RequestFacts } from '@meshless/core';

export interface PolicyMicroRow {
  rules: number;
  /** p50 / p99 of one `guard.check`, ns. */
  p50Ns: number;
  p99Ns: number;
  /** p50 minus the p50 of the same guard with one rule: the cost of the extra rules. */
  addedP50Ns: number;
}

export interface PolicyMicro {
  rows: PolicyMicroRow[];
  /** `guard.check` calls timed per size (after as many warm-up calls). */
  calls: number;
}

export const POLICY_SIZES = [1, 10, 100, 1_000, 10_000] as const;
const CALLS = 20_000;
const NAMESPACE = 'bench';

function policiesOf(rules: number): object[] {
  const allow = {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: `gateway-${rules}`, namespace: NAMESPACE },
    spec: {
      action: 'ALLOW',
      rules: Array.from({ length: rules }, (_, i) => ({
        to: [{ operation: { methods: ['GET', 'POST'], paths: [`/api/v1/service-${i}/*`] } }],
        when: [{ key: 'request.headers[x-tenant]', values: [`tenant-${i}`] }],
      })),
    },
  };
  const deny = {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'deny-admin', namespace: NAMESPACE },
    spec: {
      action: 'DENY',
      rules: Array.from({ length: 10 }, (_, i) => ({
        to: [{ operation: { paths: [`/admin/${i}/*`] } }],
      })),
    },
  };
  return [deny, allow];
}

const quantile = (sorted: Float64Array, q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;

export async function measurePolicyEvaluation(): Promise<PolicyMicro> {
  const measured: Omit<PolicyMicroRow, 'addedP50Ns'>[] = [];
  for (const rules of POLICY_SIZES) {
    const guard = await createGuard({
      workload: { namespace: NAMESPACE, trustDomain: 'example.org' },
      mtls: { mode: 'DISABLE' },
      policies: policiesOf(rules),
      onPolicyLint: () => {},
    });
    const last = rules - 1;
    const facts = (): RequestFacts => ({
      method: 'GET',
      path: `/api/v1/service-${last}/items/42`,
      host: 'api.example.org',
      headers: { host: 'api.example.org', 'x-tenant': `tenant-${last}`, accept: '*/*' },
      sourceIp: '10.0.0.1',
      destinationPort: 8080,
    });
    const first = await guard.check(facts());
    if (!first.allow || first.rule !== last)
      throw new Error(
        `policy micro-benchmark: expected rule ${last} to allow, got ${first.reason}`,
      );
    for (let i = 0; i < CALLS; i++) await guard.check(facts());
    const times = new Float64Array(CALLS);
    for (let i = 0; i < CALLS; i++) {
      const f = facts();
      const start = process.hrtime.bigint();
      await guard.check(f);
      times[i] = Number(process.hrtime.bigint() - start);
    }
    times.sort();
    measured.push({ rules, p50Ns: quantile(times, 0.5), p99Ns: quantile(times, 0.99) });
  }
  const base = (measured[0] as { p50Ns: number }).p50Ns;
  return {
    rows: measured.map((m) => ({ ...m, addedP50Ns: Math.max(0, m.p50Ns - base) })),
    calls: CALLS,
  };
}
