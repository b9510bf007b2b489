/**
 * Token cases of `describeAuthorizationE2eSuite`: requestPrincipals and `request.auth.claims`
 * conditions, with access tokens from the real OpenID Provider and from a local issuer whose
 * JWKS the guard fetches. Source labels: see authz-e2e-cases.ts.
 */
import { denied, ok, type E2eCase, type E2eGroup } from './authz-e2e-types.js';

const local = (claims: Record<string, unknown>) => ({ from: 'local' as const, claims });
const OP = { from: 'op' as const };

const cases: E2eCase[] = [
  // [REF] requestPrincipals `iss/sub`, [SPEC §5]: iss and sub both exact.
  {
    name: 'OP token: requestPrincipals iss/sub',
    token: OP,
    path: '/rp/exact',
    expect: ok('/rp/exact'),
  },
  // [SPEC §5] another issuer does not match `iss/sub`.
  {
    name: 'local token: requestPrincipals of the OP is denied',
    token: local({}),
    path: '/rp/exact',
    expect: denied('authz_no_allow_match'),
  },
  // [RA] no token = anonymous; [REF] requestPrincipals ["*"] requires one.
  {
    name: 'no token: requestPrincipals ["*"] is denied',
    path: '/rp/any',
    expect: denied('authz_no_allow_match'),
  },
  // [REF] requestPrincipals ["*"]: any verified token with iss and sub.
  {
    name: 'local token: requestPrincipals ["*"]',
    token: local({}),
    path: '/rp/any',
    expect: ok('/rp/any'),
  },
  // [SPEC §5] the value is split at the last `/`: `<origin>/*` needs iss = `<origin>` exactly,
  // so iss `<origin>/local-issuer` does not match (issuer confusion).
  {
    name: 'requestPrincipals <origin>/* does not match iss <origin>/local-issuer',
    token: local({}),
    path: '/rp/origin',
    expect: denied('authz_no_allow_match'),
  },
  // [RA] "DENY notRequestPrincipals ["*"]" refuses requests without a token.
  {
    name: 'no token: DENY notRequestPrincipals ["*"]',
    path: '/rp/required',
    expect: denied('authz_deny_policy'),
  },
  // [MODEL] notRequestPrincipals ["*"] is false with a verified token.
  {
    name: 'OP token: DENY notRequestPrincipals passes',
    token: OP,
    path: '/rp/required',
    expect: ok('/rp/required'),
  },
  // [COND] request.auth.claims[scope]: `scope` is split on spaces.
  {
    name: 'scope "payments:read payments:write" matches payments:write',
    token: { from: 'op', scope: 'payments:read payments:write' },
    path: '/scope/write',
    expect: ok('/scope/write'),
  },
  // [COND] the requested scope lacks payments:write.
  {
    name: 'scope "payments:read" is denied',
    token: { from: 'op', scope: 'payments:read' },
    path: '/scope/write',
    expect: denied('authz_no_allow_match'),
  },
  // [COND] nested claims: request.auth.claims[realm][roles], a list matched by any element.
  {
    name: 'nested list claim realm.roles contains admin',
    token: local({ realm: { roles: ['viewer', 'admin'] } }),
    path: '/claims/nested',
    expect: ok('/claims/nested'),
  },
  // [COND] nested claim without the value.
  {
    name: 'nested list claim realm.roles without admin is denied',
    token: local({ realm: { roles: ['viewer'] } }),
    path: '/claims/nested',
    expect: denied('authz_no_allow_match'),
  },
  // [COND] a list claim matches if any element matches.
  {
    name: 'list claim groups contains ops',
    token: local({ groups: ['eng', 'ops'] }),
    path: '/claims/list',
    expect: ok('/claims/list'),
  },
  // [COND] a string claim is matched as is.
  {
    name: 'string claim groups = ops',
    token: local({ groups: 'ops' }),
    path: '/claims/list',
    expect: ok('/claims/list'),
  },
  // [SPEC §4] numbers and booleans never match a claim condition.
  {
    name: 'numeric claim level 5 never matches "5"',
    token: local({ level: 5 }),
    path: '/claims/number',
    expect: denied('authz_no_allow_match'),
  },
  // [COND, MODEL model.go] DENY notValues on a claim also denies requests without a token.
  {
    name: 'no token: DENY claims notValues',
    path: '/claims/ops-only',
    expect: denied('authz_deny_policy'),
  },
  // [COND] notValues: a listed value passes.
  {
    name: 'groups [ops]: DENY claims notValues passes',
    token: local({ groups: ['ops'] }),
    path: '/claims/ops-only',
    expect: ok('/claims/ops-only'),
  },
  // [COND] notValues: another value is denied.
  {
    name: 'groups [eng]: DENY claims notValues denies',
    token: local({ groups: ['eng'] }),
    path: '/claims/ops-only',
    expect: denied('authz_deny_policy'),
  },
  // [RA] an invalid token (expired) is 401, whatever the policies.
  {
    name: 'expired token is 401',
    token: local({
      exp: Math.floor(Date.now() / 1000) - 3600,
      iat: Math.floor(Date.now() / 1000) - 7200,
    }),
    path: '/rp/any',
    expect: { status: 401, reason: 'jwt_expired' },
  },
  // ISTIO-SECURITY-2021-001 / CVE-2021-21378: a token of an unknown issuer is 401, not "missing".
  {
    name: 'unknown issuer is 401 (not anonymous)',
    token: { from: 'unknown-issuer' },
    path: '/claims/ops-only',
    expect: { status: 401, reason: 'jwt_issuer_unknown' },
  },
  // [RA] "multiple tokens: undefined" in Istio; meshless refuses two Authorization headers.
  {
    name: 'two Authorization headers are 401',
    token: OP,
    authorizationTwice: true,
    path: '/rp/any',
    expect: { status: 401, reason: 'jwt_ambiguous' },
  },
];

