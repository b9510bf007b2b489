/**
 * `guard.explain(facts)`: the decision `check` makes (asserted equal for every case), the stage
 * that decided, and for every AuthorizationPolicy in scope whether it matched, which rule, and each
 * failing rule's first failing condition. Authorization that did not run (400, mTLS, 401) is
 * reported as `evaluated: false`, never guessed.
 */
import { createTestCa, type Svid, type TestCa } from '@meshless/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/guard/decision.js';
import type { ExplainStage, Explanation, PolicyExplanation } from '../../src/guard/explain.js';
import { createGuard, type Guard } from '../../src/guard/guard.js';
import { toPendingGuard } from '../../src/guard/lazy-guard.js';
import type { GuardOptions } from '../../src/guard/options.js';
import type { RequestFacts } from '../../src/guard/request-facts.js';
import { compilePolicy } from '../../src/policy/compile-policy.js';
import { explainPolicy } from '../../src/policy/explain-rule.js';
import {
  json,
  makeKey,
  signToken,
  startServer,
  type TestKey,
  type TestServer,
} from '../helpers/jwks.js';

const ISS = 'https://issuer.test';
const WORKLOAD = { namespace: 'payments', trustDomain: 'example.org' };
const SECRET_GROUP = 'group-value-that-must-not-leak';

let ca: TestCa;
let checkout: Svid;
let server: TestServer;
let key: TestKey;

beforeAll(async () => {
  ca = await createTestCa({ trustDomain: 'example.org' });
  checkout = await ca.issueSvid({ spiffeId: 'spiffe://example.org/ns/payments/sa/checkout' });
  server = await startServer();
  key = await makeKey('k1');
  server.route('/jwks', json({ keys: [key.publicJwk] }));
});
afterAll(async () => {
  await server.close();
});

function facts(overrides: Partial<RequestFacts> = {}): RequestFacts {
  return {
    method: 'GET',
    path: '/',
    host: 'payments.example',
    headers: {},
    sourceIp: '10.0.0.7',
    destinationPort: 8080,
    ...overrides,
  };
}

const ap = (name: string, spec: Record<string, unknown>, annotations?: Record<string, string>) => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name, namespace: 'payments', ...(annotations && { annotations }) },
  spec,
});

const requestAuthentication = () => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'RequestAuthentication',
  metadata: { name: 'jwt', namespace: 'payments' },
  spec: { jwtRules: [{ issuer: ISS, audiences: ['payments'], jwksUri: `${server.origin}/jwks` }] },
});

const token = (claims: Record<string, unknown> = {}) =>
  signToken(key, { iss: ISS, sub: 'alice', aud: 'payments', ...claims });

const guardWith = (policies: object[], extra: Partial<GuardOptions> = {}) =>
  createGuard({
    workload: WORKLOAD,
    mtls: { mode: 'PERMISSIVE' },
    trustBundles: { 'example.org': ca.rootPem },
    policies,
    ...extra,
  });

/** `check`'s decision as `explain` reports it: without claims, header changes and query. */
function redacted(decision: Decision): Decision {
  const { claims: _c, requestHeaders: _h, ...rest } = decision;
  if (rest.url !== undefined) rest.url = rest.url.split('?')[0] as string;
  return rest;
}

const byName = (e: Explanation): Record<string, PolicyExplanation> =>
  Object.fromEntries(e.policies.map((p) => [p.policy, p]));

interface Case {
  name: string;
  policies: () => object[];
  options?: Partial<GuardOptions>;
  request: () => Promise<Partial<RequestFacts>> | Partial<RequestFacts>;
  decision: Partial<Decision>;
  stage: ExplainStage;
  /** Expected explanation per policy (`namespace/name`); every policy in scope must be listed. */
  expect: Record<string, Partial<PolicyExplanation>>;
}

const allowAll = ap('allow-all', { rules: [{}] });

