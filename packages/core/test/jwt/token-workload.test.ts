import { exportJWK, generateKeyPair, SignJWT, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { JwtVerifier, type TokenResult } from '../../src/jwt/jwt-verifier.js';
import type { TokenRule } from '../../src/jwt/token-rules.js';
import { parseServiceAccountSubject } from '../../src/jwt/token-workload.js';
import {
  json,
  makeKey,
  nowSec,
  signToken,
  startServer,
  type TestKey,
  type TestServer,
} from '../helpers/jwks.js';

const TD = 'example.org';
const ID = `spiffe://${TD}/ns/payments/sa/checkout`;
const K8S_ISS = 'https://kubernetes.default.svc.cluster.local';
let server: TestServer;
let key: TestKey;
let other: TestKey;
/** A SPIFFE JWT bundle: the signing key marked `use: jwt-svid`, plus an X.509 authority. */
let bundle: JSONWebKeySet;

beforeAll(async () => {
  server = await startServer();
  [key, other] = await Promise.all([makeKey('k1'), makeKey('k2')]);
  bundle = {
    keys: [
      { ...key.publicJwk, use: 'jwt-svid' },
      { ...other.publicJwk, use: 'x509-svid' },
    ],
  };
  server.route('/k8s/jwks', json({ keys: [key.publicJwk] }));
});
afterAll(() => server.close());

const reasonOf = (r: TokenResult): string => (r.kind === 'ok' ? 'ok' : r.reason);
const verifier = (...rules: TokenRule[]) => new JwtVerifier({ issuers: rules });
const svidRule = (extra: Partial<Extract<TokenRule, { kind: 'jwt-svid' }>> = {}): TokenRule => ({
  kind: 'jwt-svid',
  trustDomain: TD,
  jwks: bundle,
  audiences: ['payments'],
  ...extra,
});
/** A JWT-SVID as SPIRE mints it by default: no iss, typ JWT, 5 minutes. */
const svid = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  signToken(
    key,
    { sub: ID, aud: ['payments'], exp: nowSec() + 300, ...claims },
    {
      typ: 'JWT',
      ...header,
    },
  );

describe('JWT-SVID rules', () => {
  it('accepts a JWT-SVID without iss, chosen by the trust domain of sub', async () => {
    const r = await verifier(svidRule()).verify(await svid());
    expect(r).toMatchObject({
      kind: 'ok',
      token: {
        issuer: `spiffe://${TD}`,
        subject: ID,
        principal: ID,
        ruleIndex: 0,
        workload: { kind: 'spiffe', id: ID, trustDomain: TD },
      },
    });
  });

  it('refuses a sub of another trust domain', async () => {
    // No iss: selected by the sub's trust domain, for which there is no rule.
    const t = await svid({ sub: 'spiffe://evil.org/ns/payments/sa/checkout' });
    expect(reasonOf(await verifier(svidRule()).verify(t))).toBe('jwt_issuer_unknown');
    // With iss: the rule is found by iss, and the sub's trust domain must still be its own.
    const v = verifier(svidRule({ issuer: 'https://spire.example.org' }));
    const t2 = await svid({ iss: 'https://spire.example.org', sub: 'spiffe://evil.org/x' });
    expect(await v.verify(t2)).toMatchObject({
      reason: 'jwt_claims_invalid',
      detail: 'JWT-SVID sub is of another trust domain',
    });
  });

  it('selects by iss when the token has one: the rule must name that issuer', async () => {
    const t = await svid({ iss: 'https://spire.example.org' });
    expect(reasonOf(await verifier(svidRule()).verify(t))).toBe('jwt_issuer_unknown');
    const v = verifier(svidRule({ issuer: 'https://spire.example.org' }));
    expect(await v.verify(t)).toMatchObject({
      kind: 'ok',
      token: { issuer: 'https://spire.example.org', principal: ID },
    });
    // A rule with issuer does not take tokens without iss.
    expect(reasonOf(await v.verify(await svid()))).toBe('jwt_issuer_unknown');
  });

  it.each([
    ['a sub that is not a SPIFFE ID', { sub: 'spiffe://example.org/a//b' }, 'jwt_issuer_unknown'],
    ['a trust domain ID as sub', { sub: `spiffe://${TD}` }, 'jwt_claims_invalid'],
    ['another audience', { aud: 'billing' }, 'jwt_audience_mismatch'],
    ['no exp', { exp: undefined }, 'jwt_claims_invalid'],
    ['a lifetime over 24 h', { iat: nowSec(), exp: nowSec() + 25 * 3600 }, 'jwt_claims_invalid'],
  ])('refuses %s', async (_name, claims, reason) => {
    expect(reasonOf(await verifier(svidRule()).verify(await svid(claims)))).toBe(reason);
  });

  it('requires kid, and typ absent, JWT or JOSE', async () => {
    const v = verifier(svidRule());
    const noKid = await new SignJWT({ sub: ID, aud: 'payments', exp: nowSec() + 60 })
      .setProtectedHeader({ alg: 'ES256' })
      .sign(key.privateKey);
    expect(reasonOf(await v.verify(noKid))).toBe('jwt_invalid');
    expect(reasonOf(await v.verify(await svid({}, { typ: 'at+jwt' })))).toBe('jwt_typ_invalid');
    expect(reasonOf(await v.verify(await svid({}, { typ: 'jwt' })))).toBe('jwt_typ_invalid');
    expect(reasonOf(await v.verify(await svid({}, { typ: 'JOSE' })))).toBe('ok');
    expect(reasonOf(await v.verify(await svid({}, { typ: undefined })))).toBe('ok');
  });

  it('refuses EdDSA (outside the JWT-SVID algorithms) though the verifier allows it', async () => {
    const { publicKey, privateKey } = await generateKeyPair('Ed25519');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'ed', use: 'jwt-svid' };
    const v = verifier(svidRule({ jwks: { keys: [jwk] } }));
    const t = await new SignJWT({ sub: ID, aud: 'payments', exp: nowSec() + 60 })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'ed' })
      .sign(privateKey);
    expect(reasonOf(await v.verify(t))).toBe('jwt_alg_not_allowed');
  });

  it('accepts RS256 JWT-SVIDs', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'rsa', use: 'jwt-svid' };
    const v = verifier(svidRule({ jwks: { keys: [jwk] } }));
    const t = await new SignJWT({ sub: ID, aud: 'payments', exp: nowSec() + 60 })
      .setProtectedHeader({ alg: 'RS256', kid: 'rsa' })
      .sign(privateKey);
    expect(reasonOf(await v.verify(t))).toBe('ok');
  });

  it('never uses an X.509 authority (use x509-svid) as a JWT key', async () => {
    const t = await signToken(other, { sub: ID, aud: 'payments' });
    expect(reasonOf(await verifier(svidRule()).verify(t))).toBe('jwt_signature_invalid');
  });

  it('reads the bundle through a getter; no bundle is jwks_unavailable', async () => {
    const agent: { bundle?: JSONWebKeySet } = {};
    const v = verifier(svidRule({ jwks: () => agent.bundle }));
    const t = await svid();
    expect(reasonOf(await v.verify(t))).toBe('jwks_unavailable');
    agent.bundle = bundle;
    expect(reasonOf(await v.verify(t))).toBe('ok');
    const failing = verifier(
      svidRule({
        jwks: () => Promise.reject(new Error('agent down')),
      }),
    );
    expect(reasonOf(await failing.verify(t))).toBe('jwks_unavailable');
  });

  it('refuses invalid rules at construction', () => {
    expect(() => verifier(svidRule({ trustDomain: 'Example.org' }))).toThrow(ConfigError);
    expect(() => verifier(svidRule({ audiences: [] }))).toThrow(ConfigError);
    expect(() => verifier(svidRule({ jwks: {} as JSONWebKeySet }))).toThrow(ConfigError);
  });
});

