/**
 * Linkerd policy import, checked through meshless's real compile + evaluate path.
 *
 * Doc pages cited (Linkerd 2-edge):
 *   [REF]   https://linkerd.io/2/reference/authorization-policy/
 *   [ROUTE] https://linkerd.io/2/tasks/configuring-per-route-policy/
 *   [FEAT]  https://linkerd.io/2/features/server-policy/
 *   [GWAPI] https://gateway-api.sigs.k8s.io/reference/spec/#httppathmatch (PathPrefix is per segment)
 */
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../src/errors.js';
import { compilePolicy, type AuthzAttributes } from '../../src/policy/compile-policy.js';
import { evaluatePolicies, type AuthzResult } from '../../src/policy/evaluate.js';
import { importLinkerdPolicies } from '../../src/policy/linkerd/linkerd-import.js';
import type { LinkerdImportOptions } from '../../src/policy/linkerd/linkerd-model.js';
import { loadPolicies } from '../../src/policy/load-policies.js';
import type { PolicySet } from '../../src/policy/model.js';

const TD = 'example.org';
const id = (ns: string, sa: string) => `spiffe://${TD}/ns/${ns}/sa/${sa}`;

function evaluator(set: PolicySet, namespace: string) {
  const compiled = set.authorizationPolicies.map((p) =>
    compilePolicy(p, { trustDomain: TD, trustDomainAliases: [], namespace }),
  );
  return (a: Partial<AuthzAttributes>): AuthzResult =>
    evaluatePolicies(compiled, {
      principal: undefined,
      requestIssuer: undefined,
      requestSubject: undefined,
      method: 'GET',
      path: '/',
      host: 'svc.example',
      port: 8080,
      sourceIp: '10.1.2.3',
      ...a,
    });
}

function load(
  yaml: string,
  options: Partial<LinkerdImportOptions> & { workload: LinkerdImportOptions['workload'] },
) {
  return importLinkerdPolicies(yaml, { trustDomain: TD, ...options });
}

const BOOKS = `
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: { name: authors-server, namespace: booksapp }
spec:
  podSelector: { matchLabels: { app: authors, project: booksapp } }
  port: service
---
apiVersion: policy.linkerd.io/v1beta1
kind: HTTPRoute
metadata: { name: authors-get-route, namespace: booksapp }
spec:
  parentRefs: [{ name: authors-server, kind: Server, group: policy.linkerd.io }]
  rules:
    - matches:
      - path: { value: "/authors.json" }
        method: GET
      - path: { value: "/authors/", type: PathPrefix }
        method: GET
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: { name: authors-get-policy, namespace: booksapp }
spec:
  targetRef: { group: policy.linkerd.io, kind: HTTPRoute, name: authors-get-route }
  requiredAuthenticationRefs:
    - { name: authors-get-authn, kind: MeshTLSAuthentication, group: policy.linkerd.io }
---
apiVersion: policy.linkerd.io/v1alpha1
kind: MeshTLSAuthentication
metadata: { name: authors-get-authn, namespace: booksapp }
spec:
  identities:
    - "books.booksapp.serviceaccount.identity.linkerd.cluster.local"
    - "webapp.booksapp.serviceaccount.identity.linkerd.cluster.local"
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: authors-probe-route, namespace: booksapp }
spec:
  parentRefs: [{ name: authors-server, kind: Server, group: policy.linkerd.io }]
  rules: [{ matches: [{ path: { value: "/ping" }, method: GET }] }]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: NetworkAuthentication
metadata: { name: authors-probe-authn, namespace: booksapp }
spec:
  networks: [{ cidr: 0.0.0.0/0 }, { cidr: "::/0" }]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: { name: authors-probe-policy, namespace: booksapp }
spec:
  targetRef: { group: policy.linkerd.io, kind: HTTPRoute, name: authors-probe-route }
  requiredAuthenticationRefs:
    - { name: authors-probe-authn, kind: NetworkAuthentication, group: policy.linkerd.io }
---
apiVersion: policy.linkerd.io/v1beta1
kind: HTTPRoute
metadata: { name: authors-modify-route, namespace: booksapp }
spec:
  parentRefs: [{ name: authors-server, kind: Server, group: policy.linkerd.io }]
  rules:
    - matches:
      - { path: { value: "/authors/", type: PathPrefix }, method: DELETE }
      - { path: { value: "/authors/", type: PathPrefix }, method: PUT }
      - { path: { value: "/authors.json" }, method: POST }
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: { name: authors-modify-policy, namespace: booksapp }
spec:
  targetRef: { group: policy.linkerd.io, kind: HTTPRoute, name: authors-modify-route }
  requiredAuthenticationRefs:
    - { name: webapp, kind: ServiceAccount }
`;

