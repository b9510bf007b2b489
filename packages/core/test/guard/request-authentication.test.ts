import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard, type Guard } from '../../src/guard/guard.js';
import type { RequestFacts } from '../../src/guard/request-facts.js';
import {
  json,
  makeKey,
  signToken,
  startServer,
  type TestKey,
  type TestServer,
} from '../helpers/jwks.js';

const ISS = 'https://issuer.test';
const OTHER = 'https://other.test';
let server: TestServer;
let key: TestKey;
let otherKey: TestKey;
const facts = (overrides: Partial<RequestFacts> = {}): RequestFacts => ({
  method: 'GET',
  path: '/x',
  host: 'payments',
  headers: {},
  sourceIp: '127.0.0.1',
  destinationPort: 8080,
  ...overrides,
});
const ra = (jwtRules: object[]) => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'RequestAuthentication',
  metadata: { name: 'jwt', namespace: 'payments' },
  spec: { jwtRules },
});
const guardWith = (jwtRules: object[]): Promise<Guard> =>
  createGuard({
    workload: { namespace: 'payments', trustDomain: 'example.org' },
    mtls: { mode: 'PERMISSIVE' },
    policies: [ra(jwtRules)],
  });

beforeAll(async () => {
  server = await startServer();
  key = await makeKey('k1');
  otherKey = await makeKey('k2');
  server.route('/jwks', json({ keys: [key.publicJwk] }));
  server.route('/other-jwks', json({ keys: [otherKey.publicJwk] }));
});
afterAll(() => server.close());

describe('RequestAuthentication: token locations', () => {
  it('fromHeaders with a literal prefix replaces the defaults', async () => {
    const guard = await guardWith([
      {
        issuer: ISS,
        jwksUri: `${server.origin}/jwks`,
        fromHeaders: [{ name: 'x-jwt', prefix: 'Token ' }],
      },
    ]);
    const token = await signToken(key, { iss: ISS, sub: 's' });
    expect(await guard.check(facts({ headers: { 'x-jwt': `Token ${token}` } }))).toMatchObject({
      allow: true,
      requestPrincipal: `${ISS}/s`,
    });
    // The default location is no longer looked at: anonymous, not verified.
    expect(
      (await guard.check(facts({ headers: { authorization: `Bearer ${token}` } })))
        .requestPrincipal,
    ).toBeUndefined();
    // The prefix is literal: `token ` is not `Token `.
    expect(
      (await guard.check(facts({ headers: { 'x-jwt': `token ${token}` } }))).requestPrincipal,
    ).toBeUndefined();
  });

  it('fromParams and fromCookies', async () => {
    const guard = await guardWith([
      {
        issuer: ISS,
        jwksUri: `${server.origin}/jwks`,
        fromParams: ['jwt'],
        fromCookies: ['session'],
      },
    ]);
    const token = await signToken(key, { iss: ISS, sub: 's' });
    expect(await guard.check(facts({ path: `/x?a=1&jwt=${token}` }))).toMatchObject({
      allow: true,
      url: '/x?a=1',
    });
    expect(
      await guard.check(facts({ headers: { cookie: `theme=dark; session=${token}; lang=en` } })),
    ).toMatchObject({
      allow: true,
      requestHeaders: { remove: [], set: { cookie: 'theme=dark; lang=en' } },
    });
  });

  it('a token whose issuer has no rule for the location it was found at is 401 (CVE-2021-21378)', async () => {
    const guard = await guardWith([
      { issuer: ISS, jwksUri: `${server.origin}/jwks`, fromHeaders: [{ name: 'x-jwt' }] },
      { issuer: OTHER, jwksUri: `${server.origin}/other-jwks` },
    ]);
    const token = await signToken(key, { iss: ISS, sub: 's' });
    expect(
      await guard.check(facts({ headers: { authorization: `Bearer ${token}` } })),
    ).toMatchObject({
      allow: false,
      status: 401,
      reason: 'jwt_issuer_unknown',
    });
  });

  it('tokens at two locations are ambiguous', async () => {
    const guard = await guardWith([
      {
        issuer: ISS,
        jwksUri: `${server.origin}/jwks`,
        fromHeaders: [{ name: 'x-jwt' }],
        fromParams: ['jwt'],
      },
    ]);
    const token = await signToken(key, { iss: ISS, sub: 's' });
    expect(
      await guard.check(facts({ path: `/x?jwt=${token}`, headers: { 'x-jwt': token } })),
    ).toMatchObject({
      status: 401,
      reason: 'jwt_ambiguous',
    });
  });
});

