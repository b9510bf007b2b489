import { X509Certificate } from 'node:crypto';
import { createTestCa, type Svid } from '@meshless/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwtVerifier, type TokenResult } from '../../src/jwt/jwt-verifier.js';
import {
  certificateThumbprint,
  thumbprintFromFingerprint256,
} from '../../src/jwt/token-binding.js';
import {
  json,
  makeKey,
  signToken,
  startServer,
  type TestKey,
  type TestServer,
} from '../helpers/jwks.js';

const ISS = 'https://issuer.test';
let server: TestServer;
let key: TestKey;
let alice: Svid;
let mallory: Svid;
let seq = 0;

beforeAll(async () => {
  server = await startServer();
  key = await makeKey('k1');
  const ca = await createTestCa({ trustDomain: 'example.org' });
  [alice, mallory] = await Promise.all([
    ca.issueSvid({ spiffeId: 'spiffe://example.org/alice' }),
    ca.issueSvid({ spiffeId: 'spiffe://example.org/mallory' }),
  ]);
});
afterAll(() => server.close());

function verifier(): JwtVerifier {
  const path = `/jwks/${++seq}`;
  server.route(path, json({ keys: [key.publicJwk] }));
  return new JwtVerifier({ issuers: [{ issuer: ISS, jwksUri: server.origin + path }] });
}

const reasonOf = (r: TokenResult): string => (r.kind === 'ok' ? 'ok' : r.reason);
const boundTo = (svid: Svid, claims: Record<string, unknown> = {}) =>
  signToken(key, {
    iss: ISS,
    sub: 'client',
    jti: `j${++seq}`,
    cnf: { 'x5t#S256': certificateThumbprint(svid.certDer) },
    ...claims,
  });

describe('thumbprints', () => {
  it('certificateThumbprint is base64url SHA-256 of the DER, as from the fingerprint', () => {
    const fromDer = certificateThumbprint(alice.certDer);
    expect(fromDer).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(thumbprintFromFingerprint256(alice.fingerprint256)).toBe(fromDer);
    // Node's colon-separated upper-case form, as PeerIdentity.fingerprint256 holds it.
    const colon = new X509Certificate(alice.certDer).fingerprint256;
    expect(thumbprintFromFingerprint256(colon)).toBe(fromDer);
    expect(() => thumbprintFromFingerprint256('AB:CD')).toThrow(TypeError);
  });
});

describe('cnf x5t#S256 (RFC 8705)', () => {
  it('accepts a bound token from the certificate it is bound to', async () => {
    const v = verifier();
    const token = await boundTo(alice);
    const r = await v.verify(token, { peerCertificateDer: alice.certDer });
    expect(r).toMatchObject({
      kind: 'ok',
      cached: false,
      token: { certificateThumbprint: certificateThumbprint(alice.certDer) },
    });
  });

  it('refuses it from another certificate, on a cache hit too', async () => {
    const v = verifier();
    const token = await boundTo(alice);
    expect(reasonOf(await v.verify(token, { peerCertificateDer: alice.certDer }))).toBe('ok');
    // The token is now in the verified-token cache: another peer must still be refused.
    expect(await v.verify(token, { peerCertificateDer: mallory.certDer })).toMatchObject({
      kind: 'fail',
      reason: 'jwt_cnf_mismatch',
      detail: 'token is bound to another client certificate',
      issuer: ISS,
    });
    expect(await v.verify(token)).toMatchObject({
      reason: 'jwt_cnf_mismatch',
      detail: 'token is bound to a client certificate, and the request has none',
    });
    expect(await v.verify(token, { peerCertificateDer: alice.certDer })).toMatchObject({
      kind: 'ok',
      cached: true,
    });
  });

  it('a first presentation from the wrong peer is refused, and does not spoil the right one', async () => {
    const v = verifier();
    const token = await boundTo(alice);
    expect(reasonOf(await v.verify(token, { peerCertificateDer: mallory.certDer }))).toBe(
      'jwt_cnf_mismatch',
    );
    expect(await v.verify(token, { peerCertificateDer: alice.certDer })).toMatchObject({
      kind: 'ok',
    });
  });

  it('takes a ready thumbprint instead of the DER', async () => {
    const v = verifier();
    const token = await boundTo(alice);
    const fp = new X509Certificate(alice.certDer).fingerprint256;
    expect(
      reasonOf(
        await v.verify(token, { peerCertificateThumbprint: thumbprintFromFingerprint256(fp) }),
      ),
    ).toBe('ok');
    expect(
      reasonOf(
        await v.verify(token, {
          peerCertificateThumbprint: thumbprintFromFingerprint256(mallory.fingerprint256),
        }),
      ),
    ).toBe('jwt_cnf_mismatch');
  });

  it('a bound token without any peer certificate is refused (no silent downgrade)', async () => {
    const v = verifier();
    expect(reasonOf(await v.verify(await boundTo(alice)))).toBe('jwt_cnf_mismatch');
  });

  it.each([
    ['jkt (DPoP, not supported)', { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' }],
    ['x5t#S256 and jkt', { 'x5t#S256': 'x', jkt: 'y' }],
    ['an empty cnf', {}],
    ['a non-object cnf', 'abc'],
    ['a thumbprint that is not SHA-256', { 'x5t#S256': 'abc' }],
  ])('refuses a token bound by %s even with a peer certificate', async (_name, cnf) => {
    const v = verifier();
    const token = await signToken(key, { iss: ISS, sub: 'c', cnf });
    expect(reasonOf(await v.verify(token, { peerCertificateDer: alice.certDer }))).toBe(
      'jwt_cnf_mismatch',
    );
  });

  it('an unbound token is accepted with or without a peer certificate', async () => {
    const v = verifier();
    const token = await signToken(key, { iss: ISS, sub: 'c' });
    expect(reasonOf(await v.verify(token, { peerCertificateDer: alice.certDer }))).toBe('ok');
    expect(reasonOf(await v.verify(token))).toBe('ok');
  });

  it('a bound token that fails other checks reports that failure first', async () => {
    const v = verifier();
    const token = await boundTo(alice, { exp: Math.floor(Date.now() / 1000) - 3600 });
    expect(reasonOf(await v.verify(token, { peerCertificateDer: mallory.certDer }))).toBe(
      'jwt_expired',
    );
  });

  it('still accepts a number as the time (previous signature)', async () => {
    const v = verifier();
    const token = await boundTo(alice);
    expect(reasonOf(await v.verify(token, Date.now()))).toBe('jwt_cnf_mismatch');
  });
});