const EMOJI = `
apiVersion: policy.linkerd.io/v1beta1
kind: Server
metadata: { name: emoji-grpc, namespace: emojivoto, labels: { tier: grpc } }
spec:
  podSelector:
    matchExpressions:
      - { key: app, operator: In, values: [voting-svc, emoji-svc] }
      - { key: environment, operator: NotIn, values: [dev] }
  port: 8080
  proxyProtocol: gRPC
---
apiVersion: policy.linkerd.io/v1beta1
kind: ServerAuthorization
metadata: { name: emoji-grpc, namespace: emojivoto }
spec:
  server: { selector: { matchLabels: { tier: grpc } } }
  client:
    meshTLS:
      identities: ["*.emojivoto.serviceaccount.identity.linkerd.cluster.local"]
---
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: { name: admin, namespace: emojivoto }
spec: { podSelector: {}, port: 9990 }
---
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: { name: metrics, namespace: emojivoto }
spec: { podSelector: { matchLabels: { app: emoji-svc } }, port: 4191, accessPolicy: all-authenticated }
---
apiVersion: policy.linkerd.io/v1beta1
kind: Server
metadata: { name: web-http, namespace: emojivoto }
spec: { podSelector: { matchLabels: { app: emoji-svc } }, port: 7000 }
---
apiVersion: policy.linkerd.io/v1beta1
kind: ServerAuthorization
metadata: { name: web-public, namespace: emojivoto }
spec:
  server: { name: web-http }
  client: { unauthenticated: true, networks: [{ cidr: 10.0.0.0/8, except: [10.9.0.0/16] }] }
---
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: { name: other-app, namespace: emojivoto }
spec: { podSelector: { matchLabels: { app: voting-svc } }, port: 9000 }
`;

const AND_OR = `
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: { name: api }
spec: { podSelector: { matchLabels: { app: api } }, port: 8080 }
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: { name: internal-callers }
spec:
  targetRef: { group: policy.linkerd.io, kind: Server, name: api }
  requiredAuthenticationRefs:
    - { name: callers, kind: MeshTLSAuthentication, group: policy.linkerd.io }
    - { name: pods, kind: NetworkAuthentication, group: policy.linkerd.io, namespace: infra }
---
apiVersion: policy.linkerd.io/v1alpha1
kind: MeshTLSAuthentication
metadata: { name: callers }
spec:
  identityRefs: [{ kind: ServiceAccount, name: web }, { kind: Namespace, name: batch }]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: NetworkAuthentication
metadata: { name: pods, namespace: infra }
spec: { networks: [{ cidr: 10.0.0.0/8, except: [10.9.0.0/16] }] }
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: { name: admin-anywhere }
spec:
  targetRef: { kind: Namespace, name: shop }
  requiredAuthenticationRefs: [{ name: admin, kind: ServiceAccount, namespace: ops }]
`;

const PATHS = `
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: { name: web }
spec: { podSelector: { matchLabels: { app: web } }, port: 8080 }
---
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: { name: public }
spec:
  parentRefs: [{ name: web, kind: Server, group: policy.linkerd.io }]
  rules: [{ matches: [{ path: { type: PathPrefix, value: /public } }, { path: { type: Exact, value: /healthz } }] }]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: { name: public-all }
spec:
  targetRef: { group: policy.linkerd.io, kind: HTTPRoute, name: public }
  requiredAuthenticationRefs: []
`;

