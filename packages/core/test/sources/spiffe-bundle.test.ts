import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { createTestCa, type TestCa } from '@meshless/testing';
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWK,
} from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { SpiffeIdError } from '../../src/errors.js';
import { BundleError } from '../../src/sources/source-errors.js';
import { parseSpiffeBundle, serializeSpiffeBundle } from '../../src/sources/spiffe-bundle.js';
import {
  parseSpiffeBundleMap,
  serializeSpiffeBundleMap,
} from '../../src/sources/spiffe-bundle-map.js';

let ca: TestCa;
let ca2: TestCa;
let root: X509Certificate;
let root2: X509Certificate;
let jwtKey: JWK;
let signingKey: CryptoKey;

beforeAll(async () => {
  [ca, ca2] = await Promise.all([
    createTestCa({ trustDomain: 'td.test' }),
    createTestCa({ trustDomain: 'td.test' }),
  ]);
  root = new X509Certificate(ca.rootPem);
  root2 = new X509Certificate(ca2.rootPem);
  const pair = await generateKeyPair('ES256', { extractable: true });
  signingKey = pair.privateKey;
  jwtKey = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
});

const x509Entry = (cert: X509Certificate, extra: Record<string, unknown> = {}) => ({
  ...cert.publicKey.export({ format: 'jwk' }),
  use: 'x509-svid',
  x5c: [cert.raw.toString('base64')],
  ...extra,
});
const doc = (keys: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ keys, ...extra });

function codeOf(document: string): string | undefined {
  try {
    parseSpiffeBundle('td.test', document);
  } catch (error) {
    expect(error).toBeInstanceOf(BundleError);
    return (error as BundleError).code;
  }
  return undefined;
}

