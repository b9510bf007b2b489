import { createHash } from 'node:crypto';
import {
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  type JWTVerifyGetKey,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestCa,
  DEFAULT_OIDC_CLIENT,
  OidcTokenError,
  startOidcProvider,
  type OidcProviderHarness,
  type Svid,
  type TestCa,
} from '../src/index.js';

const AUDIENCE = 'https://payments.test';
const MTLS_ID = 'spiffe://td.test/ns/pay/sa/checkout';

describe('startOidcProvider', () => {
  let ca: TestCa;
  let op: OidcProviderHarness;
  let jwks: JWTVerifyGetKey;
  let workload: Svid;

  beforeAll(async () => {
    ca = await createTestCa({ trustDomain: 'td.test' });
    workload = await ca.issueSvid({ spiffeId: MTLS_ID });
    op = await startOidcProvider({
      ca,
      audience: AUDIENCE,
      clients: [DEFAULT_OIDC_CLIENT, { clientId: 'svc-mtls', tlsClientAuthSanUri: MTLS_ID }],
    });
    jwks = createRemoteJWKSet(new URL(op.jwksUri), { [customFetch]: op.fetch });
  });

  afterAll(async () => {
    await op?.close();
  });

  it('serves discovery on https://localhost with mTLS metadata', async () => {
    expect(op.issuer).toMatch(/^https:\/\/localhost:\d+$/);
    expect(op.caPem).toBe(ca.rootPem);
    const res = await op.fetch(`${op.issuer}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc).toMatchObject({
      issuer: op.issuer,
      jwks_uri: op.jwksUri,
      tls_client_certificate_bound_access_tokens: true,
    });
    expect(doc.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['client_secret_basic', 'tls_client_auth']),
    );
  });

  it('issues an at+jwt ES256 token that verifies against the remote JWKS', async () => {
    const token = await op.getToken(DEFAULT_OIDC_CLIENT);
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: op.issuer,
      audience: AUDIENCE,
      typ: 'at+jwt',
    });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: op.currentKid });
    expect(payload).toMatchObject({ client_id: 'test-client', scope: 'payments:read' });
    expect(payload.exp! - payload.iat!).toBe(300);
    await expect(
      jwtVerify(token, jwks, { issuer: op.issuer, audience: 'https://other.test' }),
    ).rejects.toThrow(/aud/);
  });

  it('tls_client_auth binds the token to the client certificate (cnf x5t#S256)', async () => {
    const token = await op.getToken({
      clientId: 'svc-mtls',
      cert: { certPem: workload.chainPem, keyPem: workload.keyPem },
    });
    const { payload } = await jwtVerify(token, jwks, { issuer: op.issuer, audience: AUDIENCE });
    const thumbprint = createHash('sha256').update(workload.certDer).digest('base64url');
    expect(payload.cnf).toEqual({ 'x5t#S256': thumbprint });
    expect(payload.client_id).toBe('svc-mtls');
  });

  it('tls_client_auth fails without a certificate, or with a cert for another SPIFFE ID', async () => {
    await expect(op.getToken({ clientId: 'svc-mtls' })).rejects.toMatchObject({
      status: 401,
      code: 'invalid_client',
    });
    const wrong = await ca.issueSvid({ spiffeId: 'spiffe://td.test/someone-else' });
    await expect(
      op.getToken({ clientId: 'svc-mtls', cert: { certPem: wrong.certPem, keyPem: wrong.keyPem } }),
    ).rejects.toMatchObject({ status: 401, code: 'invalid_client' });
  });

  it('tls_client_auth fails with a cert from an untrusted CA carrying the right ID', async () => {
    const rogueCa = await createTestCa({ trustDomain: 'td.test' });
    const rogue = await rogueCa.issueSvid({ spiffeId: MTLS_ID });
    await expect(
      op.getToken({ clientId: 'svc-mtls', cert: { certPem: rogue.certPem, keyPem: rogue.keyPem } }),
    ).rejects.toMatchObject({ status: 401, code: 'invalid_client' });
  });

  it('a wrong client secret fails with invalid_client and never leaks the secret', async () => {
    const secret = 'wrong-secret-value-that-must-not-leak';
    const error: unknown = await op
      .getToken({ clientId: DEFAULT_OIDC_CLIENT.clientId, clientSecret: secret })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OidcTokenError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_client' });
    expect(String(error)).not.toContain(secret);
    expect(JSON.stringify(error)).not.toContain(secret);
  });

  it('an unknown resource fails with invalid_target', async () => {
    await expect(
      op.getToken({ ...DEFAULT_OIDC_CLIENT, resource: 'https://nope.test' }),
    ).rejects.toMatchObject({
      status: 400,
      code: 'invalid_target',
    });
  });

  it('rotateSigningKey publishes a new first key and signs new tokens with it', async () => {
    const before = await op.getToken(DEFAULT_OIDC_CLIENT);
    const oldKid = decodeProtectedHeader(before).kid;
    const kid = await op.rotateSigningKey();
    expect(kid).not.toBe(oldKid);
    expect(op.currentKid).toBe(kid);

    const res = await op.fetch(op.jwksUri);
    const { keys } = (await res.json()) as { keys: { kid: string; d?: string }[] };
    expect(keys.map((k) => k.kid)).toEqual([kid, oldKid]);
    expect(keys.every((k) => k.d === undefined)).toBe(true);

    const after = await op.getToken(DEFAULT_OIDC_CLIENT);
    expect(decodeProtectedHeader(after).kid).toBe(kid);
    expect(decodeJwt(after).iss).toBe(op.issuer);
    // A fresh JWKS client verifies both the old and the new token.
    const fresh = createRemoteJWKSet(new URL(op.jwksUri), { [customFetch]: op.fetch });
    await expect(
      jwtVerify(before, fresh, { issuer: op.issuer, audience: AUDIENCE }),
    ).resolves.toBeDefined();
    await expect(
      jwtVerify(after, fresh, { issuer: op.issuer, audience: AUDIENCE }),
    ).resolves.toBeDefined();
  });
});

describe('startOidcProvider defaults', () => {
  it('creates its own CA and honours scope and accessTokenTtlSec', async () => {
    const op = await startOidcProvider({
      audience: 'urn:api',
      scope: 'a:read b:write',
      accessTokenTtlSec: 60,
    });
    try {
      const token = await op.getToken({ ...DEFAULT_OIDC_CLIENT, scope: 'b:write' });
      const jwks = createRemoteJWKSet(new URL(op.jwksUri), { [customFetch]: op.fetch });
      const { payload } = await jwtVerify(token, jwks, { issuer: op.issuer, audience: 'urn:api' });
      expect(payload.scope).toBe('b:write');
      expect(payload.exp! - payload.iat!).toBe(60);
    } finally {
      await op.close();
    }
  });
});