const HEADERS = `
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: { name: web }
spec: { podSelector: { matchLabels: { app: web } }, port: 8080 }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: canary }
spec:
  parentRefs: [{ name: web, kind: Server, group: policy.linkerd.io }]
  hostnames: [api.example]
  rules: [{ matches: [{ headers: [{ name: X-Env, value: canary }, { name: x-env, value: ignored }] }] }]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: { name: canary-all }
spec:
  targetRef: { group: gateway.networking.k8s.io, kind: HTTPRoute, name: canary }
  requiredAuthenticationRefs: []
`;

const books = evaluator(
  load(BOOKS, {
    workload: {
      namespace: 'booksapp',
      labels: { app: 'authors', project: 'booksapp' },
      ports: { service: 7001 },
    },
  }),
  'booksapp',
);
const emoji = evaluator(
  load(EMOJI, {
    workload: { namespace: 'emojivoto', labels: { app: 'emoji-svc' } },
    defaultPolicy: 'deny',
  }),
  'emojivoto',
);
const andOr = evaluator(
  load(AND_OR, { workload: { namespace: 'shop', labels: { app: 'api' } } }),
  'shop',
);
const paths = evaluator(
  load(PATHS, { workload: { namespace: 'shop', labels: { app: 'web' } } }),
  'shop',
);
const headers = evaluator(
  load(HEADERS, { workload: { namespace: 'shop', labels: { app: 'web' } } }),
  'shop',
);
const withDefault = (
  defaultPolicy: NonNullable<LinkerdImportOptions['defaultPolicy']>,
  clusterNetworks?: string[],
) =>
  evaluator(
    load('', {
      workload: { namespace: 'shop' },
      defaultPolicy,
      ...(clusterNetworks && { clusterNetworks }),
    }),
    'shop',
  );

type Case = [doc: string, name: string, run: () => AuthzResult, allow: boolean];
const B = (ns: string, sa: string) => id(ns, sa);

