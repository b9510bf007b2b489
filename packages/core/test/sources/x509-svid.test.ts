import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { createTestCa, x509, type Svid, type TestCa } from '@meshless/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { MeshlessError } from '../../src/errors.js';
import { SvidError } from '../../src/sources/source-errors.js';
import { parseX509Svid } from '../../src/sources/x509-svid.js';

const KU = x509.KeyUsageFlags;
let ca: TestCa;
let good: Svid;
let other: Svid;

function codeOf(certChainPem: string, privateKeyPem: string): string | undefined {
  try {
    parseX509Svid({ certChainPem, privateKeyPem });
  } catch (error) {
    expect(error).toBeInstanceOf(SvidError);
    expect(error).toBeInstanceOf(MeshlessError);
    expect((error as Error).message).not.toContain('-----');
    return (error as SvidError).code;
  }
  return undefined;
}

beforeAll(async () => {
  ca = await createTestCa({ trustDomain: 'td.test' });
  good = await ca.issueSvid({ spiffeId: 'spiffe://td.test/workload' });
  other = await ca.issueSvid({ spiffeId: 'spiffe://td.test/other' });
});

describe('parseX509Svid: positive controls', () => {
  it('parses a leaf signed by the root', () => {
    const svid = parseX509Svid({
      certChainPem: good.chainPem,
      privateKeyPem: good.keyPem,
      hint: 'h',
    });
    expect(svid.id.toString()).toBe('spiffe://td.test/workload');
    expect(svid.certificates).toHaveLength(1);
    expect(svid.certificates[0]?.raw.equals(good.certDer)).toBe(true);
    expect(svid.privateKey.asymmetricKeyType).toBe('ec');
    expect(svid.certChainPem).toContain('-----BEGIN CERTIFICATE-----');
    expect(svid.privateKeyPem).toContain('-----BEGIN PRIVATE KEY-----');
    expect(svid.hint).toBe('h');
    expect(Object.isFrozen(svid)).toBe(true);
  });

  it('parses leaf + intermediate in order, ignoring text between blocks', async () => {
    const ica = await createTestCa({ trustDomain: 'td.test', intermediate: true });
    const leaf = await ica.issueSvid({ spiffeId: 'spiffe://td.test/via-int' });
    const svid = parseX509Svid({
      certChainPem: `subject=CN=via-int\n${leaf.chainPem}\nissuer=...\n`,
      privateKeyPem: leaf.keyPem,
    });
    expect(svid.certificates).toHaveLength(2);
    expect(svid.certificates[1]?.subject).toContain('intermediate');
    expect('hint' in svid).toBe(false);
  });

  it('tolerates a trailing root after the intermediate', async () => {
    const ica = await createTestCa({ trustDomain: 'td.test', intermediate: true });
    const leaf = await ica.issueSvid();
    expect(codeOf(leaf.chainPem + ica.rootPem, leaf.keyPem)).toBeUndefined();
  });
});

describe('parseX509Svid: B1 certificates', () => {
  it.each([
    ['empty text', '', 'ERR_SVID_NO_CERTIFICATE'],
    ['no PEM block', 'not a certificate', 'ERR_SVID_NO_CERTIFICATE'],
    ['truncated block', '-----BEGIN CERTIFICATE-----\nMIIB', 'ERR_SVID_CERTIFICATE_INVALID'],
    [
      'bad base64',
      '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n',
      'ERR_SVID_CERTIFICATE_INVALID',
    ],
    [
      'not DER',
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      'ERR_SVID_CERTIFICATE_INVALID',
    ],
  ])('%s → %s', (_name, pem, code) => {
    expect(codeOf(pem, good.keyPem)).toBe(code);
  });

  it('refuses a chain whose second block is cut off (half-written file)', () => {
    const cut = good.chainPem + '-----BEGIN CERTIFICATE-----\nMIIB\n';
    expect(codeOf(cut, good.keyPem)).toBe('ERR_SVID_CERTIFICATE_INVALID');
  });

  it('refuses a private key inside the certificate PEM', () => {
    expect(codeOf(good.chainPem + good.keyPem, good.keyPem)).toBe('ERR_SVID_CERTIFICATE_INVALID');
  });
});

