import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { createGuard } from '../../src/guard/guard.js';
import type { RequestFacts } from '../../src/guard/request-facts.js';
import { JwtVerifier } from '../../src/jwt/jwt-verifier.js';
import {
  json,
  makeKey,
  nowSec,
  signToken,
  startServer,
  type TestKey,
  type TestServer,
} from '../helpers/jwks.js';

let server: TestServer;
let key: TestKey;
const ISS = 'https://issuer.test';
const WORKLOAD = { namespace: 'payments', trustDomain: 'example.org' };
const facts = (overrides: Partial<RequestFacts> = {}): RequestFacts => ({
  method: 'GET',
  path: '/',
  host: 'payments',
  headers: {},
  sourceIp: '127.0.0.1',
  destinationPort: 8080,
  ...overrides,
});

beforeAll(async () => {
  server = await startServer();
  key = await makeKey('k1');
  server.route('/jwks', json({ keys: [key.publicJwk] }));
});
afterAll(() => server.close());

const guardWith = (extra: Record<string, unknown> = {}) =>
  createGuard({
    workload: WORKLOAD,
    mtls: { mode: 'PERMISSIVE' },
    jwt: { issuers: [{ issuer: ISS, jwksUri: `${server.origin}/jwks` }], ...extra },
  });

describe('token locations: Authorization, then ?access_token= (Istio defaults)', () => {
  it('a valid token in access_token authenticates the request', async () => {
    const guard = await guardWith();
    const token = await signToken(key, { iss: ISS, sub: 'q' });
    expect(await guard.check(facts({ path: `/x?access_token=${token}` }))).toMatchObject({
      allow: true,
      requestPrincipal: `${ISS}/q`,
    });
  });

  it('an invalid token in access_token is 401, not anonymous', async () => {
    const guard = await guardWith();
    expect(await guard.check(facts({ path: '/x?a=1&access_token=garbage' }))).toMatchObject({
      status: 401,
      reason: 'jwt_malformed',
    });
  });

  it('a token in both places, or two access_token parameters, is ambiguous', async () => {
    const guard = await guardWith();
    const token = await signToken(key, { iss: ISS, sub: 'q' });
    const both = facts({
      path: `/x?access_token=${token}`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await guard.check(both)).toMatchObject({ status: 401, reason: 'jwt_ambiguous' });
    expect(
      await guard.check(facts({ path: `/x?access_token=${token}&access_token=${token}` })),
    ).toMatchObject({
      status: 401,
      reason: 'jwt_ambiguous',
    });
  });
});

describe('keys over HTTPS only', () => {
  it.each([
    [{ issuer: ISS, jwksUri: 'http://keys.example.com/jwks' }],
    [{ issuer: 'http://issuer.example.com' }],
    [{ issuer: 'not-a-url' }],
  ])('%j is refused at createGuard', async (issuer) => {
    const error = await createGuard({ workload: WORKLOAD, jwt: { issuers: [issuer] } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
  });

  it('plain HTTP beyond loopback works with the explicit opt-in', async () => {
    await expect(
      createGuard({
        workload: WORKLOAD,
        jwt: {
          allowInsecureHttp: true,
          issuers: [{ issuer: ISS, jwksUri: 'http://keys.example.com/jwks' }],
        },
      }),
    ).resolves.toBeDefined();
  });

  it('a discovery document pointing at a plain-HTTP jwks_uri beyond loopback is not followed', async () => {
    const issuer = `${server.origin}/downgrade`;
    server.route(
      '/downgrade/.well-known/openid-configuration',
      json({ issuer, jwks_uri: 'http://evil.example.com/jwks' }),
    );
    const verifier = new JwtVerifier({ issuers: [{ issuer }] });
    const result = await verifier.verify(await signToken(key, { iss: issuer, sub: 's' }));
    expect(result).toMatchObject({ kind: 'fail', reason: 'jwks_unavailable' });
  });

  it('a discovery document that is not an object gives jwks_unavailable (503), not 401', async () => {
    const issuer = `${server.origin}/broken`;
    server.route('/broken/.well-known/openid-configuration', json(null));
    const verifier = new JwtVerifier({ issuers: [{ issuer }] });
    expect(await verifier.verify(await signToken(key, { iss: issuer, sub: 's' }))).toMatchObject({
      reason: 'jwks_unavailable',
    });
  });
});

describe('an unreachable JWKS does not hold every request', () => {
  it('after one timed-out fetch, requests fail fast for a while', async () => {
    const hanging = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const jwksUri = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/jwks`;
    const verifier = new JwtVerifier({ issuers: [{ issuer: ISS, jwksUri }] });
    const token = await signToken(key, { iss: ISS, sub: 's' });
    expect(await verifier.verify(token)).toMatchObject({ reason: 'jwks_unavailable' });
    const started = Date.now();
    expect(await verifier.verify(token)).toMatchObject({ reason: 'jwks_unavailable' });
    expect(Date.now() - started).toBeLessThan(200);
    hanging.closeAllConnections();
    hanging.close();
  }, 15_000);
});

describe('claims', () => {
  it('a token issued in the future (beyond the clock tolerance) is refused', async () => {
    const verifier = new JwtVerifier({
      issuers: [{ issuer: ISS, jwksUri: `${server.origin}/jwks` }],
    });
    const token = await signToken(key, { iss: ISS, sub: 's', iat: nowSec() + 3600 });
    expect(await verifier.verify(token)).toMatchObject({
      kind: 'fail',
      reason: 'jwt_claims_invalid',
    });
  });

  it('verified claims are frozen, so a handler cannot change what the next request sees', async () => {
    const verifier = new JwtVerifier({
      issuers: [{ issuer: ISS, jwksUri: `${server.origin}/jwks` }],
    });
    const token = await signToken(key, { iss: ISS, sub: 's', roles: ['user'] });
    const first = await verifier.verify(token);
    if (first.kind !== 'ok') throw new Error('expected ok');
    expect(() => (first.token.claims['roles'] as string[]).push('admin')).toThrow(TypeError);
    await verifier.verify(token); // seen twice: cached from now on
    const second = await verifier.verify(token);
    expect(second).toMatchObject({
      kind: 'ok',
      cached: true,
      token: { claims: { roles: ['user'] } },
    });
  });

  it('jwt.algorithms accepts asymmetric algorithms only', async () => {
    await expect(guardWith({ algorithms: ['HS256'] })).rejects.toBeInstanceOf(ConfigError);
    await expect(guardWith({ algorithms: ['ES256'] })).resolves.toBeDefined();
  });
});