const cases: Case[] = [
  // [ROUTE] the route authorizes GET /authors.json for books and webapp
  [
    'ROUTE',
    'books GET /authors.json',
    () => books({ principal: B('booksapp', 'books'), port: 7001, path: '/authors.json' }),
    true,
  ],
  // [ROUTE] + [GWAPI] PathPrefix "/authors/" matches the segment /authors/…
  [
    'ROUTE',
    'webapp GET /authors/12',
    () => books({ principal: B('booksapp', 'webapp'), port: 7001, path: '/authors/12' }),
    true,
  ],
  // [GWAPI] PathPrefix is per segment: /authorsX is not under /authors/
  [
    'GWAPI',
    'webapp GET /authorsX (no route)',
    () => books({ principal: B('booksapp', 'webapp'), port: 7001, path: '/authorsX' }),
    false,
  ],
  // [ROUTE] the modify route is authorized for webapp only
  [
    'ROUTE',
    'books DELETE /authors/1',
    () =>
      books({
        principal: B('booksapp', 'books'),
        port: 7001,
        method: 'DELETE',
        path: '/authors/1',
      }),
    false,
  ],
  [
    'ROUTE',
    'webapp DELETE /authors/1',
    () =>
      books({
        principal: B('booksapp', 'webapp'),
        port: 7001,
        method: 'DELETE',
        path: '/authors/1',
      }),
    true,
  ],
  [
    'ROUTE',
    'webapp POST /authors.json',
    () =>
      books({
        principal: B('booksapp', 'webapp'),
        port: 7001,
        method: 'POST',
        path: '/authors.json',
      }),
    true,
  ],
  // [ROUTE] requests matching no route are rejected (404 in Linkerd)
  [
    'ROUTE',
    'webapp PATCH /authors/1 (no route)',
    () =>
      books({
        principal: B('booksapp', 'webapp'),
        port: 7001,
        method: 'PATCH',
        path: '/authors/1',
      }),
    false,
  ],
  // [REF] MeshTLSAuthentication: clients must be meshed with a listed identity
  ['REF', 'plaintext GET /authors.json', () => books({ port: 7001, path: '/authors.json' }), false],
  [
    'REF',
    'other identity GET /authors.json',
    () => books({ principal: B('other', 'books'), port: 7001, path: '/authors.json' }),
    false,
  ],
  // [ROUTE] the probe route is authorized by a NetworkAuthentication for 0.0.0.0/0 and ::/0
  ['ROUTE', 'plaintext probe GET /ping', () => books({ port: 7001, path: '/ping' }), true],
  [
    'ROUTE',
    'plaintext probe over IPv6',
    () => books({ port: 7001, path: '/ping', sourceIp: 'fd00::1' }),
    true,
  ],
  // [REF] default policy all-unauthenticated applies to ports no Server selects
  ['REF', 'plaintext on port 9000 (no Server)', () => books({ port: 9000 }), true],
  // [REF] ServerAuthorization: `*.<ns>.serviceaccount…` authorizes every service account of emojivoto
  ['REF', 'emojivoto/web → emoji-grpc', () => emoji({ principal: B('emojivoto', 'web') }), true],
  [
    'REF',
    'other namespace → emoji-grpc',
    () => emoji({ principal: B('emojivotox', 'web') }),
    false,
  ],
  ['REF', 'plaintext → emoji-grpc', () => emoji({}), false],
  // [REF] note: a Server without authorizations denies all traffic to its port
  [
    'REF',
    'emojivoto/web → admin (no authorization)',
    () => emoji({ principal: B('emojivoto', 'web'), port: 9990 }),
    false,
  ],
  // [REF] accessPolicy all-authenticated on the Server
  ['REF', 'authenticated → metrics', () => emoji({ principal: B('x', 'y'), port: 4191 }), true],
  ['REF', 'plaintext → metrics', () => emoji({ port: 4191 }), false],
  // [REF] ServerAuthorization unauthenticated + networks (with except)
  ['REF', 'plaintext from 10.1.2.3 → web-http', () => emoji({ port: 7000 }), true],
  [
    'REF',
    'plaintext from 10.9.0.5 (except) → web-http',
    () => emoji({ port: 7000, sourceIp: '10.9.0.5' }),
    false,
  ],
  [
    'REF',
    'plaintext from 192.168.1.1 → web-http',
    () => emoji({ port: 7000, sourceIp: '192.168.1.1' }),
    false,
  ],
  // [REF] default policy deny; a Server for other pods does not apply to this workload
  [
    'REF',
    'authenticated on 9000 (other pods’ Server, default deny)',
    () => emoji({ principal: B('emojivoto', 'web'), port: 9000 }),
    false,
  ],
  // [REF] requiredAuthenticationRefs: all authentications must match (identity AND network)
  ['REF', 'shop/web from 10.1.2.3 → api', () => andOr({ principal: B('shop', 'web') }), true],
  [
    'REF',
    'batch/anything from 10.1.2.3 (Namespace identityRef)',
    () => andOr({ principal: B('batch', 'cron') }),
    true,
  ],
  [
    'REF',
    'shop/web from 10.9.1.1 (except)',
    () => andOr({ principal: B('shop', 'web'), sourceIp: '10.9.1.1' }),
    false,
  ],
  [
    'REF',
    'shop/web from 172.16.0.1 (outside)',
    () => andOr({ principal: B('shop', 'web'), sourceIp: '172.16.0.1' }),
    false,
  ],
  [
    'REF',
    'shop/db from 10.1.2.3 (identity not listed)',
    () => andOr({ principal: B('shop', 'db') }),
    false,
  ],
  // [REF] several AuthorizationPolicies on one target are alternatives; a Namespace target covers all Servers
  [
    'REF',
    'ops/admin from anywhere (Namespace-targeted policy)',
    () => andOr({ principal: B('ops', 'admin'), sourceIp: '8.8.8.8' }),
    true,
  ],
  // [REF] empty requiredAuthenticationRefs: anyone, on the route only
  ['REF', 'plaintext GET /public/x', () => paths({ path: '/public/x' }), true],
  ['REF', 'plaintext GET /healthz', () => paths({ path: '/healthz' }), true],
  ['GWAPI', 'plaintext GET /healthz/x (Exact)', () => paths({ path: '/healthz/x' }), false],
  ['GWAPI', 'plaintext GET /publicity (segment)', () => paths({ path: '/publicity' }), false],
  // [GWAPI] header match (name case-insensitive, first entry per name) and hostnames (port ignored)
  [
    'GWAPI',
    'x-env: canary, Host api.example:8080',
    () => headers({ host: 'api.example:8080', headers: { 'x-env': 'canary' } }),
    true,
  ],
  [
    'GWAPI',
    'x-env: ignored',
    () => headers({ host: 'api.example', headers: { 'x-env': 'ignored' } }),
    false,
  ],
  [
    'GWAPI',
    'x-env: canary, other host',
    () => headers({ host: 'web.example', headers: { 'x-env': 'canary' } }),
    false,
  ],
  // [REF] default policies
  ['REF', 'default deny', () => withDefault('deny')({ principal: B('a', 'b') }), false],
  [
    'REF',
    'default all-authenticated, meshed',
    () => withDefault('all-authenticated')({ principal: B('a', 'b') }),
    true,
  ],
  [
    'REF',
    'default all-authenticated, plaintext',
    () => withDefault('all-authenticated')({}),
    false,
  ],
  [
    'REF',
    'default cluster-authenticated, meshed in cluster',
    () => withDefault('cluster-authenticated', ['10.0.0.0/8'])({ principal: B('a', 'b') }),
    true,
  ],
  [
    'REF',
    'default cluster-authenticated, meshed outside',
    () =>
      withDefault('cluster-authenticated', ['10.0.0.0/8'])({
        principal: B('a', 'b'),
        sourceIp: '8.8.8.8',
      }),
    false,
  ],
  [
    'REF',
    'default cluster-unauthenticated, plaintext in cluster',
    () => withDefault('cluster-unauthenticated', ['10.0.0.0/8'])({}),
    true,
  ],
];

