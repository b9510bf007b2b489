import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGuard, type Guard } from '../../src/guard/guard.js';
import type { GuardOptions } from '../../src/guard/options.js';
import type { RequestFacts } from '../../src/guard/request-facts.js';
import * as A from '../../src/telemetry/attributes.js';
import { VERSION } from '../../src/version.js';
import {
  deadOrigin,
  json,
  makeKey,
  nowSec,
  signToken,
  startServer,
  type TestKey,
  type TestServer,
} from '../helpers/jwks.js';

const ISS = 'https://issuer.test';
const SUB = 'subject-7c1e9d';

let server: TestServer;
let key: TestKey;
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(async () => {
  server = await startServer();
  key = await makeKey('k1');
  server.route('/jwks', json({ keys: [key.publicJwk] }));
});
afterAll(async () => {
  await server.close();
  await provider.shutdown();
});
beforeEach(() => {
  exporter.reset();
});

const POLICIES = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-reports}
spec:
  rules:
    - from: [{source: {requestPrincipals: ["${ISS}/*"]}}]
      to: [{operation: {paths: ["/reports*"]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin, namespace: istio-system}
spec:
  action: DENY
  rules:
    - to: [{operation: {paths: ["/nope"]}}]
    - to: [{operation: {paths: ["/admin*"]}}]
`;

function facts(overrides: Partial<RequestFacts> = {}): RequestFacts {
  return {
    method: 'GET',
    path: '/',
    host: 'payments.example',
    headers: {},
    sourceIp: '10.1.2.3',
    destinationPort: 8080,
    ...overrides,
  };
}

async function guardWith(extra: Partial<GuardOptions> = {}): Promise<Guard> {
  return createGuard({
    workload: { namespace: 'payments', trustDomain: 'example.org' },
    mtls: { mode: 'PERMISSIVE' },
    policies: POLICIES,
    jwt: { issuers: [{ issuer: ISS, jwksUri: `${server.origin}/jwks` }] },
    telemetry: { tracerProvider: provider },
    ...extra,
  });
}

function spansByName(): Map<string, ReadableSpan> {
  const spans = exporter.getFinishedSpans();
  const map = new Map<string, ReadableSpan>();
  for (const s of spans) {
    expect(map.has(s.name), `one ${s.name} span per request`).toBe(false);
    map.set(s.name, s);
  }
  return map;
}

/** Every string the spans carry: names, attribute values, status messages, events. */
function spanText(): string {
  return JSON.stringify(
    exporter
      .getFinishedSpans()
      .map((s) => ({ name: s.name, attributes: s.attributes, status: s.status, events: s.events })),
  );
}

describe('guard spans', () => {
  it('an allow with a token: authn.mtls, authn.jwt and authz.decision with their meshless.* attributes', async () => {
    const guard = await guardWith();
    const token = await signToken(key, { iss: ISS, sub: SUB, scope: 'reports:read' });
    const d = await guard.check(
      facts({ path: '/reports/1', headers: { authorization: `Bearer ${token}` } }),
    );
    expect(d).toMatchObject({ allow: true, reason: 'authz_allow_policy' });

    const spans = spansByName();
    // The first request fetched the issuer's keys: a CLIENT `jwks.fetch` span (see metrics.test.ts).
    expect([...spans.keys()].sort()).toEqual([
      'authn.jwt',
      'authn.mtls',
      'authz.decision',
      'jwks.fetch',
    ]);
    expect(spans.get('jwks.fetch')?.kind).toBe(SpanKind.CLIENT);
    spans.delete('jwks.fetch');
    const mtls = spans.get('authn.mtls')!;
    const jwt = spans.get('authn.jwt')!;
    const authz = spans.get('authz.decision')!;

    expect(mtls.attributes).toEqual({
      [A.ATTR_AUTHN_METHOD]: 'mtls',
      [A.ATTR_NETWORK_PEER_ADDRESS]: '10.1.2.3',
      [A.ATTR_AUTHN_RESULT]: 'none',
    });
    expect(jwt.attributes).toEqual({
      [A.ATTR_AUTHN_METHOD]: 'jwt',
      [A.ATTR_AUTHN_RESULT]: 'success',
      [A.ATTR_AUTHN_CACHED]: false,
      [A.ATTR_JWT_ISSUER]: ISS,
      [A.ATTR_JWT_ALG]: 'ES256',
      [A.ATTR_JWT_KID]: 'k1',
    });
    expect(authz.attributes).toEqual({
      [A.ATTR_AUTHZ_DECISION]: 'allow',
      [A.ATTR_AUTHZ_REASON]: 'authz_allow_policy',
      [A.ATTR_AUTHZ_MODE]: 'enforce',
      [A.ATTR_AUTHZ_POLICY]: 'payments/allow-reports',
      [A.ATTR_AUTHZ_RULE]: 0,
      [A.ATTR_AUTHZ_ACTION]: 'ALLOW',
    });
    for (const s of spans.values()) {
      expect(s.kind).toBe(SpanKind.INTERNAL);
      expect(s.status.code).toBe(SpanStatusCode.UNSET);
      expect(s.instrumentationScope).toMatchObject({ name: '@meshless/core', version: VERSION });
    }
    const text = spanText();
    expect(text).not.toContain(token);
    for (const segment of token.split('.')) expect(text).not.toContain(segment);
    expect(text).not.toContain(SUB);
    expect(text).not.toContain('reports:read');

    // The token's second use caches it; the third is answered from the cache.
    await guard.check(facts({ path: '/reports/2', headers: { authorization: `Bearer ${token}` } }));
    exporter.reset();
    await guard.check(facts({ path: '/reports/3', headers: { authorization: `Bearer ${token}` } }));
    expect(spansByName().get('authn.jwt')?.attributes[A.ATTR_AUTHN_CACHED]).toBe(true);
  });

  it('a DENY: authz.decision names the policy, rule and action; status stays unset', async () => {
    const guard = await guardWith();
    const d = await guard.check(facts({ path: '/admin/users' }));
    expect(d).toMatchObject({ allow: false, status: 403, reason: 'authz_deny_policy' });
    const spans = spansByName();
    expect([...spans.keys()].sort()).toEqual(['authn.mtls', 'authz.decision']);
    const authz = spans.get('authz.decision')!;
    expect(authz.attributes).toEqual({
      [A.ATTR_AUTHZ_DECISION]: 'deny',
      [A.ATTR_AUTHZ_REASON]: 'authz_deny_policy',
      [A.ATTR_AUTHZ_MODE]: 'enforce',
      [A.ATTR_AUTHZ_POLICY]: 'istio-system/deny-admin',
      [A.ATTR_AUTHZ_RULE]: 1,
      [A.ATTR_AUTHZ_ACTION]: 'DENY',
    });
    expect(authz.status.code).toBe(SpanStatusCode.UNSET);
    expect(authz.attributes[A.ATTR_ERROR_TYPE]).toBeUndefined();
  });

  it('no ALLOW match: deny without a policy name', async () => {
    const guard = await guardWith();
    await guard.check(facts({ path: '/reports/1' }));
    expect(spansByName().get('authz.decision')?.attributes).toEqual({
      [A.ATTR_AUTHZ_DECISION]: 'deny',
      [A.ATTR_AUTHZ_REASON]: 'authz_no_allow_match',
      [A.ATTR_AUTHZ_MODE]: 'enforce',
    });
  });

  it('an invalid token: authn.jwt failure with its reason, and no token or claim in any attribute', async () => {
    const guard = await guardWith();
    const token = await signToken(key, { iss: ISS, sub: SUB, exp: nowSec() - 3600 });
    const d = await guard.check(
      facts({ path: '/reports/1', headers: { authorization: `Bearer ${token}` } }),
    );
    expect(d).toMatchObject({ status: 401, reason: 'jwt_expired' });
    const spans = spansByName();
    expect(spans.get('authn.jwt')?.attributes).toMatchObject({
      [A.ATTR_AUTHN_METHOD]: 'jwt',
      [A.ATTR_AUTHN_RESULT]: 'failure',
      [A.ATTR_AUTHN_FAILURE_REASON]: 'jwt_expired',
      [A.ATTR_JWT_ISSUER]: ISS,
    });
    expect(spans.get('authn.jwt')?.status.code).toBe(SpanStatusCode.UNSET);
    expect(spans.get('authz.decision')?.attributes).toMatchObject({
      [A.ATTR_AUTHZ_DECISION]: 'deny',
      [A.ATTR_AUTHZ_REASON]: 'jwt_expired',
    });
    const text = spanText();
    expect(text).not.toContain(token);
    expect(text).not.toContain(SUB);
  });

  it('garbage in the Authorization header never reaches an attribute', async () => {
    const guard = await guardWith();
    const garbage = 'eyJhbGciOiJFUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJlLXZhbHVl';
    await guard.check(facts({ headers: { authorization: `Bearer ${garbage}` } }));
    expect(spansByName().get('authn.jwt')?.attributes).toMatchObject({
      [A.ATTR_AUTHN_FAILURE_REASON]: 'jwt_malformed',
    });
    const text = spanText();
    for (const segment of garbage.split('.')) expect(text).not.toContain(segment);
  });

  it('STRICT without a peer: authn.mtls failure mtls_required', async () => {
    const guard = await guardWith({ mtls: { mode: 'STRICT' } });
    await guard.check(facts());
    const spans = spansByName();
    expect(spans.get('authn.mtls')?.attributes).toEqual({
      [A.ATTR_AUTHN_METHOD]: 'mtls',
      [A.ATTR_NETWORK_PEER_ADDRESS]: '10.1.2.3',
      [A.ATTR_AUTHN_RESULT]: 'failure',
      [A.ATTR_AUTHN_FAILURE_REASON]: 'mtls_required',
    });
    expect(spans.get('authz.decision')?.attributes).toMatchObject({
      [A.ATTR_AUTHZ_REASON]: 'mtls_required',
    });
    expect(spans.has('authn.jwt')).toBe(false);
  });

  it('a 400 pre-check: only authz.decision', async () => {
    const guard = await guardWith();
    await guard.check(facts({ method: 'get' }));
    const spans = spansByName();
    expect([...spans.keys()]).toEqual(['authz.decision']);
    expect(spans.get('authz.decision')?.attributes).toMatchObject({
      [A.ATTR_AUTHZ_DECISION]: 'deny',
      [A.ATTR_AUTHZ_REASON]: 'request_invalid_method',
    });
  });

  it('JWKS unavailable: authn.jwt has Error status and error.type', async () => {
    const guard = await guardWith({
      jwt: { issuers: [{ issuer: ISS, jwksUri: `${await deadOrigin()}/jwks` }] },
    });
    const token = await signToken(key, { iss: ISS, sub: SUB });
    await guard.check(facts({ headers: { authorization: `Bearer ${token}` } }));
    const jwt = spansByName().get('authn.jwt')!;
    expect(jwt.status.code).toBe(SpanStatusCode.ERROR);
    expect(jwt.attributes).toMatchObject({
      [A.ATTR_AUTHN_RESULT]: 'failure',
      [A.ATTR_AUTHN_FAILURE_REASON]: 'jwks_unavailable',
      [A.ATTR_ERROR_TYPE]: 'jwks_unavailable',
    });
    expect(spanText()).not.toContain(token);
  });

  it('an internal error: authz.decision deny with Error status and error.type internal_error', async () => {
    const guard = await guardWith();
    await guard.check(null as unknown as RequestFacts);
    const authz = spansByName().get('authz.decision')!;
    expect(authz.status.code).toBe(SpanStatusCode.ERROR);
    expect(authz.attributes).toMatchObject({
      [A.ATTR_AUTHZ_DECISION]: 'deny',
      [A.ATTR_AUTHZ_REASON]: 'internal_error',
      [A.ATTR_ERROR_TYPE]: 'internal_error',
    });
  });

  it('audit and dry-run marks', async () => {
    const guard = await guardWith({
      policies: [
        {
          apiVersion: 'security.istio.io/v1',
          kind: 'AuthorizationPolicy',
          metadata: { name: 'audit' },
          spec: { action: 'AUDIT', rules: [{}] },
        },
        {
          apiVersion: 'security.istio.io/v1',
          kind: 'AuthorizationPolicy',
          metadata: { name: 'shadow', annotations: { 'istio.io/dry-run': 'true' } },
          spec: { action: 'DENY', rules: [{}] },
        },
      ],
    });
    await guard.check(facts());
    expect(spansByName().get('authz.decision')?.attributes).toMatchObject({
      [A.ATTR_AUTHZ_DECISION]: 'allow',
      [A.ATTR_AUTHZ_REASON]: 'authz_allow_default',
      [A.ATTR_AUTHZ_AUDIT]: true,
      [A.ATTR_AUTHZ_DRY_RUN_WOULD_DENY]: true,
    });
  });
});
