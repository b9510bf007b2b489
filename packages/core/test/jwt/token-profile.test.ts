import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { JwtVerifier, type TokenResult } from '../../src/jwt/jwt-verifier.js';
import type { OidcTokenRule } from '../../src/jwt/token-rules.js';
import {
  json,
  makeKey,
  nowSec,
  signToken,
  startServer,
  type TestKey,
  type TestServer,
} from '../helpers/jwks.js';

const ISS = 'https://issuer.test';
let server: TestServer;
let key: TestKey;
let seq = 0;

beforeAll(async () => {
  server = await startServer();
  key = await makeKey('k1');
});
afterAll(() => server.close());

function verifierWith(extra: Partial<OidcTokenRule> = {}): JwtVerifier {
  const path = `/jwks/${++seq}`;
  server.route(path, json({ keys: [key.publicJwk] }));
  return new JwtVerifier({ issuers: [{ issuer: ISS, jwksUri: server.origin + path, ...extra }] });
}

const reasonOf = (r: TokenResult): string => (r.kind === 'ok' ? 'ok' : r.reason);

/** A complete RFC 9068 access token's claims. */
const accessClaims = () => ({
  iss: ISS,
  sub: 'svc-a',
  aud: 'api',
  client_id: 'client-a',
  jti: `j${++seq}`,
});

describe('profile: rfc9068', () => {
  const rule = { profile: 'rfc9068' as const, audiences: ['api'] };

  it('accepts typ at+jwt and application/at+jwt with every required claim', async () => {
    const v = verifierWith(rule);
    for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT']) {
      const t = await signToken(key, accessClaims(), { typ });
      expect(reasonOf(await v.verify(t))).toBe('ok');
    }
  });

  it('refuses another typ or none (e.g. an ID token) with jwt_typ_invalid', async () => {
    const v = verifierWith(rule);
    expect(await v.verify(await signToken(key, accessClaims(), { typ: 'JWT' }))).toMatchObject({
      kind: 'fail',
      reason: 'jwt_typ_invalid',
      issuer: ISS,
    });
    expect(reasonOf(await v.verify(await signToken(key, accessClaims())))).toBe('jwt_typ_invalid');
  });

  it.each(['sub', 'client_id', 'jti', 'iat', 'exp'])('refuses a token without %s', async (c) => {
    const v = verifierWith(rule);
    const t = await signToken(key, { ...accessClaims(), [c]: undefined }, { typ: 'at+jwt' });
    expect(reasonOf(await v.verify(t))).toBe('jwt_claims_invalid');
  });

  it('refuses a token without aud even when no audiences are configured', async () => {
    const v = verifierWith({ profile: 'rfc9068' });
    const t = await signToken(key, { ...accessClaims(), aud: undefined }, { typ: 'at+jwt' });
    expect(reasonOf(await v.verify(t))).not.toBe('ok');
    const ok = await signToken(key, accessClaims(), { typ: 'at+jwt' });
    expect(reasonOf(await v.verify(ok))).toBe('ok');
  });

  it('refuses an empty client_id', async () => {
    const v = verifierWith(rule);
    const t = await signToken(key, { ...accessClaims(), client_id: '' }, { typ: 'at+jwt' });
    expect(await v.verify(t)).toMatchObject({
      reason: 'jwt_claims_invalid',
      detail: 'claim client_id must be a non-empty string',
    });
  });

  it('without a profile any typ and claim set is accepted (unchanged behaviour)', async () => {
    const v = verifierWith();
    expect(reasonOf(await v.verify(await signToken(key, { iss: ISS }, { typ: 'JWT' })))).toBe('ok');
  });

  it('the profile of one rule does not leak into another issuer rule', async () => {
    const path = `/jwks/${++seq}`;
    server.route(path, json({ keys: [key.publicJwk] }));
    const v = new JwtVerifier({
      issuers: [
        { issuer: ISS, jwksUri: server.origin + path, profile: 'rfc9068' },
        { issuer: 'https://other.test', jwksUri: server.origin + path },
      ],
    });
    const t = await signToken(key, { iss: 'https://other.test', sub: 'x' });
    expect(reasonOf(await v.verify(t))).toBe('ok');
  });
});

describe('maxLifetimeSec', () => {
  it('defaults to 24 h of exp − iat', async () => {
    const v = verifierWith();
    const iat = nowSec();
    const long = await signToken(key, { iss: ISS, iat, exp: iat + 25 * 3600 });
    expect(await v.verify(long)).toMatchObject({
      reason: 'jwt_claims_invalid',
      detail: 'token lifetime exceeds the maximum',
    });
    const fine = await signToken(key, { iss: ISS, iat, exp: iat + 23 * 3600 });
    expect(reasonOf(await v.verify(fine))).toBe('ok');
  });

  it('uses exp − now for a token without iat', async () => {
    const v = verifierWith({ maxLifetimeSec: 600 });
    const far = await signToken(key, { iss: ISS, iat: undefined, exp: nowSec() + 3600 });
    expect(reasonOf(await v.verify(far))).toBe('jwt_claims_invalid');
    const near = await signToken(key, { iss: ISS, iat: undefined, exp: nowSec() + 300 });
    expect(reasonOf(await v.verify(near))).toBe('ok');
  });

  it('an old iat with a far exp is judged on exp − iat', async () => {
    const v = verifierWith({ maxLifetimeSec: 300 });
    const t = await signToken(key, { iss: ISS, iat: nowSec() - 500, exp: nowSec() + 100 });
    expect(reasonOf(await v.verify(t))).toBe('jwt_claims_invalid');
  });

  it('refuses exp: 1e308, and Infinity turns the check off', async () => {
    const t = await signToken(key, { iss: ISS, exp: 1e308 });
    expect(reasonOf(await verifierWith().verify(t))).toBe('jwt_claims_invalid');
    const t2 = await signToken(key, { iss: ISS, exp: nowSec() + 48 * 3600 });
    expect(reasonOf(await verifierWith({ maxLifetimeSec: Infinity }).verify(t2))).toBe('ok');
  });
});

describe('requiredClaims', () => {
  it('refuses a token without a required claim and accepts one with it', async () => {
    const v = verifierWith({ requiredClaims: ['tenant', 'scope'] });
    expect(await v.verify(await signToken(key, { iss: ISS, tenant: 't' }))).toMatchObject({
      reason: 'jwt_claims_invalid',
      detail: 'claim scope failed validation',
    });
    expect(
      reasonOf(await v.verify(await signToken(key, { iss: ISS, tenant: 't', scope: '' }))),
    ).toBe('ok');
  });
});

describe('rule options are validated', () => {
  it.each([
    { profile: 'oauth' },
    { maxLifetimeSec: 0 },
    { maxLifetimeSec: Number.NaN },
    { requiredClaims: [''] },
    { requiredClaims: 'sub' },
  ])('refuses %o', (extra) => {
    expect(
      () =>
        new JwtVerifier({
          issuers: [{ issuer: ISS, jwksUri: `${ISS}/jwks`, ...(extra as object) }],
        }),
    ).toThrow(ConfigError);
  });
});