describe('importLinkerdPolicies: decisions through compile + evaluate', () => {
  it.each(cases)('[%s] %s', (_doc, _name, run, allow) => {
    expect(run().allow).toBe(allow);
  });

  it('has at least 25 cases', () => expect(cases.length).toBeGreaterThanOrEqual(25));

  // [ROUTE] no matching route: Linkerd answers 404; meshless denies with a DENY policy naming it
  it('a request matching no (path-only) route is denied by linkerd.no-route.<server>', () => {
    expect(paths({ path: '/private' })).toMatchObject({
      allow: false,
      reason: 'authz_deny_policy',
      policy: 'shop/linkerd.no-route.web',
    });
    expect(books({ principal: B('booksapp', 'webapp'), port: 7001, path: '/nope' })).toMatchObject({
      allow: false,
      reason: 'authz_no_allow_match',
    });
  });

  // [FEAT] audit mode: traffic is allowed and flagged
  it('default audit allows and marks', () => {
    expect(withDefault('audit')({})).toMatchObject({ allow: true, audit: true });
  });

  it('the generated policies are valid Istio documents', () => {
    const set = load(BOOKS, {
      workload: {
        namespace: 'booksapp',
        labels: { app: 'authors', project: 'booksapp' },
        ports: { service: 7001 },
      },
    });
    const docs = set.authorizationPolicies.map((p) => ({
      apiVersion: 'security.istio.io/v1',
      ...p,
    }));
    expect(loadPolicies(docs).authorizationPolicies).toEqual(set.authorizationPolicies);
  });
});