describe('Kubernetes service-account token rules', () => {
  const k8sRule = (extra: Record<string, unknown> = {}): TokenRule => ({
    kind: 'kubernetes',
    issuer: K8S_ISS,
    jwksUri: `${server.origin}/k8s/jwks`,
    audiences: ['payments'],
    ...extra,
  });
  /** A projected token as the kubelet gets it for `audience: payments`. */
  const saToken = (claims: Record<string, unknown> = {}) =>
    signToken(key, {
      iss: K8S_ISS,
      sub: 'system:serviceaccount:payments:checkout',
      aud: ['payments'],
      nbf: nowSec(),
      exp: nowSec() + 3600,
      'kubernetes.io': {
        namespace: 'payments',
        serviceaccount: { name: 'checkout', uid: '3f2c' },
        pod: { name: 'checkout-5d9', uid: '77aa' },
      },
      ...claims,
    });

  it('accepts a projected token and exposes the service account', async () => {
    const r = await verifier(k8sRule()).verify(await saToken());
    expect(r).toMatchObject({
      kind: 'ok',
      token: {
        issuer: K8S_ISS,
        principal: `${K8S_ISS}/system:serviceaccount:payments:checkout`,
        workload: { kind: 'kubernetes', namespace: 'payments', serviceAccount: 'checkout' },
      },
    });
  });

  it('accepts inline keys and a token without the kubernetes.io claim', async () => {
    const v = verifier(k8sRule({ jwksUri: undefined, jwks: { keys: [key.publicJwk] } }));
    expect(reasonOf(await v.verify(await saToken({ 'kubernetes.io': undefined })))).toBe('ok');
  });

  it.each([
    'alice',
    'system:serviceaccount:payments',
    'system:serviceaccount:payments:checkout:extra',
    'system:serviceaccount:Payments:checkout',
    'system:serviceaccount::checkout',
    'system:serviceaccounts:payments',
    'system:node:worker-1',
  ])('refuses sub %s', async (sub) => {
    const r = await verifier(k8sRule()).verify(await saToken({ sub, 'kubernetes.io': undefined }));
    expect(r).toMatchObject({
      reason: 'jwt_claims_invalid',
      detail: 'sub is not system:serviceaccount:<namespace>:<name>',
    });
  });

  it('refuses a kubernetes.io claim that disagrees with sub', async () => {
    const t = await saToken({
      'kubernetes.io': { namespace: 'kube-system', serviceaccount: { name: 'checkout' } },
    });
    expect(await verifier(k8sRule()).verify(t)).toMatchObject({
      reason: 'jwt_claims_invalid',
      detail: 'claim kubernetes.io does not match sub',
    });
  });

  it('refuses a token for the API server audience', async () => {
    const t = await saToken({ aud: [K8S_ISS] });
    expect(reasonOf(await verifier(k8sRule()).verify(t))).toBe('jwt_audience_mismatch');
  });

  it('refuses a legacy secret token (no exp)', async () => {
    const t = await saToken({ exp: undefined });
    expect(reasonOf(await verifier(k8sRule()).verify(t))).toBe('jwt_claims_invalid');
  });

  it('refuses invalid rules at construction', () => {
    expect(() => verifier(k8sRule({ audiences: undefined }))).toThrow(ConfigError);
    expect(() => verifier(k8sRule({ jwks: { keys: [] } }))).toThrow(ConfigError);
    expect(() => verifier(k8sRule({ issuer: '' }))).toThrow(ConfigError);
  });

  it('parseServiceAccountSubject follows the API server name rules', () => {
    expect(parseServiceAccountSubject('system:serviceaccount:a-b:c.d-e')).toEqual({
      namespace: 'a-b',
      serviceAccount: 'c.d-e',
    });
    expect(parseServiceAccountSubject(`system:serviceaccount:${'a'.repeat(64)}:x`)).toBeUndefined();
    expect(
      parseServiceAccountSubject(`system:serviceaccount:ns:${'a'.repeat(254)}`),
    ).toBeUndefined();
    expect(parseServiceAccountSubject('system:serviceaccount:ns:-x')).toBeUndefined();
    expect(parseServiceAccountSubject(42)).toBeUndefined();
  });
});

describe('mixed rules', () => {
  it('OIDC, JWT-SVID and Kubernetes rules coexist; each token reaches only its own rule', async () => {
    const v = verifier(
      { issuer: 'https://idp.test', jwksUri: `${server.origin}/k8s/jwks` },
      svidRule(),
      {
        kind: 'kubernetes',
        issuer: K8S_ISS,
        jwksUri: `${server.origin}/k8s/jwks`,
        audiences: ['payments'],
      },
    );
    expect(await v.verify(await svid())).toMatchObject({ token: { ruleIndex: 1 } });
    const oidc = await v.verify(await signToken(key, { iss: 'https://idp.test', sub: 'u' }));
    expect(oidc).toMatchObject({ token: { ruleIndex: 0, principal: 'https://idp.test/u' } });
    expect(oidc.kind === 'ok' && oidc.token.workload).toBe(undefined);
    const k8s = await v.verify(
      await signToken(key, {
        iss: K8S_ISS,
        sub: 'system:serviceaccount:a:b',
        aud: 'payments',
      }),
    );
    expect(k8s).toMatchObject({ token: { ruleIndex: 2, workload: { namespace: 'a' } } });
  });
});