/** requestPrincipals and claims; RequestAuthentication for the OP and the local issuer (STRICT). */
export const TOKEN_GROUP: E2eGroup = {
  title: 'tokens: requestPrincipals and claims in when',
  mtls: 'STRICT',
  policies: (ctx) => `
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: payments }
spec:
  jwtRules:
    - { issuer: "${ctx.opIssuer}", audiences: ["${ctx.audience}"] }
    - { issuer: "${ctx.localIssuer}", jwksUri: "${ctx.localJwksUri}", audiences: ["${ctx.audience}"] }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-tokens, namespace: payments }
spec:
  rules:
    - from: [{ source: { requestPrincipals: ["${ctx.opIssuer}/checkout"] } }]
      to: [{ operation: { paths: ["/rp/exact"] } }]
    - from: [{ source: { requestPrincipals: ["*"] } }]
      to: [{ operation: { paths: ["/rp/any"] } }]
    - from: [{ source: { requestPrincipals: ["${ctx.localOrigin}/*"] } }]
      to: [{ operation: { paths: ["/rp/origin"] } }]
    - to: [{ operation: { paths: ["/rp/required", "/claims/ops-only"] } }]
    - to: [{ operation: { paths: ["/scope/write"] } }]
      when: [{ key: "request.auth.claims[scope]", values: ["payments:write"] }]
    - to: [{ operation: { paths: ["/claims/nested"] } }]
      when: [{ key: "request.auth.claims[realm][roles]", values: ["admin"] }]
    - to: [{ operation: { paths: ["/claims/list"] } }]
      when: [{ key: "request.auth.claims[groups]", values: ["ops"] }]
    - to: [{ operation: { paths: ["/claims/number"] } }]
      when: [{ key: "request.auth.claims[level]", values: ["5"] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-tokens, namespace: payments }
spec:
  action: DENY
  rules:
    - from: [{ source: { notRequestPrincipals: ["*"] } }]
      to: [{ operation: { paths: ["/rp/required"] } }]
    - to: [{ operation: { paths: ["/claims/ops-only"] } }]
      when: [{ key: "request.auth.claims[groups]", notValues: ["ops"] }]
`,
  cases,
};