describe('RequestAuthentication: outputs and forwardOriginalToken', () => {
  const rule = (extra: object = {}) => ({
    issuer: ISS,
    jwksUri: `${server.origin}/jwks`,
    outputPayloadToHeader: 'x-jwt-payload',
    outputClaimToHeaders: [
      { header: 'x-sub', claim: 'sub' },
      { header: 'x-tenant', claim: 'org.tenant' },
      { header: 'x-admin', claim: 'admin' },
      { header: 'x-roles', claim: 'roles' },
    ],
    ...extra,
  });

  it('sets the payload and claim headers, removes the token by default', async () => {
    const guard = await guardWith([rule()]);
    const token = await signToken(key, {
      iss: ISS,
      sub: 'alice',
      org: { tenant: 't1' },
      admin: true,
      roles: ['a', 'b'],
    });
    const d = await guard.check(facts({ headers: { authorization: `Bearer ${token}` } }));
    expect(d.allow).toBe(true);
    expect(d.requestHeaders?.remove).toEqual(
      expect.arrayContaining(['x-jwt-payload', 'x-sub', 'authorization']),
    );
    expect(d.requestHeaders?.set).toMatchObject({
      'x-sub': 'alice',
      'x-tenant': 't1',
      'x-admin': 'true',
    });
    expect(d.requestHeaders?.set['x-roles']).toBeUndefined(); // lists are not output (Istio)
    const payload = JSON.parse(
      Buffer.from(d.requestHeaders?.set['x-jwt-payload'] ?? '', 'base64url').toString(),
    ) as { sub: string };
    expect(payload.sub).toBe('alice');
  });

  it('forwardOriginalToken keeps the token', async () => {
    const guard = await guardWith([rule({ forwardOriginalToken: true })]);
    const token = await signToken(key, { iss: ISS, sub: 'alice' });
    const d = await guard.check(facts({ headers: { authorization: `Bearer ${token}` } }));
    expect(d.requestHeaders?.remove).not.toContain('authorization');
  });

  it('incoming headers named like outputs are removed even without a token (no spoofing)', async () => {
    const guard = await guardWith([rule()]);
    const d = await guard.check(facts({ headers: { 'x-sub': 'admin' } }));
    expect(d.allow).toBe(true);
    expect(d.requestHeaders?.remove).toEqual(expect.arrayContaining(['x-sub', 'x-jwt-payload']));
    expect(d.requestHeaders?.set).toEqual({});
  });
});

describe('token lifetime', () => {
  it('a RequestAuthentication rule has no lifetime cap (Istio); a code rule caps at 24 h by default', async () => {
    const token = await signToken(key, {
      iss: ISS,
      sub: 's',
      exp: Math.floor(Date.now() / 1000) + 48 * 3600,
    });
    const fromPolicy = await guardWith([{ issuer: ISS, jwksUri: `${server.origin}/jwks` }]);
    expect(
      await fromPolicy.check(facts({ headers: { authorization: `Bearer ${token}` } })),
    ).toMatchObject({ allow: true });
    const fromCode = await createGuard({
      workload: { namespace: 'payments', trustDomain: 'example.org' },
      mtls: { mode: 'PERMISSIVE' },
      jwt: { issuers: [{ issuer: ISS, jwksUri: `${server.origin}/jwks` }] },
    });
    expect(
      await fromCode.check(facts({ headers: { authorization: `Bearer ${token}` } })),
    ).toMatchObject({
      allow: false,
      status: 401,
      reason: 'jwt_claims_invalid',
    });
  });
});
