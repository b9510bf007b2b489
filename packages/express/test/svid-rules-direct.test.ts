/**
 * x509-svid-rules.md part A through `guard.check({ peerCertificate, peerIntermediates })`: no TLS
 * socket, so meshless's own chain checks (not OpenSSL's) decide. This covers what a real handshake
 * cannot show: over mTLS, OpenSSL refuses a tampered signature (A18), a broken intermediate (A16),
 * an expired leaf (A15) and an unknown critical extension (A17) before the guard looks at them.
 */
import { X509Certificate } from 'node:crypto';
import { createGuard, type Decision, type Guard } from '@meshless/core';
import {
  createSvidRulePki,
  issueIntermediate,
  svidRulePolicies,
  SVID_RULES_NAMESPACE,
  SVID_RULES_TRUST_DOMAIN,
  tamperSignature,
  x509,
  type Svid,
  type SvidRulePki,
} from '@meshless/testing';
import { beforeAll, describe, expect, it } from 'vitest';

const HOUR_MS = 3_600_000;

let pki: SvidRulePki;
let guard: Guard;

beforeAll(async () => {
  pki = await createSvidRulePki();
  guard = await createGuard({
    workload: { namespace: SVID_RULES_NAMESPACE, trustDomain: SVID_RULES_TRUST_DOMAIN },
    trustBundles: {
      'td.test': [pki.td.rootPem, pki.pathLen0Root.certPem],
      'a.test': [pki.a.rootPem],
      'b.test': [pki.b.rootPem],
    },
    mtls: { mode: 'STRICT' },
    policies: svidRulePolicies(),
  });
});

function check(leaf: Uint8Array, intermediates: Uint8Array[] = []): Promise<Decision> {
  return guard.check({
    method: 'GET',
    path: '/',
    host: 'svc.test',
    headers: { host: 'svc.test' },
    sourceIp: '127.0.0.1',
    destinationPort: 443,
    peerCertificate: leaf,
    peerIntermediates: intermediates,
  });
}

async function expectAllowed(decision: Promise<Decision>, principal: string): Promise<void> {
  expect(await decision).toMatchObject({ allow: true, status: 200, principal });
}

async function expectDenied(
  decision: Promise<Decision>,
  reason: Decision['reason'],
  detail?: RegExp,
): Promise<void> {
  const d = await decision;
  expect({ allow: d.allow, status: d.status, reason: d.reason, principal: d.principal }).toEqual({
    allow: false,
    status: 403,
    reason,
    principal: undefined,
  });
  if (detail) expect(d.detail).toMatch(detail);
}

const goodLeaf = (id = 'spiffe://td.test/workload') => pki.td.issueSvid({ spiffeId: id });

