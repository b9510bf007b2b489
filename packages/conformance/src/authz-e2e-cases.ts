/**
 * The case table of `describeAuthorizationE2eSuite`: Istio AuthorizationPolicy semantics over
 * real mTLS and real tokens. Every case cites the source it follows, with the labels of the core
 * unit tests (packages/core/test/policy/istio-fields.test.ts, test/http/request-path.test.ts):
 * - [REF]   istio.io/latest/docs/reference/config/security/authorization-policy/
 * - [COND]  istio.io/latest/docs/reference/config/security/conditions/
 * - [RA]    istio.io/latest/docs/reference/config/security/request_authentication/
 * - [BP]    istio.io/latest/docs/ops/best-practices/security/ (path normalization, hosts)
 * - [PROTO] istio/api security/v1beta1/authorization_policy.proto (field comments)
 * - [MODEL] istio/istio pilot/pkg/security/authz/model (model.go, generator.go, matcher/),
 *           [TD] pilot/pkg/security/trustdomain/bundle.go, [LB] networking/core/listener_builder.go
 * - [ENVOY] Envoy uri_template_internal.cc
 * - [SPEC §n] /work/shared/specs/istio-semantics.md (§11: decisions taken for meshless)
 * - CVE / ISTIO-SECURITY ids: istio.io security bulletins
 */
import { HTTP_GROUP } from './authz-e2e-cases-http.js';
import { TOKEN_GROUP } from './authz-e2e-cases-tokens.js';
import { denied, ok, type E2eGroup } from './authz-e2e-types.js';

/** Path normalization and the published bypass shapes, against a DENY on `/admin`. */
export const PATH_GROUP: E2eGroup = {
  title: 'paths: normalization and bypass shapes (DENY /admin, ALLOW /*)',
  mtls: 'STRICT',
  // [SPEC §6 Casing, §11.7]: DENY with paths (`/ADMIN` is not denied).
  lints: ['lint_deny_paths'],
  policies: () => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-admin, namespace: payments }
spec:
  action: DENY
  rules:
    - to: [{ operation: { paths: ["/admin", "/admin/*"] } }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-mesh, namespace: payments }
spec:
  action: ALLOW
  rules:
    - from: [{ source: { principals: ["*"] } }]
      to: [{ operation: { paths: ["/*"] } }]
