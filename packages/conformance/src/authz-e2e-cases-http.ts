/**
 * HTTP-attribute cases of `describeAuthorizationE2eSuite`: hosts, methods, ports, headers, DENY
 * precedence and default deny. Source labels: see authz-e2e-cases.ts.
 */
import { denied, ok, type E2eGroup } from './authz-e2e-types.js';

/** hosts, methods, ports, request.headers; DENY before ALLOW; default deny (STRICT, checkout). */
export const HTTP_GROUP: E2eGroup = {
  title: 'http: hosts, methods, ports, headers, DENY precedence, default deny',
  mtls: 'STRICT',
  // [BP] (2021-008) [SPEC §11.2, §11.7]: exact host in DENY (`secret.com:443` is not denied).
  lints: ['lint_exact_host'],
  policies: (ctx) => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-http, namespace: payments }
spec:
  rules:
    - to: [{ operation: { hosts: ["payments.example.com"], paths: ["/host"] } }]
    - to: [{ operation: { paths: ["/open", "/headers"] } }]
    - to: [{ operation: { methods: ["GET"], paths: ["/read"] } }]
    - to: [{ operation: { ports: ["${ctx.port}"], paths: ["/port"] } }]
    - to: [{ operation: { ports: ["1"], paths: ["/port/other"] } }]
    - from: [{ source: { principals: ["cluster.local/ns/payments/sa/checkout"] } }]
      to: [{ operation: { paths: ["/precedence/*"] } }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-http, namespace: payments }
spec:
  action: DENY
  rules:
    - to: [{ operation: { hosts: ["secret.com"] } }]
    - to: [{ operation: { methods: ["DELETE"] } }]
    - from: [{ source: { principals: ["cluster.local/ns/payments/sa/checkout"] } }]
      to: [{ operation: { paths: ["/precedence/blocked"] } }]
    - to: [{ operation: { paths: ["/headers"] } }]
      when: [{ key: "request.headers[x-role]", values: ["admin"] }]
`,
  cases: [
    // [REF] hosts: the Host header.
    {
      name: 'Host payments.example.com',
      headers: [['Host', 'payments.example.com']],
      path: '/host',
      expect: ok('/host'),
    },
    // CVE-2021-39155: hosts are matched case-insensitively.
    {
      name: 'Host PAYMENTS.Example.COM (case-insensitive)',
      headers: [['Host', 'PAYMENTS.Example.COM']],
      path: '/host',
      expect: ok('/host'),
    },
    // [BP] (2021-008) [SPEC §4, §11.2]: the port is part of the host; exact value misses it (faithful).
    {
      name: 'Host payments.example.com:8443 does not match the exact host',
      headers: [['Host', 'payments.example.com:8443']],
      path: '/host',
      expect: denied('authz_no_allow_match'),
    },
    // [REF] hosts: another host does not match.
    {
      name: 'Host other.example.com is denied',
      headers: [['Host', 'other.example.com']],
      path: '/host',
      expect: denied('authz_no_allow_match'),
    },
    // CVE-2021-39155: DENY hosts ["secret.com"] catches `Secret.com`.
    {
      name: 'DENY hosts: Host Secret.com is denied',
      headers: [['Host', 'Secret.com']],
      path: '/open',
      expect: denied('authz_deny_policy'),
    },
    // [BP] (2021-008) [SPEC §11.2]: exact host in DENY misses `secret.com:443` (faithful, linted).
    {
      name: 'DENY hosts: Host secret.com:443 is not denied (faithful)',
      headers: [['Host', 'secret.com:443']],
      path: '/open',
      expect: ok('/open'),
    },
    // RFC 9112 §3.2 (a request with more than one Host is 400) [SPEC §11]: one authority per request.
    {
      name: 'two Host headers are 400',
      headers: [
        ['Host', 'localhost:{port}'],
        ['Host', 'secret.com'],
      ],
      path: '/open',
      expect: { status: 400, reason: 'request_invalid_host' },
    },
    // [REF] methods.
    { name: 'GET /read', path: '/read', expect: ok('/read') },
    // [REF] methods: POST is not in the list.
    {
      name: 'POST /read is denied',
      method: 'POST',
      path: '/read',
      expect: denied('authz_no_allow_match'),
    },
    // [SPEC §9 Method case, §11.5]: 400 for a lower-case method (Node's parser answers first).
    {
      name: 'get /read is 400',
      method: 'get',
      path: '/read',
      expect: { status: 400, reason: undefined },
    },
    // [REF] DENY before ALLOW: DENY methods ["DELETE"] wins over ALLOW /open.
    {
      name: 'DELETE /open is denied',
      method: 'DELETE',
      path: '/open',
      expect: denied('authz_deny_policy'),
    },
    // [REF] ports, [SPEC §4]: the real destination port.
    { name: 'ports: the listening port', path: '/port', expect: ok('/port') },
    // [SPEC §4] ports compare the destination port, never the Host header's port.
    {
      name: 'ports ["1"]: Host localhost:1 does not help',
      headers: [['Host', 'localhost:1']],
      path: '/port/other',
      expect: denied('authz_no_allow_match'),
    },
    // [REF] ALLOW by principal.
    { name: 'checkout → /precedence/ok', path: '/precedence/ok', expect: ok('/precedence/ok') },
    // [REF] "DENY policies are evaluated before ALLOW": both match, DENY wins.
    {
      name: 'DENY wins over a matching ALLOW',
      path: '/precedence/blocked',
      expect: denied('authz_deny_policy'),
    },
    // [REF] once an ALLOW policy applies, a request none matches is denied.
    { name: 'default deny: /unlisted', path: '/unlisted', expect: denied('authz_no_allow_match') },
    // [COND] request.headers[x-role].
    {
      name: 'x-role: admin is denied',
      headers: [['x-role', 'admin']],
      path: '/headers',
      expect: denied('authz_deny_policy'),
    },
    // [SPEC §4] request.headers[name]: the name is case-insensitive.
    {
      name: 'X-ROLE: admin is denied (header name case)',
      headers: [['X-ROLE', 'admin']],
      path: '/headers',
      expect: denied('authz_deny_policy'),
    },
    // CVE-2026-26308: repeated headers are matched value by value.
    {
      name: 'x-role: user + x-role: admin is denied',
      headers: [
        ['x-role', 'user'],
        ['x-role', 'admin'],
      ],
      path: '/headers',
      expect: denied('authz_deny_policy'),
    },
    // CVE-2026-26308: no joining with ",": "user,admin" is one value, not admin.
    {
      name: 'x-role: user,admin is one value',
      headers: [['x-role', 'user,admin']],
      path: '/headers',
      expect: ok('/headers'),
    },
    // [COND] another value passes.
    {
      name: 'x-role: user passes',
      headers: [['x-role', 'user']],
      path: '/headers',
      expect: ok('/headers'),
    },
  ],
};