describe('X.509-SVID rules through guard.check({ peerCertificate }) (no TLS)', () => {
  it('positive control: L(spiffe://td.test/workload) is allowed', async () => {
    await expectAllowed(check((await goodLeaf()).certDer), 'spiffe://td.test/workload');
  });

  it('A18 a leaf whose signature has one byte flipped does not chain to R(td.test)', async () => {
    const leaf = await goodLeaf();
    const tampered = tamperSignature(leaf.certDer);
    // Still parses: only the signature value changed.
    expect(new X509Certificate(tampered).subject).toBe(new X509Certificate(leaf.certDer).subject);
    await expectDenied(check(tampered), 'mtls_untrusted_domain', /does not chain/);
  });

  it('A18 an intermediate whose signature has one byte flipped breaks the chain', async () => {
    const int = await issueIntermediate(pki.td, 'td.test intermediate');
    const leaf = await pki.td.issueSvid({ issuer: int });
    await expectAllowed(check(leaf.certDer, [int.certDer]), 'spiffe://td.test/workload');
    await expectDenied(
      check(leaf.certDer, [tamperSignature(int.certDer)]),
      'mtls_untrusted_domain',
      /does not chain/,
    );
  });

  it('A5 cA=TRUE with digitalSignature only is refused although X509Certificate.ca is false', async () => {
    const leaf = await pki.td.issueSvid({ isCa: true });
    // Node derives `ca` from OpenSSL's purpose check, which needs keyCertSign: it reports false here.
    expect(new X509Certificate(leaf.certDer).ca).toBe(false);
    await expectDenied(check(leaf.certDer), 'mtls_svid_invalid', /must not be a CA/);
  });

  it('A13 (c) leaf spiffe://b.test/x signed by R(a.test) is refused, even with R(a.test) sent along', async () => {
    const leaf = await pki.a.issueSvid({ spiffeId: 'spiffe://b.test/x' });
    await expectDenied(check(leaf.certDer), 'mtls_untrusted_domain', /trust domain b\.test/);
    await expectDenied(
      check(leaf.certDer, [pki.a.rootDer]),
      'mtls_untrusted_domain',
      /trust domain b\.test/,
    );
  });

  it('A14 a self-signed root sent by the peer is never an anchor', async () => {
    const leaf = await pki.untrusted.issueSvid();
    await expectDenied(check(leaf.certDer, [pki.untrusted.rootDer]), 'mtls_untrusted_domain');
    const rogue = await pki.rogueTd.issueSvid(); // its root has the same DN as R(td.test)
    await expectDenied(check(rogue.certDer, [pki.rogueTd.rootDer]), 'mtls_untrusted_domain');
  });

  it('A15 an expired or not-yet-valid leaf is refused with mtls_cert_expired', async () => {
    const now = Date.now();
    const expired = await pki.td.issueSvid({
      notBefore: new Date(now - 2 * HOUR_MS),
      notAfter: new Date(now - HOUR_MS),
    });
    const future = await pki.td.issueSvid({
      notBefore: new Date(now + HOUR_MS),
      notAfter: new Date(now + 2 * HOUR_MS),
    });
    await expectDenied(check(expired.certDer), 'mtls_cert_expired');
    await expectDenied(check(future.certDer), 'mtls_cert_expired');
  });

  it('A15 an expired intermediate refuses the leaf below it', async () => {
    const now = Date.now();
    const int = await pki.td.issueSvid({
      uris: ['spiffe://td.test'],
      subject: 'CN=td.test expired intermediate',
      isCa: true,
      keyUsages: x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
      extendedKeyUsages: [],
      notBefore: new Date(now - 2 * HOUR_MS),
      notAfter: new Date(now - HOUR_MS),
    });
    const leaf = await pki.td.issueSvid({ issuer: int });
    await expectDenied(check(leaf.certDer, [int.certDer]), 'mtls_cert_expired');
  });

  describe('A16 intermediate constraints', () => {
    const viaIntermediate = async (int: Svid) => {
      const leaf = await pki.td.issueSvid({ issuer: int });
      return check(leaf.certDer, [int.certDer]);
    };

    it('positive: a leaf via a good intermediate is allowed', async () => {
      const int = await issueIntermediate(pki.td, 'td.test intermediate');
      const leaf = await pki.td.issueSvid({ spiffeId: 'spiffe://td.test/via-int', issuer: int });
      await expectAllowed(check(leaf.certDer, [int.certDer]), 'spiffe://td.test/via-int');
    });

    it('(a) intermediate without cA', async () => {
      const int = await issueIntermediate(pki.td, 'td.test no-ca intermediate', { isCa: false });
      await expectDenied(viaIntermediate(int), 'mtls_untrusted_domain');
    });

    it('(b) intermediate with cA but no keyCertSign', async () => {
      const int = await issueIntermediate(pki.td, 'td.test no-certsign intermediate', {
        keyUsages: x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
      });
      await expectDenied(viaIntermediate(int), 'mtls_untrusted_domain');
    });

    it('(c) root pathLen 0 → intermediate → leaf', async () => {
      const int = await issueIntermediate(pki.td, 'td.test under-pathlen0 intermediate', {
        issuer: pki.pathLen0Root,
      });
      await expectDenied(viaIntermediate(int), 'mtls_untrusted_domain');
    });
  });

  it('A17 a leaf with an unknown critical extension is refused', async () => {
    const leaf = await pki.td.issueSvid({
      extraExtensions: [new x509.Extension('1.3.6.1.4.1.99999.1', true, new Uint8Array([5, 0]))],
    });
    await expectDenied(check(leaf.certDer), 'mtls_svid_invalid', /unknown critical extension/);
  });

  it('A17 an intermediate with an unknown critical extension refuses the leaf below it (RFC 5280 §4.2)', async () => {
    // OpenSSL refuses this chain over TLS (UNHANDLED_CRITICAL_EXTENSION); the guard's own path
    // check must too.
    const int = await pki.td.issueSvid({
      uris: ['spiffe://td.test'],
      subject: 'CN=td.test critical-ext intermediate',
      isCa: true,
      keyUsages: x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
      extendedKeyUsages: [],
      extraExtensions: [new x509.Extension('1.3.6.1.4.1.99999.1', true, new Uint8Array([5, 0]))],
    });
    const leaf = await pki.td.issueSvid({ issuer: int });
    const d = await check(leaf.certDer, [int.certDer]);
    expect({ allow: d.allow, status: d.status, principal: d.principal }).toEqual({
      allow: false,
      status: 403,
      principal: undefined,
    });
    expect(['mtls_untrusted_domain', 'mtls_svid_invalid']).toContain(d.reason);
  });

  it('A21 one URI SAN "spiffe://td.test/a, URI:spiffe://td.test/admin" is one invalid ID', async () => {
    const leaf = await pki.td.issueSvid({
      uris: ['spiffe://td.test/a, URI:spiffe://td.test/admin'],
    });
    // Node's text rendering is JSON-quoted with \u002c, never a second "URI:" entry.
    expect(new X509Certificate(leaf.certDer).subjectAltName).toBe(
      'URI:"spiffe://td.test/a\\u002c URI:spiffe://td.test/admin"',
    );
    await expectDenied(check(leaf.certDer), 'mtls_svid_invalid', /not a valid SPIFFE ID/);
  });
});