const cases: Case[] = [
  {
    name: 'an ALLOW that matches: its first matching rule, and why the rule before failed',
    policies: () => [
      ap('reader', {
        rules: [
          { to: [{ operation: { paths: ['/admin'] } }] },
          { to: [{ operation: { methods: ['GET'], paths: ['/reports/*'] } }] },
          { to: [{ operation: { methods: ['GET'] } }] },
        ],
      }),
    ],
    request: () => ({ path: '/reports/1' }),
    decision: { allow: true, status: 200, reason: 'authz_allow_policy', rule: 1 },
    stage: 'authorization',
    expect: {
      'payments/reader': {
        action: 'ALLOW',
        dryRun: false,
        evaluated: true,
        matched: true,
        rule: 1,
        rules: [
          { index: 0, matched: false, failed: 'to[0].operation.paths' },
          { index: 1, matched: true },
          { index: 2, matched: true },
        ],
      },
    },
  },
  {
    name: 'a DENY that matches decides, the ALLOW that also matched is still reported',
    policies: () => [
      ap('no-delete', {
        action: 'DENY',
        rules: [
          { to: [{ operation: { methods: ['POST'] } }] },
          { to: [{ operation: { methods: ['DELETE'] } }] },
        ],
      }),
      allowAll,
    ],
    request: () => ({ method: 'DELETE', path: '/reports/1' }),
    decision: {
      allow: false,
      status: 403,
      reason: 'authz_deny_policy',
      policy: 'payments/no-delete',
      rule: 1,
    },
    stage: 'authorization',
    expect: {
      'payments/no-delete': {
        action: 'DENY',
        matched: true,
        rule: 1,
        rules: [
          { index: 0, matched: false, failed: 'to[0].operation.methods' },
          { index: 1, matched: true },
        ],
      },
      'payments/allow-all': { action: 'ALLOW', matched: true, rule: 0 },
    },
  },
  {
    name: 'no ALLOW matches: each policy shows its first failing field',
    policies: () => [
      ap('from-checkout', {
        rules: [{ from: [{ source: { principals: ['cluster.local/ns/payments/sa/checkout'] } }] }],
      }),
      ap('blue-team', {
        rules: [
          {
            to: [{ operation: { methods: ['GET'] } }],
            when: [
              { key: 'request.headers[x-team]', values: ['*'] },
              { key: 'request.headers[x-team]', values: ['blue'] },
            ],
          },
        ],
      }),
      ap('not-secret', { rules: [{ to: [{ operation: { notPaths: ['/secret*'] } }] }] }),
      ap('two-sources', {
        rules: [
          {
            from: [
              { source: { ipBlocks: ['10.0.0.0/8'], principals: ['*'] } },
              { source: { notIpBlocks: ['10.0.0.0/8'] } },
            ],
          },
        ],
      }),
      ap('nothing', { rules: [] }),
    ],
    request: () => ({ path: '/secret/1', headers: { 'x-team': 'red' } }),
    decision: { allow: false, status: 403, reason: 'authz_no_allow_match' },
    stage: 'authorization',
    expect: {
      'payments/from-checkout': {
        matched: false,
        rules: [{ index: 0, matched: false, failed: 'from[0].source.principals' }],
      },
      'payments/blue-team': {
        matched: false,
        rules: [{ index: 0, matched: false, failed: 'when[1] request.headers[x-team]' }],
      },
      'payments/not-secret': {
        matched: false,
        rules: [{ index: 0, matched: false, failed: 'to[0].operation.notPaths' }],
      },
      'payments/two-sources': {
        matched: false,
        rules: [
          {
            index: 0,
            matched: false,
            failed: 'from[0].source.principals',
            alternatives: ['from[0].source.principals', 'from[1].source.notIpBlocks'],
          },
        ],
      },
      'payments/nothing': { evaluated: true, matched: false, rules: [] },
    },
  },
  {
    name: 'dry-run and AUDIT policies are reported; only enforced ones decide',
    policies: () => [
      ap(
        'shadow-deny',
        { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/reports/*'] } }] }] },
        { 'istio.io/dry-run': 'true' },
      ),
      ap(
        'shadow-allow',
        { rules: [{ to: [{ operation: { hosts: ['other.example'] } }] }] },
        { 'istio.io/dry-run': 'true' },
      ),
      ap('audit-reports', {
        action: 'AUDIT',
        rules: [{ to: [{ operation: { ports: ['8080'] } }] }],
      }),
    ],
    request: () => ({ path: '/reports/1' }),
    decision: {
      allow: true,
      reason: 'authz_allow_default',
      audit: true,
      dryRun: { wouldDeny: true, policy: 'payments/shadow-deny' },
    },
    stage: 'authorization',
    expect: {
      'payments/shadow-deny': { action: 'DENY', dryRun: true, matched: true, rule: 0 },
      'payments/shadow-allow': {
        action: 'ALLOW',
        dryRun: true,
        matched: false,
        rules: [{ index: 0, matched: false, failed: 'to[0].operation.hosts' }],
      },
      'payments/audit-reports': { action: 'AUDIT', dryRun: false, matched: true, rule: 0 },
    },
  },
  {
    name: 'a verified peer: principals match, notPrincipals is the failing field',
    policies: () => [
      ap('not-checkout', {
        action: 'DENY',
        rules: [
          { from: [{ source: { notPrincipals: ['cluster.local/ns/payments/sa/checkout'] } }] },
        ],
      }),
      ap('checkout', {
        rules: [
          { from: [{ source: { namespaces: ['billing'] } }] },
          { from: [{ source: { principals: ['cluster.local/ns/payments/sa/checkout'] } }] },
        ],
      }),
    ],
    request: () => ({ peerCertificate: checkout.certDer }),
    decision: { allow: true, reason: 'authz_allow_policy', policy: 'payments/checkout', rule: 1 },
    stage: 'authorization',
    expect: {
      'payments/not-checkout': {
        matched: false,
        rules: [{ index: 0, matched: false, failed: 'from[0].source.notPrincipals' }],
      },
      'payments/checkout': {
        matched: true,
        rule: 1,
        rules: [
          { index: 0, matched: false, failed: 'from[0].source.namespaces' },
          { index: 1, matched: true },
        ],
      },
    },
  },
  {
    name: 'a token claim condition: `when[1] request.auth.claims[groups]`, no claim values',
    policies: () => [
      requestAuthentication(),
      ap('admins', {
        rules: [
          {
            from: [{ source: { requestPrincipals: [`${ISS}/*`] } }],
            when: [
              { key: 'request.auth.audiences', values: ['payments'] },
              { key: 'request.auth.claims[groups]', values: ['admins'] },
            ],
          },
          { when: [{ key: 'request.auth.claims[groups]', notValues: [SECRET_GROUP] }] },
        ],
      }),
    ],
    request: async () => ({
      path: '/reports?q=secret-query',
      headers: { authorization: `Bearer ${await token({ groups: [SECRET_GROUP] })}` },
    }),
    decision: {
      allow: false,
      status: 403,
      reason: 'authz_no_allow_match',
      url: '/reports?q=secret-query',
    },
    stage: 'authorization',
    expect: {
      'payments/admins': {
        matched: false,
        rules: [
          { index: 0, matched: false, failed: 'when[1] request.auth.claims[groups]' },
          { index: 1, matched: false, failed: 'when[0] request.auth.claims[groups] notValues' },
        ],
      },
    },
  },
  {
    name: 'a token-stage denial (401): authorization did not run, policies are not evaluated',
    policies: () => [requestAuthentication(), allowAll],
    request: async () => ({
      headers: { authorization: `Bearer ${await token({ aud: 'someone-else' })}` },
    }),
    decision: { allow: false, status: 401, reason: 'jwt_audience_mismatch' },
    stage: 'token',
    expect: { 'payments/allow-all': { evaluated: false, matched: false, rules: [] } },
  },
  {
    name: 'a 401 after CUSTOM allowed: the CUSTOM policy is evaluated, DENY/ALLOW are not',
    policies: () => [
      requestAuthentication(),
      ap('ext', {
        action: 'CUSTOM',
        provider: { name: 'opa' },
        rules: [{ to: [{ operation: { paths: ['/admin'] } }] }, {}],
      }),
      allowAll,
    ],
    options: { customProviders: { opa: () => true } },
    request: () => ({ headers: { authorization: 'Bearer not.a.jwt' } }),
    decision: { allow: false, status: 401, reason: 'jwt_malformed' },
    stage: 'token',
    expect: {
      'payments/ext': {
        action: 'CUSTOM',
        evaluated: true,
        matched: true,
        rule: 1,
        rules: [
          { index: 0, matched: false, failed: 'to[0].operation.paths' },
          { index: 1, matched: true },
        ],
      },
      'payments/allow-all': { evaluated: false, rules: [] },
    },
  },
  {
    name: 'a CUSTOM provider denial: stage custom',
    policies: () => [
      ap('ext', { action: 'CUSTOM', provider: { name: 'opa' }, rules: [{}] }),
      allowAll,
    ],
    options: { customProviders: { opa: () => false } },
    request: () => ({}),
    decision: { allow: false, status: 403, reason: 'authz_custom_deny', policy: 'payments/ext' },
    stage: 'custom',
    expect: {
      'payments/ext': { evaluated: true, matched: true, rule: 0 },
      'payments/allow-all': { evaluated: false },
    },
  },
  {
    name: 'a 400 pre-check: nothing evaluated',
    policies: () => [allowAll],
    request: () => ({ method: 'get' }),
    decision: { status: 400, reason: 'request_invalid_method' },
    stage: 'request',
    expect: { 'payments/allow-all': { evaluated: false } },
  },
  {
    name: 'STRICT without a client certificate: stage peer, nothing evaluated',
    policies: () => [allowAll],
    options: { mtls: { mode: 'STRICT' } },
    request: () => ({}),
    decision: { status: 403, reason: 'mtls_required' },
    stage: 'peer',
    expect: { 'payments/allow-all': { evaluated: false } },
  },
];

describe('guard.explain', () => {
  it.each(cases)('$name', async (c) => {
    const guard = await guardWith(c.policies(), c.options);
    const f = facts(await c.request());
    const decision = await guard.check(f);
    const explanation = await guard.explain(f);

    expect(decision).toMatchObject(c.decision);
    expect(explanation.decision).toEqual(redacted(decision));
    expect(explanation.stage).toBe(c.stage);
    const policies = byName(explanation);
    expect(Object.keys(policies).sort()).toEqual(Object.keys(c.expect).sort());
    for (const [name, expected] of Object.entries(c.expect))
      expect(policies[name], name).toMatchObject(expected);
    // The policy `check` names agrees with the explanation, and every failing rule says why.
    if (decision.policy !== undefined && c.stage === 'authorization')
      expect(policies[decision.policy]).toMatchObject({ matched: true, rule: decision.rule });
    for (const p of explanation.policies)
      for (const r of p.rules) expect(r.matched || typeof r.failed === 'string').toBe(true);
  });

  it('holds no token, claim values, query or header values set from claims', async () => {
    const guard = await guardWith([
      {
        ...requestAuthentication(),
        spec: {
          jwtRules: [
            {
              ...requestAuthentication().spec.jwtRules[0],
              outputClaimToHeaders: [{ header: 'x-groups', claim: 'groups' }],
              forwardOriginalToken: true,
            },
          ],
        },
      },
      ap('admins', { rules: [{ when: [{ key: 'request.auth.claims[groups]', values: ['x'] }] }] }),
    ]);
    const jwt = await token({ groups: SECRET_GROUP });
    const f = facts({ path: `/r?access_token=${jwt}` });
    const decision = await guard.check(f);
    expect(decision).toMatchObject({ reason: 'authz_no_allow_match' });
    expect(JSON.stringify(decision)).toContain(SECRET_GROUP); // check itself carries the claims
    const text = JSON.stringify(await guard.explain(f));
    expect(text).not.toContain(jwt);
    expect(text).not.toContain(SECRET_GROUP);
    expect(text).toContain('when[0] request.auth.claims[groups]');
  });

  it('does not call onDecision', async () => {
    const seen: Decision[] = [];
    const guard = await guardWith([allowAll], { onDecision: (d) => seen.push(d) });
    await guard.explain(facts());
    expect(seen).toEqual([]);
    await guard.check(facts());
    expect(seen).toHaveLength(1);
  });

  it('lists policies in scope only', async () => {
    const other = { ...allowAll, metadata: { name: 'elsewhere', namespace: 'billing' } };
    const guard = await guardWith([allowAll, other]);
    expect((await guard.explain(facts())).policies.map((p) => p.policy)).toEqual([
      'payments/allow-all',
    ]);
  });

  it('the pending guard forwards explain, and fails closed when the guard cannot be built', async () => {
    const built: Guard = await guardWith([allowAll]);
    expect((await toPendingGuard(built).explain(facts())).policies).toHaveLength(1);
    const pending = toPendingGuard({
      workload: WORKLOAD,
      mtls: { mode: 'PERMISSIVE' },
      policies: [allowAll],
    });
    expect(await pending.explain(facts())).toMatchObject({
      stage: 'authorization',
      policies: [{ policy: 'payments/allow-all', matched: true }],
    });
    const broken = toPendingGuard({ workload: { namespace: '', trustDomain: 'example.org' } });
    await expect(broken.ready).rejects.toThrow();
    expect(await broken.explain(facts())).toEqual({
      decision: expect.objectContaining({ status: 503, reason: 'internal_error' }),
      stage: 'internal',
      policies: [],
    });
  });
});

describe('explainPolicy', () => {
  const ctx = { trustDomain: 'example.org', trustDomainAliases: [], namespace: 'payments' };
  const attrs = {
    principal: undefined,
    requestIssuer: undefined,
    requestSubject: undefined,
    method: 'GET',
    path: '/a',
    host: 'h',
    port: 80,
  };

  it.each([
    [
      { to: [{ operation: { methods: ['GET'], notMethods: ['GET'] } }] },
      'to[0].operation.notMethods',
    ],
    [{ to: [{ operation: { hosts: ['h'], ports: ['81'] } }] }, 'to[0].operation.ports'],
    [
      { from: [{ source: { notNamespaces: ['x'], requestPrincipals: ['*'] } }] },
      'from[0].source.requestPrincipals',
    ],
    [
      { when: [{ key: 'destination.port', values: ['80'], notValues: ['80'] }] },
      'when[0] destination.port notValues',
    ],
    [
      {
        to: [{ operation: { paths: ['/a'] } }],
        when: [{ key: 'source.ip', values: ['10.0.0.0/8'] }],
      },
      'when[0] source.ip',
    ],
  ])('%j fails at %s', (rule, failed) => {
    const policy = compilePolicy(
      { metadata: { name: 'p' }, spec: { rules: [rule as never] } } as never,
      ctx,
    );
    expect(explainPolicy(policy, attrs)).toMatchObject({
      policy: 'payments/p',
      matched: false,
      rules: [{ index: 0, matched: false, failed }],
    });
  });
});
