import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard } from '../../src/guard/guard.js';
import type { GuardOptions } from '../../src/guard/options.js';
import type { RequestFacts } from '../../src/guard/request-facts.js';
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
const WORKLOAD = { namespace: 'payments', trustDomain: 'example.org' };

let server: TestServer;
let key: TestKey;

beforeAll(async () => {
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
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function requestAuthentication(namespace = 'payments', jwksUri = `${server.origin}/jwks`) {
  return `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: ${namespace}}
spec:
  jwtRules:
    - issuer: ${ISS}
      audiences: [payments]
      jwksUri: ${jwksUri}
`;
}

const guardWith = (policies: string[], extra: Partial<GuardOptions> = {}) =>
  createGuard({ workload: WORKLOAD, mtls: { mode: 'PERMISSIVE' }, policies, ...extra });

const ALLOW_ALICE = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: alice-only}
spec:
  rules:
    - from: [{source: {requestPrincipals: ["${ISS}/alice"]}}]
`;

describe('guard with RequestAuthentication', () => {
  it('a valid token sets requestPrincipal and claims, and ALLOW requestPrincipals matches iss/sub', async () => {
    const guard = await guardWith([requestAuthentication(), ALLOW_ALICE]);
    const token = await signToken(key, { iss: ISS, sub: 'alice', aud: 'payments', role: 'admin' });
    const d = await guard.check(facts({ path: '/a?b=1', headers: bearer(token) }));
    expect(d).toMatchObject({
      allow: true,
      status: 200,
      reason: 'authz_allow_policy',
      policy: 'payments/alice-only',
      rule: 0,
      requestPrincipal: `${ISS}/alice`,
      url: '/a?b=1',
    });
    expect(d.claims).toMatchObject({ iss: ISS, sub: 'alice', role: 'admin' });

    const bob = await signToken(key, { iss: ISS, sub: 'bob', aud: 'payments' });
    expect(await guard.check(facts({ headers: bearer(bob) }))).toMatchObject({
      allow: false,
      status: 403,
      reason: 'authz_no_allow_match',
      requestPrincipal: `${ISS}/bob`,
    });
  });

  it('no token → anonymous: refused only by policy', async () => {
    const open = await guardWith([requestAuthentication()]);
    expect(await open.check(facts())).toMatchObject({ allow: true, reason: 'authz_allow_default' });
    expect(
      await open.check(facts({ headers: { authorization: 'Basic dXNlcjpwYXNz' } })),
    ).toMatchObject({ allow: true });
    const closed = await guardWith([requestAuthentication(), ALLOW_ALICE]);
    expect(await closed.check(facts())).toMatchObject({
      allow: false,
      status: 403,
      reason: 'authz_no_allow_match',
    });
  });

  it.each([
    ['expired', { exp: nowSec() - 3600 }, 'jwt_expired', 'invalid_token'],
    ['not yet valid', { nbf: nowSec() + 3600 }, 'jwt_not_yet_valid', 'invalid_token'],
    ['wrong audience', { aud: 'other' }, 'jwt_audience_mismatch', 'invalid_token'],
    ['unknown issuer', { iss: 'https://evil.test' }, 'jwt_issuer_unknown', 'invalid_token'],
  ])(
    'an invalid token (%s) → 401 %s with a Bearer challenge',
    async (_name, claims, reason, error) => {
      const guard = await guardWith([requestAuthentication()]);
      const token = await signToken(key, { iss: ISS, sub: 'alice', aud: 'payments', ...claims });
      const d = await guard.check(facts({ path: '/x/../y', headers: bearer(token) }));
      expect(d).toMatchObject({ allow: false, status: 401, reason, url: '/y' });
      expect(d.headers?.['www-authenticate']).toMatch(
        new RegExp(`^Bearer realm="meshless", error="${error}", error_description="[^"]+"$`),
      );
      expect(JSON.stringify(d)).not.toContain(token);
      expect(JSON.stringify(d)).not.toContain('alice');
    },
  );

  it('a malformed token → 401 jwt_malformed with error="invalid_request"', async () => {
    const guard = await guardWith([requestAuthentication()]);
    const d = await guard.check(facts({ headers: bearer('garbage') }));
    expect(d).toMatchObject({ allow: false, status: 401, reason: 'jwt_malformed' });
    expect(d.headers?.['www-authenticate']).toContain('error="invalid_request"');
  });

  it('two Authorization headers → 401 jwt_ambiguous', async () => {
    const guard = await guardWith([requestAuthentication()]);
    const token = await signToken(key, { iss: ISS, sub: 'alice', aud: 'payments' });
    const d = await guard.check(
      facts({ headers: { authorization: [`Bearer ${token}`, `Bearer ${token}`] } }),
    );
    expect(d).toMatchObject({ allow: false, status: 401, reason: 'jwt_ambiguous' });
    expect(d.headers?.['www-authenticate']).toContain('error="invalid_request"');
  });

  it('JWKS unavailable → 503 jwks_unavailable with Retry-After, never 401', async () => {
    const guard = await guardWith([
      requestAuthentication('payments', `${await deadOrigin()}/jwks`),
    ]);
    const token = await signToken(key, { iss: ISS, sub: 'alice', aud: 'payments' });
    const d = await guard.check(facts({ headers: bearer(token) }));
    expect(d).toMatchObject({
      allow: false,
      status: 503,
      reason: 'jwks_unavailable',
      headers: { 'retry-after': expect.stringMatching(/^[1-9][0-9]*$/) },
    });
  });

  it('a RequestAuthentication that does not apply leaves tokens unread (as without any)', async () => {
    for (const policies of [[requestAuthentication('other')], []]) {
      const guard = await guardWith(policies);
      const d = await guard.check(facts({ headers: bearer('garbage') }));
      expect(d).toMatchObject({ allow: true, status: 200 });
      expect(d.requestPrincipal).toBeUndefined();
    }
  });

  it('jwt.issuers adds issuers without a RequestAuthentication', async () => {
    const guard = await guardWith([ALLOW_ALICE], {
      jwt: { issuers: [{ issuer: ISS, jwksUri: `${server.origin}/jwks` }] },
    });
    const token = await signToken(key, { iss: ISS, sub: 'alice' });
    expect(await guard.check(facts({ headers: bearer(token) }))).toMatchObject({
      allow: true,
      requestPrincipal: `${ISS}/alice`,
    });
  });

  it('STRICT refuses a request without a peer even with a valid token', async () => {
    const guard = await guardWith([requestAuthentication()], { mtls: { mode: 'STRICT' } });
    const token = await signToken(key, { iss: ISS, sub: 'alice', aud: 'payments' });
    expect(await guard.check(facts({ headers: bearer(token) }))).toMatchObject({
      status: 403,
      reason: 'mtls_required',
    });
  });

  it('an invalid token sent with a lower-case `bearer` scheme is refused with 401, not let through as anonymous (istio-semantics §11.8)', async () => {
    const guard = await guardWith([requestAuthentication()]);
    const expired = await signToken(key, {
      iss: ISS,
      sub: 'alice',
      aud: 'payments',
      exp: nowSec() - 3600,
    });
    expect(
      await guard.check(facts({ headers: { authorization: `bearer ${expired}` } })),
    ).toMatchObject({
      allow: false,
      status: 401,
      reason: 'jwt_expired',
    });
  });
});