`,
  cases: [
    // [REF] paths: prefix match `/*`; control request on the same server.
    { name: 'control: /public/info is allowed', path: '/public/info', expect: ok('/public/info') },
    // [REF] paths: exact match.
    { name: '/admin is denied', path: '/admin', expect: denied('authz_deny_policy') },
    // [REF] paths: prefix match `/admin/*`.
    { name: '/admin/users is denied', path: '/admin/users', expect: denied('authz_deny_policy') },
    // CVE-2019-9901: dot segments are removed before matching.
    { name: '/public/../admin', path: '/public/../admin', expect: denied('authz_deny_policy') },
    // CVE-2019-9901: `.` and `..` mixed.
    {
      name: '/public/./../admin/users',
      path: '/public/./../admin/users',
      expect: denied('authz_deny_policy'),
    },
    // CVE-2021-31920: merged slashes (MERGE_SLASHES, part of the default [SPEC §11.1]).
    { name: '//admin', path: '//admin', expect: denied('authz_deny_policy') },
    // CVE-2021-31920 [BP] DECODE_AND_MERGE_SLASHES: `%2F` decoded, then merged.
    { name: '/%2Fadmin', path: '/%2Fadmin', expect: denied('authz_deny_policy') },
    // CVE-2021-31920: encoded slashes around a dot segment.
    {
      name: '/public%2F..%2Fadmin',
      path: '/public%2F..%2Fadmin',
      expect: denied('authz_deny_policy'),
    },
    // CVE-2021-31920 [BP]: lower-case hex `%2f` is decoded as well.
    {
      name: '/public%2f..%2fadmin',
      path: '/public%2f..%2fadmin',
      expect: denied('authz_deny_policy'),
    },
    // CVE-2021-31920 [BP]: `%5C` (backslash) is decoded and becomes `/`.
    {
      name: '/public%5C..%5Cadmin',
      path: '/public%5C..%5Cadmin',
      expect: denied('authz_deny_policy'),
    },
    // CVE-2021-31920: an encoded slash next to a literal dot segment.
    { name: '/public/..%2Fadmin', path: '/public/..%2Fadmin', expect: denied('authz_deny_policy') },
    // CVE-2021-31920 [BP] BASE: a raw backslash becomes `/` before dot-segment removal.
    {
      name: '/public\\..\\admin (raw backslashes)',
      path: '/public\\..\\admin',
      expect: denied('authz_deny_policy'),
    },
    // [BP] BASE decodes unreserved escapes: `%2e%2e` is a `..` segment.
    {
      name: '/public/%2e%2e/admin',
      path: '/public/%2e%2e/admin',
      expect: denied('authz_deny_policy'),
    },
    // CVE-2021-39156: the fragment is stripped before authorization.
    { name: '/admin#fragment', path: '/admin#fragment', expect: denied('authz_deny_policy') },
    // CVE-2021-39156 [SPEC §11.1]: ...and the app routes on the path without it.
    {
      name: '/public/ok#/../../admin: the app sees /public/ok',
      path: '/public/ok#/../../admin',
      expect: ok('/public/ok'),
    },
    // CVE-2020-8595: the query is removed before every path match.
    { name: '/admin?x=1', path: '/admin?x=1', expect: denied('authz_deny_policy') },
    // [REF] paths: "the path without the query"; the query reaches the app verbatim.
    {
      name: '/public/search?next=/admin is allowed, query kept',
      path: '/public/search?next=/admin',
      expect: ok('/public/search?next=/admin'),
    },
    // [SPEC §6, §11.1] the application receives the normalized path it was authorized on.
    {
      name: '/public//reports/./q1: the app sees /public/reports/q1',
      path: '/public//reports/./q1',
      expect: ok('/public/reports/q1'),
    },
    // [BP] DECODE_AND_MERGE_SLASHES, [SPEC §11.1]: the app sees the decoded slash.
    {
      name: '/public%2Freports: the app sees /public/reports',
      path: '/public%2Freports',
      expect: ok('/public/reports'),
    },
    // [BP] BASE normalization decodes unreserved escapes (`%61` = `a`).
    { name: '/%61dmin', path: '/%61dmin', expect: denied('authz_deny_policy') },
    // [SPEC §6] decoded once only: `%252e%252e` stays, it is not `..`.
    {
      name: '/%252e%252e/admin is decoded once (not /admin)',
      path: '/%252e%252e/admin',
      expect: ok('/%252e%252e/admin'),
    },
    // [SPEC §6 Casing, §11.2] paths are case-sensitive: faithful to Istio (a lint finding).
    { name: '/ADMIN does not match /admin', path: '/ADMIN', expect: ok('/ADMIN') },
    // [LB] [SPEC §1, §11.5] `%00` in the path answers 400.
    {
      name: '/admin%00 is 400',
      path: '/admin%00',
      expect: { status: 400, reason: 'request_invalid_path' },
    },
    // [SPEC §9 Method case, §11.5] a non-upper-case method answers 400 (Node's parser refuses it
    // first, before any adapter code: no meshless reason).
    {
      name: 'get /public/info is 400',
      method: 'get',
      path: '/public/info',
      expect: { status: 400, reason: undefined },
    },
    // [SPEC §9] `delete` against a DENY on `DELETE`: 400, never a bypass.
    {
      name: 'delete /admin is 400',
      method: 'delete',
      path: '/admin',
      expect: { status: 400, reason: undefined },
    },
  ],
};

/** Peer identities (principals, namespaces) with anonymous TLS allowed (PERMISSIVE). */
export const PEER_GROUP: E2eGroup = {
  title: 'peers: principals, namespaces, notX without a peer identity (PERMISSIVE)',
  mtls: 'PERMISSIVE',
  // ISTIO-SECURITY-2021-004 [SPEC §11.2, §11.7]: notX in ALLOW, mTLS-only fields without STRICT.
  lints: ['lint_not_field_allow', 'lint_mtls_field_without_strict'],
  policies: () => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-checkout, namespace: payments }
spec:
  rules:
    - from: [{ source: { principals: ["cluster.local/ns/payments/sa/checkout"] } }]
      to: [{ operation: { paths: ["/orders", "/orders/{*}"] } }]
    - from: [{ source: { principals: ["*/sa/checkout"] } }]
      to: [{ operation: { paths: ["/suffix"] } }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-web, namespace: payments }
spec:
  rules:
    - from: [{ source: { namespaces: ["web"] } }]
      to: [{ operation: { paths: ["/catalog/{**}"] } }]
    - from: [{ source: { notNamespaces: ["web"] } }]
      to: [{ operation: { paths: ["/legacy"] } }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-open, namespace: payments }