describe('parseSpiffeBundle / serializeSpiffeBundle', () => {
  it('round-trips X.509 and JWT authorities, sequence and refresh hint', () => {
    const text = doc([x509Entry(root), x509Entry(root2), { ...jwtKey, use: 'jwt-svid' }], {
      spiffe_sequence: 7,
      spiffe_refresh_hint: 300,
    });
    const bundle = parseSpiffeBundle('spiffe://td.test', text);
    expect(bundle.trustDomain).toBe('td.test');
    expect(bundle.authorities.map((c) => c.fingerprint256)).toEqual([
      root.fingerprint256,
      root2.fingerprint256,
    ]);
    expect(bundle.jwtAuthorities.keys).toEqual([jwtKey]);
    expect(bundle.sequence).toBe(7);
    expect(bundle.refreshHintSec).toBe(300);

    const again = parseSpiffeBundle('td.test', Buffer.from(serializeSpiffeBundle(bundle)));
    expect(again.authorities.map((c) => c.fingerprint256)).toEqual(
      bundle.authorities.map((c) => c.fingerprint256),
    );
    expect(again.jwtAuthorities).toEqual(bundle.jwtAuthorities);
    expect(again.sequence).toBe(7);
    expect(again.refreshHintSec).toBe(300);
    const entries = (JSON.parse(serializeSpiffeBundle(bundle)) as { keys: { use: string }[] }).keys;
    expect(entries.map((k) => k.use)).toEqual(['x509-svid', 'x509-svid', 'jwt-svid']);
  });

  it('serializes a plain X509Bundle without optional members', () => {
    const text = serializeSpiffeBundle({ trustDomain: 'td.test', authorities: [root] });
    expect(JSON.parse(text)).toEqual({ keys: [x509Entry(root)] });
  });

  it('gives jose a JWKS it verifies JWT-SVIDs with', async () => {
    const bundle = parseSpiffeBundle('td.test', doc([{ ...jwtKey, use: 'jwt-svid' }]));
    const token = await new SignJWT({ sub: 'spiffe://td.test/w' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setAudience('a')
      .setExpirationTime('5m')
      .sign(signingKey);
    const { payload } = await jwtVerify(token, createLocalJWKSet(bundle.jwtAuthorities), {
      audience: 'a',
    });
    expect(payload.sub).toBe('spiffe://td.test/w');
  });

  it('C1: {"keys":[]} is a valid bundle that trusts nothing', () => {
    const bundle = parseSpiffeBundle('td.test', '{"keys":[]}');
    expect(bundle.authorities).toEqual([]);
    expect(bundle.jwtAuthorities.keys).toEqual([]);
    expect('sequence' in bundle).toBe(false);
    expect('refreshHintSec' in bundle).toBe(false);
  });

  it('C2: uses the first x5c certificate and ignores an x509-svid entry without x5c', () => {
    const bundle = parseSpiffeBundle(
      'td.test',
      doc([
        x509Entry(root, { x5c: [root.raw.toString('base64'), root2.raw.toString('base64')] }),
        { ...root2.publicKey.export({ format: 'jwk' }), use: 'x509-svid' },
      ]),
    );
    expect(bundle.authorities.map((c) => c.fingerprint256)).toEqual([root.fingerprint256]);
  });

  it('keeps a duplicated CA once', () => {
    expect(
      parseSpiffeBundle('td.test', doc([x509Entry(root), x509Entry(root)])).authorities,
    ).toHaveLength(1);
  });

  it('C3: ignores unknown use, missing use and unknown kty, and still loads the rest', () => {
    const bundle = parseSpiffeBundle(
      'td.test',
      doc([
        { ...x509Entry(root2), use: 'wit-svid' },
        { kty: 'EC', crv: 'P-256', x: jwtKey.x, y: jwtKey.y },
        { kty: 'FOO', use: 'x509-svid', x5c: [root2.raw.toString('base64')] },
        { kty: 'oct', use: 'jwt-svid', kid: 's' },
        x509Entry(root),
      ]),
    );
    expect(bundle.authorities.map((c) => c.fingerprint256)).toEqual([root.fingerprint256]);
    expect(bundle.jwtAuthorities.keys).toEqual([]);
  });

  it('keeps an Ed25519 (OKP) jwt-svid key', () => {
    const okp = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    const bundle = parseSpiffeBundle('td.test', doc([{ ...okp, use: 'jwt-svid', kid: 'ed' }]));
    expect(bundle.jwtAuthorities.keys).toEqual([{ ...okp, kid: 'ed' }]);
  });

  it.each<[string, string, string]>([
    ['C1: no keys member', '{}', 'ERR_BUNDLE_KEYS_MISSING'],
    ['not JSON', '{"keys":', 'ERR_BUNDLE_PARSE'],
    ['not an object', '[]', 'ERR_BUNDLE_PARSE'],
    ['keys not an array', '{"keys":{}}', 'ERR_BUNDLE_FIELD'],
    ['entry not an object', '{"keys":[1]}', 'ERR_BUNDLE_FIELD'],
    ['duplicate member', '{"keys":[],"keys":[]}', 'ERR_BUNDLE_PARSE'],
    ['negative sequence', '{"keys":[],"spiffe_sequence":-1}', 'ERR_BUNDLE_FIELD'],
    ['string sequence', '{"keys":[],"spiffe_sequence":"1"}', 'ERR_BUNDLE_FIELD'],
    ['fractional refresh hint', '{"keys":[],"spiffe_refresh_hint":1.5}', 'ERR_BUNDLE_FIELD'],
    ['unsafe sequence', '{"keys":[],"spiffe_sequence":18446744073709551615}', 'ERR_BUNDLE_FIELD'],
  ])('%s → %s', (_name, text, code) => {
    expect(codeOf(text)).toBe(code);
  });

  it.each<[string, () => unknown, string]>([
    ['x5c not an array', () => x509Entry(root, { x5c: 'abc' }), 'ERR_BUNDLE_AUTHORITY_INVALID'],
    ['x5c empty', () => x509Entry(root, { x5c: [] }), 'ERR_BUNDLE_AUTHORITY_INVALID'],
    ['x5c not base64', () => x509Entry(root, { x5c: ['@@@@'] }), 'ERR_BUNDLE_AUTHORITY_INVALID'],
    [
      'x5c not a certificate',
      () => x509Entry(root, { x5c: ['AAAA'] }),
      'ERR_BUNDLE_AUTHORITY_INVALID',
    ],
    [
      'JWK key differs from x5c',
      () => x509Entry(root, { x: jwtKey.x, y: jwtKey.y }),
      'ERR_BUNDLE_AUTHORITY_INVALID',
    ],
    [
      'jwt-svid without kid',
      () => ({ ...jwtKey, kid: undefined, use: 'jwt-svid' }),
      'ERR_BUNDLE_FIELD',
    ],
    [
      'jwt-svid with empty kid',
      () => ({ ...jwtKey, kid: '', use: 'jwt-svid' }),
      'ERR_BUNDLE_FIELD',
    ],
    [
      'jwt-svid with a private key',
      () => ({ ...jwtKey, d: 'AAAA', use: 'jwt-svid' }),
      'ERR_BUNDLE_FIELD',
    ],
    [
      'jwt-svid with a bad point',
      () => ({ ...jwtKey, x: 'AAAA', use: 'jwt-svid' }),
      'ERR_BUNDLE_AUTHORITY_INVALID',
    ],
    [
      'jwt-svid missing y',
      () => ({ ...jwtKey, y: undefined, use: 'jwt-svid' }),
      'ERR_BUNDLE_AUTHORITY_INVALID',
    ],
  ])('%s → %s', (_name, entry, code) => {
    expect(codeOf(doc([entry()]))).toBe(code);
  });

  it('refuses a duplicate jwt-svid kid', () => {
    const entry = { ...jwtKey, use: 'jwt-svid' };
    expect(codeOf(doc([entry, entry]))).toBe('ERR_BUNDLE_FIELD');
  });

  it('refuses invalid UTF-8 bytes', () => {
    expect(() => parseSpiffeBundle('td.test', Buffer.from([0x7b, 0xff, 0x7d]))).toThrow(
      expect.objectContaining({ code: 'ERR_BUNDLE_PARSE' }),
    );
  });

  it('refuses an invalid trust domain with SpiffeIdError', () => {
    expect(() => parseSpiffeBundle('TD.test', '{"keys":[]}')).toThrow(SpiffeIdError);
  });
});

describe('parseSpiffeBundleMap (C5)', () => {
  it('round-trips several trust domains', () => {
    const a = parseSpiffeBundle('a.test', doc([x509Entry(root)], { spiffe_sequence: 1 }));
    const b = parseSpiffeBundle('b.test', doc([x509Entry(root2), { ...jwtKey, use: 'jwt-svid' }]));
    const map = parseSpiffeBundleMap(serializeSpiffeBundleMap([a, b]));
    expect([...map.keys()]).toEqual(['a.test', 'b.test']);
    expect(map.get('a.test')?.sequence).toBe(1);
    expect(map.get('b.test')?.authorities[0]?.fingerprint256).toBe(root2.fingerprint256);
    expect(map.get('b.test')?.jwtAuthorities.keys).toEqual([jwtKey]);
  });

  it.each([
    ['the same key twice', '{"trust_domains":{"a.test":{"keys":[]},"a.test":{"keys":[]}}}'],
    ['an escaped duplicate', '{"trust_domains":{"a.test":{"keys":[]},"a\\u002etest":{"keys":[]}}}'],
    [
      'name and ID of one domain',
      '{"trust_domains":{"a.test":{"keys":[]},"spiffe://a.test":{"keys":[]}}}',
    ],
  ])('refuses %s', (_name, text) => {
    expect(() => parseSpiffeBundleMap(text)).toThrow(
      expect.objectContaining({ code: 'ERR_BUNDLE_DUPLICATE_TRUST_DOMAIN' }),
    );
  });

  it('does not mistake the same key in two different bundles for a duplicate', () => {
    const text = '{"trust_domains":{"a.test":{"keys":[]},"b.test":{"keys":[]}}}';
    expect(parseSpiffeBundleMap(text).size).toBe(2);
  });

  it.each([
    ['no trust_domains', '{}', 'ERR_BUNDLE_FIELD'],
    ['invalid trust domain', '{"trust_domains":{"A.test":{"keys":[]}}}', 'ERR_BUNDLE_FIELD'],
    ['bundle without keys', '{"trust_domains":{"a.test":{}}}', 'ERR_BUNDLE_KEYS_MISSING'],
    [
      'duplicate inside a bundle',
      '{"trust_domains":{"a.test":{"keys":[],"keys":[]}}}',
      'ERR_BUNDLE_PARSE',
    ],
  ])('refuses %s', (_name, text, code) => {
    expect(() => parseSpiffeBundleMap(text)).toThrow(expect.objectContaining({ code }));
  });

  it('refuses to serialize two bundles of one trust domain', () => {
    const a = { trustDomain: 'a.test', authorities: [] };
    expect(() => serializeSpiffeBundleMap([a, a])).toThrow(
      expect.objectContaining({ code: 'ERR_BUNDLE_DUPLICATE_TRUST_DOMAIN' }),
    );
  });
});
