/**
 * The token suite's table of malformed and malicious tokens, each with the reason it must be
 * refused with: alg none and key confusion, embedded keys (jwk, jku, x5c), tampering, size and
 * encoding, issuer/audience/typ, and time edges. Tokens are composed by hand (`node:crypto`).
 */
import { createHmac, createPrivateKey, createPublicKey } from 'node:crypto';
import { expect } from 'vitest';
import { b64url, nowSec, SECRET_CLIENT, seg, signEs256, type Json } from './token-fixtures.js';
import type { TokenHarness } from './token-harness.js';

/** `[name, token factory, expected 401 reason]`. */
export type MaliciousTokenCase = [
  name: string,
  token: () => string | Promise<string>,
  reason: string,
];

/** Builds the table; token factories read the harness only when called (after setup). */
export function maliciousTokenCases(t: TokenHarness): MaliciousTokenCase[] {
  const opKidToken = async (): Promise<{ header: Json; payload: Json; real: string }> => {
    const real = await t.op.getToken(SECRET_CLIENT);
    const [h, p] = real.split('.');
    return {
      real,
      header: JSON.parse(Buffer.from(h ?? '', 'base64url').toString()) as Json,
      payload: JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as Json,
    };
  };
  const opPublicPem = async (kid: string): Promise<string> => {
    const res = await t.op.fetch(t.op.jwksUri);
    const { keys } = (await res.json()) as { keys: Json[] };
    const jwk = keys.find((k) => k['kid'] === kid);
    return createPublicKey({ key: jwk as never, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
  };

  const cases: MaliciousTokenCase[] = [
    // alg none / key confusion
    [
      'alg none, empty signature',
      async () => {
        const { header, payload } = await opKidToken();
        return `${seg({ ...header, alg: 'none' })}.${seg(payload)}.`;
      },
      'jwt_malformed',
    ],
    [
      'alg none, with a signature segment',
      async () => {
        const { header, payload, real } = await opKidToken();
        return `${seg({ ...header, alg: 'none' })}.${seg(payload)}.${real.split('.')[2]}`;
      },
      'jwt_alg_not_allowed',
    ],
    [
      'alg NONE (case variant)',
      async () => {
        const { header, payload } = await opKidToken();
        return `${seg({ ...header, alg: 'NONE' })}.${seg(payload)}.AAAA`;
      },
      'jwt_alg_not_allowed',
    ],
    [
      'key confusion: HS256 signed with the public key PEM bytes',
      async () => {
        const { header, payload } = await opKidToken();
        const pem = await opPublicPem(String(header['kid']));
        const input = `${seg({ ...header, alg: 'HS256' })}.${seg(payload)}`;
        return `${input}.${b64url(createHmac('sha256', pem).update(input).digest())}`;
      },
      'jwt_alg_not_allowed',
    ],
    [
      'alg with invalid characters',
      async () => {
        const { header, payload, real } = await opKidToken();
        return `${seg({ ...header, alg: 'ES256 ' })}.${seg(payload)}.${real.split('.')[2]}`;
      },
      'jwt_alg_not_allowed',
    ],
    // embedded keys
    [
      'embedded jwk (attacker key), real kid',
      async () => {
        const { header, payload } = await opKidToken();
        return signEs256({ ...header, jwk: t.attacker.publicJwk }, payload, t.attacker.privateKey);
      },
      'jwt_signature_invalid',
    ],
    [
      'embedded jwk (attacker key), attacker kid',
      async () => {
        const { header, payload } = await opKidToken();
        return signEs256(
          { ...header, kid: 'attacker', jwk: t.attacker.publicJwk },
          payload,
          t.attacker.privateKey,
        );
      },
      'jwt_signature_invalid',
    ],
    [
      'jku pointing at an attacker JWKS',
      async () => {
        const { header, payload } = await opKidToken();
        return signEs256(
          { ...header, kid: 'attacker', jku: t.local.attackerJwksUri },
          payload,
          t.attacker.privateKey,
        );
      },
      'jwt_signature_invalid',
    ],
    [
      'x5c with an attacker certificate',
      async () => {
        const { header, payload } = await opKidToken();
        const key = createPublicKey(t.attackerX5c.certPem); // sanity: the cert parses
        expect(key.asymmetricKeyType).toBe('ec');
        return signEs256(
          { ...header, kid: 'attacker', x5c: [t.attackerX5c.certDer.toString('base64')] },
          payload,
          createPrivateKey(t.attackerX5c.keyPem),
        );
      },
      'jwt_signature_invalid',
    ],
    [
      'signed by an attacker key under the real kid',
      async () => {
        const { header, payload } = await opKidToken();
        return signEs256(header, payload, t.attacker.privateKey);
      },
      'jwt_signature_invalid',
    ],
    [
      'real token with a tampered payload',
      async () => {
        const { payload, real } = await opKidToken();
        const [h, , s] = real.split('.');
        return `${h}.${seg({ ...payload, sub: 'admin' })}.${s}`;
      },
      'jwt_signature_invalid',
    ],
    [
      'real token with a tampered signature',
      async () => {
        const { real } = await opKidToken();
        const last = real.at(-2) === 'A' ? 'B' : 'A';
        return `${real.slice(0, -2)}${last}${real.at(-1)}`;
      },
      'jwt_signature_invalid',
    ],
    [
      'unsupported crit header',
      () => t.localToken(t.localClaims(), { crit: ['x-ext'], 'x-ext': 1 }),
      'jwt_invalid',
    ],
    // size and encoding
    [
      'oversize (> 8 KiB)',
      () => t.localToken(t.localClaims({ pad: 'x'.repeat(8300) })),
      'jwt_malformed',
    ],
    ['not a JWT', () => 'not-a-jwt', 'jwt_malformed'],
    [
      'non-base64url characters (+ /)',
      () => `${t.localToken().slice(0, 10)}+/${t.localToken().slice(12)}`,
      'jwt_malformed',
    ],
    ['base64 padding', () => `${t.localToken()}==`, 'jwt_malformed'],
    ['two segments', () => t.localToken().split('.').slice(0, 2).join('.'), 'jwt_malformed'],
    ['four segments', () => `${t.localToken()}.${seg({})}`, 'jwt_malformed'],
    [
      'five segments (JWE)',
      () => `${seg({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.a.b.c.d`,
      'jwt_malformed',
    ],
    [
      'empty payload segment',
      () => {
        const [h, , s] = t.localToken().split('.');
        return `${h}..${s}`;
      },
      'jwt_malformed',
    ],
    [
      'header is a JSON array',
      () => {
        const [, p, s] = t.localToken().split('.');
        return `${seg([{ alg: 'ES256' }])}.${p}.${s}`;
      },
      'jwt_malformed',
    ],
    [
      'header is not JSON',
      () => {
        const [, p, s] = t.localToken().split('.');
        return `${b64url('{alg:ES256')}.${p}.${s}`;
      },
      'jwt_malformed',
    ],
    [
      'payload is a JSON array',
      () =>
        signEs256(
          { alg: 'ES256', typ: 'at+jwt', kid: t.local.kid },
          [t.localClaims()] as unknown as Json,
          t.local.privateKey,
        ),
      'jwt_malformed',
    ],
    // issuer, audience, typ
    [
      'unknown issuer',
      () =>
        signEs256(
          { alg: 'ES256', typ: 'at+jwt', kid: 'attacker' },
          t.localClaims({ iss: 'https://evil.example' }),
          t.attacker.privateKey,
        ),
      'jwt_issuer_unknown',
    ],
    [
      'issuer with a trailing slash',
      async () => {
        const { header, payload } = await opKidToken();
        return signEs256(header, { ...payload, iss: `${t.op.issuer}/` }, t.attacker.privateKey);
      },
      'jwt_issuer_unknown',
    ],
    ['no iss', () => t.localToken(t.localClaims({ iss: undefined })), 'jwt_issuer_unknown'],
    [
      'wrong audience',
      () => t.localToken(t.localClaims({ aud: 'https://other.example' })),
      'jwt_audience_mismatch',
    ],
    [
      'typ JWT (not at+jwt)',
      () => t.localToken(t.localClaims(), { typ: 'JWT' }),
      'jwt_typ_invalid',
    ],
    ['no typ', () => t.localToken(t.localClaims(), { typ: undefined }), 'jwt_typ_invalid'],
    [
      'missing client_id (RFC 9068)',
      () => t.localToken(t.localClaims({ client_id: undefined })),
      'jwt_claims_invalid',
    ],
    // time edges (default tolerance 30 s)
    [
      'exp 31 s ago (just past tolerance)',
      () => t.localToken(t.localClaims({ iat: nowSec() - 300, exp: nowSec() - 31 })),
      'jwt_expired',
    ],
    [
      'nbf 60 s in the future',
      () => t.localToken(t.localClaims({ nbf: nowSec() + 60 })),
      'jwt_not_yet_valid',
    ],
    [
      'iat 60 s in the future',
      () => t.localToken(t.localClaims({ iat: nowSec() + 60, exp: nowSec() + 600 })),
      'jwt_claims_invalid',
    ],
    ['no exp', () => t.localToken(t.localClaims({ exp: undefined })), 'jwt_claims_invalid'],
    [
      'exp not a number',
      () => t.localToken(t.localClaims({ exp: String(nowSec() + 300) })),
      'jwt_claims_invalid',
    ],
    [
      'lifetime above 24 h',
      () => t.localToken(t.localClaims({ exp: nowSec() + 90_000 })),
      'jwt_claims_invalid',
    ],
  ];
  return cases;
}