spec:
  rules:
    - to: [{ operation: { paths: ["/internal", "/strict/*"] } }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-web-internal, namespace: payments }
spec:
  action: DENY
  rules:
    - from: [{ source: { namespaces: ["web"] } }]
      to: [{ operation: { paths: ["/internal"] } }]
    - from: [{ source: { notNamespaces: ["*"] } }]
      to: [{ operation: { paths: ["/strict/*"] } }]
`,
  cases: [
    // [REF] principals; [TD] `cluster.local` stands for the mesh's trust domain (example.org).
    { name: 'checkout → /orders/42', path: '/orders/42', expect: ok('/orders/42') },
    // [REF] principals: another workload does not match.
    {
      name: 'frontend → /orders/42 is denied',
      peer: 'frontend',
      path: '/orders/42',
      expect: denied('authz_no_allow_match'),
    },
    // [MODEL model.go] no peer identity: every positive matcher is false.
    {
      name: 'no client certificate → /orders is denied',
      peer: 'none',
      path: '/orders',
      expect: denied('authz_no_allow_match'),
    },
    // [ENVOY] [SPEC §6] `{*}` is exactly one segment.
    {
      name: '{*} does not span segments: /orders/42/items',
      path: '/orders/42/items',
      expect: denied('authz_no_allow_match'),
    },
    // [ENVOY] `{*}` = `[pchar]+`: an empty segment does not match.
    {
      name: '{*} is non-empty: /orders/',
      path: '/orders/',
      expect: denied('authz_no_allow_match'),
    },
    // [REF] namespaces; [ENVOY] `{**}` spans segments.
    {
      name: 'frontend (ns web) → /catalog/shoes/red',
      peer: 'frontend',
      path: '/catalog/shoes/red',
      expect: ok('/catalog/shoes/red'),
    },
    // [REF] namespaces: checkout is in payments.
    {
      name: 'checkout (ns payments) → /catalog/shoes is denied',
      path: '/catalog/shoes',
      expect: denied('authz_no_allow_match'),
    },
    // CVE-2020-16844 [MODEL generator.go]: suffix principal = regex `spiffe://.*<suffix>`.
    { name: 'suffix principal */sa/checkout', path: '/suffix', expect: ok('/suffix') },
    // CVE-2020-16844: the suffix must match.
    {
      name: 'suffix principal: frontend is denied',
      peer: 'frontend',
      path: '/suffix',
      expect: denied('authz_no_allow_match'),
    },
    // ISTIO-SECURITY-2021-004: ALLOW notNamespaces lets a peer without identity through (faithful).
    {
      name: 'ALLOW notNamespaces: no certificate passes (faithful)',
      peer: 'none',
      path: '/legacy',
      expect: ok('/legacy'),
    },
    // [REF] notNamespaces excludes the listed namespace.
    {
      name: 'ALLOW notNamespaces: ns web is denied',
      peer: 'frontend',
      path: '/legacy',
      expect: denied('authz_no_allow_match'),
    },
    // [REF] DENY namespaces: the listed namespace is denied even though an ALLOW matches.
    {
      name: 'DENY namespaces: ns web is denied',
      peer: 'frontend',
      path: '/internal',
      expect: denied('authz_deny_policy'),
    },
    // ISTIO-SECURITY-2021-004: DENY namespaces misses a peer without identity (faithful).
    {
      name: 'DENY namespaces: no certificate is not denied (faithful)',
      peer: 'none',
      path: '/internal',
      expect: ok('/internal'),
    },
    // ISTIO-SECURITY-2021-004 mitigation: DENY notNamespaces ["*"] refuses anonymous peers.
    {
      name: 'DENY notNamespaces ["*"]: no certificate is denied',
      peer: 'none',
      path: '/strict/x',
      expect: denied('authz_deny_policy'),
    },
    // [MODEL] notNamespaces ["*"] is false for any identified peer.
    {
      name: 'DENY notNamespaces ["*"]: checkout passes',
      path: '/strict/x',
      expect: ok('/strict/x'),
    },
    // [REF] once an ALLOW policy applies, a request none matches is denied.
    { name: 'default deny: /unlisted', path: '/unlisted', expect: denied('authz_no_allow_match') },
  ],
};

/** Every group, in run order. */
export const AUTHZ_E2E_GROUPS: readonly E2eGroup[] = [
  PATH_GROUP,
  PEER_GROUP,
  TOKEN_GROUP,
  HTTP_GROUP,
];