describe('parseX509Svid: B2 leaf rules', () => {
  it.each<[string, Parameters<TestCa['issueSvid']>[0]]>([
    ['no URI SAN', { uris: [], dnsNames: ['w.td.test'] }],
    ['two URI SANs', { uris: ['spiffe://td.test/a', 'spiffe://td.test/b'] }],
    ['SPIFFE ID + https URI', { uris: ['spiffe://td.test/a', 'https://x.test'] }],
    ['invalid SPIFFE ID', { uris: ['spiffe://td.test/a/../b'] }],
    ['non-spiffe scheme', { uris: ['sparfe://td.test/workload'] }],
    ['trust domain ID (no path)', { spiffeId: 'spiffe://td.test' }],
    ['cA=true', { isCa: true }],
    ['keyCertSign', { keyUsages: KU.digitalSignature | KU.keyCertSign }],
    ['cRLSign', { keyUsages: KU.digitalSignature | KU.cRLSign }],
    ['no digitalSignature', { keyUsages: KU.keyEncipherment }],
    ['no KeyUsage extension', { keyUsages: 0 }],
    [
      'unknown critical extension',
      {
        extraExtensions: [new x509.Extension('1.3.6.1.4.1.99999.1', true, new Uint8Array([5, 0]))],
      },
    ],
  ])('%s → ERR_SVID_LEAF_INVALID', async (_name, options) => {
    const leaf = await ca.issueSvid(options);
    expect(codeOf(leaf.chainPem, leaf.keyPem)).toBe('ERR_SVID_LEAF_INVALID');
  });

  it('keeps the rule error as cause', async () => {
    const leaf = await ca.issueSvid({ isCa: true });
    try {
      parseX509Svid({ certChainPem: leaf.chainPem, privateKeyPem: leaf.keyPem });
      expect.unreachable();
    } catch (error) {
      expect((error as SvidError).cause).toMatchObject({ code: 'mtls_svid_invalid' });
    }
  });
});

describe('parseX509Svid: B3 signing certificates and chain order', () => {
  it('refuses an intermediate without the CA flag', async () => {
    const notCa = await ca.issueSvid({
      uris: ['spiffe://td.test'],
      keyUsages: KU.keyCertSign | KU.cRLSign,
    });
    const leaf = await ca.issueSvid({ issuer: notCa });
    expect(codeOf(leaf.chainPem, leaf.keyPem)).toBe('ERR_SVID_SIGNING_CERT_INVALID');
  });

  it('refuses an intermediate CA without keyCertSign', async () => {
    const noSign = await ca.issueSvid({
      uris: ['spiffe://td.test'],
      isCa: true,
      keyUsages: KU.cRLSign | KU.digitalSignature,
    });
    const leaf = await ca.issueSvid({ issuer: noSign });
    expect(codeOf(leaf.chainPem, leaf.keyPem)).toBe('ERR_SVID_SIGNING_CERT_INVALID');
  });

  it('refuses a CA that did not sign the certificate before it', async () => {
    const unrelated = await createTestCa({ trustDomain: 'td.test', intermediate: true });
    expect(codeOf(good.chainPem + String(unrelated.intermediatePem), good.keyPem)).toBe(
      'ERR_SVID_CHAIN_ORDER',
    );
  });

  it('refuses a chain with the intermediate first', async () => {
    const ica = await createTestCa({ trustDomain: 'td.test', intermediate: true });
    const leaf = await ica.issueSvid();
    const reversed = String(ica.intermediatePem) + leaf.certPem;
    // The intermediate first is itself a CA: refused as a leaf before the order is looked at.
    expect(codeOf(reversed, leaf.keyPem)).toBe('ERR_SVID_LEAF_INVALID');
  });
});

describe('parseX509Svid: B4/B5 private key', () => {
  it('refuses the key of another SVID', () => {
    expect(codeOf(good.chainPem, other.keyPem)).toBe('ERR_SVID_KEY_MISMATCH');
  });

  it('refuses a missing key', () => {
    expect(codeOf(good.chainPem, '')).toBe('ERR_SVID_KEY_MISSING');
  });

  it('refuses SEC1 "EC PRIVATE KEY" (go-compatible)', () => {
    const sec1 = createPrivateKey(good.keyPem).export({ type: 'sec1', format: 'pem' }).toString();
    expect(codeOf(good.chainPem, sec1)).toBe('ERR_SVID_KEY_FORMAT');
  });

  it('refuses an encrypted PKCS#8 key', () => {
    const encrypted = createPrivateKey(good.keyPem)
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' })
      .toString();
    expect(codeOf(good.chainPem, encrypted)).toBe('ERR_SVID_KEY_FORMAT');
  });

  it('refuses a certificate block where the key should be', () => {
    expect(codeOf(good.chainPem, good.certPem)).toBe('ERR_SVID_KEY_FORMAT');
  });

  it('refuses garbage inside a PRIVATE KEY block', () => {
    expect(
      codeOf(good.chainPem, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
    ).toBe('ERR_SVID_KEY_FORMAT');
  });

  it.each([
    ['x25519', () => generateKeyPairSync('x25519')],
    ['secp256k1', () => generateKeyPairSync('ec', { namedCurve: 'secp256k1' })],
    ['dsa', () => generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 })],
  ])('refuses a %s key', (_name, make) => {
    const pem = make().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(codeOf(good.chainPem, pem)).toBe('ERR_SVID_KEY_TYPE');
  });

  it('checks an allowed key type that does not match (Ed25519 key, EC leaf)', () => {
    const pem = generateKeyPairSync('ed25519')
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect(codeOf(good.chainPem, pem)).toBe('ERR_SVID_KEY_MISMATCH');
  });
});