const SERVER = `apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: { name: web }
spec: { podSelector: { matchLabels: { app: web } }, port: 8080 }
---
`;
const route = (rules: string) => `${SERVER}apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: { name: r }
spec:
  parentRefs: [{ name: web, kind: Server, group: policy.linkerd.io }]
  rules: ${rules}
`;

describe('importLinkerdPolicies: refused input', () => {
  const refuse: [
    name: string,
    yaml: string,
    field: RegExp,
    options?: Partial<LinkerdImportOptions>,
  ][] = [
    [
      'RegularExpression path',
      route('[{ matches: [{ path: { type: RegularExpression, value: "/a.*" } }] }]'),
      /path\.type/,
    ],
    [
      'queryParams',
      route('[{ matches: [{ queryParams: [{ name: a, value: b }] }] }]'),
      /queryParams/,
    ],
    ['filters', route('[{ filters: [{ type: RequestHeaderModifier }] }]'), /filters/],
    [
      '"*" in an Exact path',
      route('[{ matches: [{ path: { type: Exact, value: "/a*" } }] }]'),
      /path\.value/,
    ],
    [
      'unauthenticatedTLS',
      `${SERVER}apiVersion: policy.linkerd.io/v1beta1
kind: ServerAuthorization
metadata: { name: s }
spec: { server: { name: web }, client: { meshTLS: { unauthenticatedTLS: true } } }`,
      /unauthenticatedTLS/,
    ],
    [
      'named port without workload.ports',
      `apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: { name: web }
spec: { podSelector: {}, port: http }`,
      /spec\.port/,
    ],
    [
      'identity of another identity domain',
      `apiVersion: policy.linkerd.io/v1alpha1
kind: MeshTLSAuthentication
metadata: { name: m }
spec: { identities: [a.b.serviceaccount.identity.linkerd.other.local] }`,
      /identities\[0\]/,
    ],
    [
      'missing MeshTLSAuthentication',
      `${SERVER}apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: { name: p }
spec:
  targetRef: { group: policy.linkerd.io, kind: Server, name: web }
  requiredAuthenticationRefs: [{ name: nope, kind: MeshTLSAuthentication, group: policy.linkerd.io }]`,
      /requiredAuthenticationRefs\[0\]/,
    ],
    [
      'overlapping routes with different authorizations',
      `${route('[{ matches: [{ path: { type: PathPrefix, value: /api } }] }]')}---
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: { name: admin }
spec:
  parentRefs: [{ name: web, kind: Server, group: policy.linkerd.io }]
  rules: [{ matches: [{ path: { type: PathPrefix, value: /api/admin } }] }]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: { name: p }
spec:
  targetRef: { group: policy.linkerd.io, kind: HTTPRoute, name: admin }
  requiredAuthenticationRefs: []`,
      /document 2/,
    ],
    [
      'Server-level policy on a Server with routes',
      `${route('[{}]')}---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: { name: p }
spec:
  targetRef: { group: policy.linkerd.io, kind: Server, name: web }
  requiredAuthenticationRefs: []`,
      /document 0/,
    ],
    [
      'cluster-authenticated without clusterNetworks',
      '',
      /clusterNetworks/,
      { defaultPolicy: 'cluster-authenticated' },
    ],
    [
      'accessPolicy on a v1beta1 Server',
      `apiVersion: policy.linkerd.io/v1beta1
kind: Server
metadata: { name: web }
spec: { podSelector: {}, port: 80, accessPolicy: all-unauthenticated }`,
      /spec\.accessPolicy/,
    ],
  ];

  it.each(refuse)('%s', (_name, yaml, where, options) => {
    let error: unknown;
    try {
      load(yaml, { workload: { namespace: 'shop', labels: { app: 'web' } }, ...options });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).message).toMatch(where);
  });
});
