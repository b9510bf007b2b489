/**
 * Istio `serviceAccounts` / `notServiceAccounts` cases.
 *
 * Each case: [name, ref, rule, attributes, expected]. `ref` is the citation label, see ./types.ts.
 */
import { OTHER, PEER, src, type FieldCase } from './types.js';

export const SERVICE_ACCOUNT_CASES: FieldCase[] = [
  // [PROTO] serviceAccounts: "<namespace>/<serviceaccount>" matches the peer identity.
  [
    'ns/sa matches',
    'PROTO',
    src({ serviceAccounts: ['payments/checkout'] }),
    { principal: PEER },
    true,
  ],
  // [PROTO] a bare service account name is in the policy's namespace.
  [
    'bare sa = policy namespace',
    'PROTO',
    src({ serviceAccounts: ['checkout'] }),
    { principal: PEER },
    true,
  ],
  // [PROTO] other namespace, same name: no match.
  [
    'other namespace',
    'PROTO',
    src({ serviceAccounts: ['shop/checkout'] }),
    { principal: PEER },
    false,
  ],
  // [MODEL] regex `spiffe://.+/ns/<ns>/(.+/|)sa/<sa>(/.+)?`: the trust domain is any.
  [
    'any trust domain',
    'MODEL',
    src({ serviceAccounts: ['payments/checkout'] }),
    { principal: 'spiffe://other.org/ns/payments/sa/checkout' },
    true,
  ],
  // [MODEL] the `(/.+)?` tail accepts extra path segments after the sa.
  [
    'extra segments after sa',
    'MODEL',
    src({ serviceAccounts: ['payments/checkout'] }),
    { principal: `${PEER}/v2` },
    true,
  ],
  // [MODEL] sa is matched whole: `checkout` does not match `checkout-admin`.
  [
    'sa is not a prefix',
    'MODEL',
    src({ serviceAccounts: ['payments/checkout'] }),
    { principal: 'spiffe://example.org/ns/payments/sa/checkout-admin' },
    false,
  ],
  // CVE-2026-39350: dots are escaped, `a.b` does not match `axb`.
  [
    'dots escaped (CVE-2026-39350)',
    'CVE-2026-39350',
    src({ serviceAccounts: ['pay.ments/check.out'] }),
    { principal: 'spiffe://example.org/ns/payXments/sa/checkXout' },
    false,
  ],
  // CVE-2026-39350: the literal dotted name still matches.
  [
    'dotted name matches literally',
    'CVE-2026-39350',
    src({ serviceAccounts: ['pay.ments/check.out'] }),
    { principal: 'spiffe://example.org/ns/pay.ments/sa/check.out' },
    true,
  ],
  // [MODEL] a missing peer identity makes the positive matcher false.
  ['no peer identity', 'MODEL', src({ serviceAccounts: ['payments/checkout'] }), {}, false],
  // [MODEL] notServiceAccounts excludes the listed account.
  [
    'notServiceAccounts excludes',
    'MODEL',
    src({ notServiceAccounts: ['checkout'] }),
    { principal: PEER },
    false,
  ],
  // [MODEL] notServiceAccounts lets other accounts through.
  [
    'notServiceAccounts other',
    'MODEL',
    src({ notServiceAccounts: ['checkout'] }),
    { principal: OTHER },
    true,
  ],
  // ISTIO-SECURITY-2021-004: missing attribute → notX is true (plaintext passes).
  [
    'notServiceAccounts plaintext',
    'ISTIO-SECURITY-2021-004',
    src({ notServiceAccounts: ['checkout'] }),
    {},
    true,
  ],
  // [PROTO] bare sa in a policy of another namespace resolves to that namespace.
  [
    'bare sa in policy namespace shop',
    'PROTO',
    src({ serviceAccounts: ['web'] }),
    { principal: OTHER },
    true,
  ],
];
