/**
 * Shared shapes and fixtures of the cited Istio AuthorizationPolicy case tables. The tables are run
 * twice: against a compiled rule (packages/core/test/policy/*.test.ts) and end to end through
 * `createGuard(...).check(facts)` (packages/core/test/guard/guard-policy-table.test.ts).
 *
 * Citation labels (`ref`):
 * - REF    istio.io/latest/docs/reference/config/security/authorization-policy/
 * - COND   istio.io/latest/docs/reference/config/security/conditions/
 * - PROTO  istio/api security/v1beta1/authorization_policy.proto (field comments)
 * - MODEL  istio/istio pilot/pkg/security/authz/model (model.go, generator.go, matcher/)
 * - TDMIG  istio.io/latest/docs/tasks/security/authorization/authz-td-migration/ and istio/istio
 *          pilot/pkg/security/trustdomain (trust domain aliases)
 * - VALID  istio/istio pkg/config/validation (AuthorizationPolicy) and pkg/config/security
 * - ENVOY  Envoy uri_template_internal.cc / header matcher / jwt_authn
 * - CVE-… / ISTIO-SECURITY-…: istio.io/latest/news/security/ bulletins
 * A label may carry a detail after a space (`MODEL matcher/header.go`).
 */
import type { AuthzAttributes } from '../../../src/policy/compile-policy.js';

/** One rule (Istio YAML shape), the request attributes, and whether the rule matches. */
export type FieldCase = [
  name: string,
  ref: string,
  rule: unknown,
  attributes: Partial<AuthzAttributes>,
  expected: boolean,
];

export const src = (source: unknown) => ({ from: [{ source }] });
export const op = (operation: unknown) => ({ to: [{ operation }] });
export const when = (...conditions: unknown[]) => ({ when: conditions });

export const PEER = 'spiffe://example.org/ns/payments/sa/checkout';
export const OTHER = 'spiffe://example.org/ns/shop/sa/web';
export const JWT = { requestIssuer: 'https://issuer.test', requestSubject: 'alice' };

export const CLAIMS = {
  iss: 'https://issuer.test',
  sub: 'alice',
  aud: ['payments', 'orders'],
  azp: 'web-app',
  groups: ['dev', 'ops'],
  role: 'admin',
  scope: 'read write',
  permission: 'p1 p2',
  nested: { team: { name: 'core' }, list: ['x'] },
  level: 3,
  admin: true,
  mixed: ['a', 1, true],
  spaced: 'a b',
};

/** The citation label's source: `MODEL matcher/header.go` → `MODEL`, `CVE-2026-39350` as is. */
export const refSource = (ref: string): string => ref.split(' ')[0]!;
