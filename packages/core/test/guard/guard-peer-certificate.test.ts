import { createTestCa, x509, type Svid, type TestCa } from '@meshless/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createGuard } from '../../src/guard/guard.js';
import type { RequestFacts } from '../../src/guard/request-facts.js';

let ca: TestCa;
let checkout: Svid;
const facts = (svid: Svid): RequestFacts => ({
  method: 'GET',
  path: '/',
  host: 'payments',
  headers: {},
  sourceIp: '127.0.0.1',
  destinationPort: 8443,
  peerCertificate: svid.certDer,
});
const allow = (principal: string) => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'allow', namespace: 'payments' },
  spec: { rules: [{ from: [{ source: { principals: [principal] } }] }] },
});

beforeAll(async () => {
  ca = await createTestCa({ trustDomain: 'example.org' });
  checkout = await ca.issueSvid({ spiffeId: 'spiffe://example.org/ns/payments/sa/checkout' });
});

describe('guard with a peer certificate handed over as DER (no socket)', () => {
  it('verifies it against the trust bundle and authorizes its SPIFFE ID', async () => {
    const guard = await createGuard({
      workload: { namespace: 'payments', trustDomain: 'example.org' },
      trustBundles: { 'example.org': ca.rootPem },
      policies: [allow('cluster.local/ns/payments/sa/checkout')],
    });
    expect(await guard.check(facts(checkout))).toMatchObject({
      allow: true,
      principal: 'spiffe://example.org/ns/payments/sa/checkout',
      policy: 'payments/allow',
    });
  });

  it('trust domain aliases given as spiffe:// IDs expand principals like plain names', async () => {
    for (const alias of ['old.org', 'spiffe://old.org']) {
      const guard = await createGuard({
        workload: {
          namespace: 'payments',
          trustDomain: 'example.org',
          trustDomainAliases: [alias],
        },
        trustBundles: { 'example.org': ca.rootPem },
        policies: [allow('old.org/ns/payments/sa/checkout')],
      });
      expect(await guard.check(facts(checkout))).toMatchObject({
        allow: true,
        policy: 'payments/allow',
      });
    }
  });

  it('a certificate from another CA is refused even with the right SPIFFE ID', async () => {
    const rogue = await (
      await createTestCa({ trustDomain: 'example.org' })
    ).issueSvid({
      spiffeId: 'spiffe://example.org/ns/payments/sa/checkout',
    });
    const guard = await createGuard({
      workload: { namespace: 'payments', trustDomain: 'example.org' },
      trustBundles: { 'example.org': ca.rootPem },
    });
    expect(await guard.check(facts(rogue))).toMatchObject({
      allow: false,
      status: 403,
      reason: 'mtls_untrusted_domain',
    });
  });

  it('a leaf with an unknown critical extension is refused', async () => {
    const odd = await ca.issueSvid({
      spiffeId: 'spiffe://example.org/ns/payments/sa/checkout',
      extraExtensions: [new x509.Extension('1.3.6.1.4.1.99999.1', true, new Uint8Array([5, 0]))],
    });
    const guard = await createGuard({
      workload: { namespace: 'payments', trustDomain: 'example.org' },
      trustBundles: { 'example.org': ca.rootPem },
    });
    expect(await guard.check(facts(odd))).toMatchObject({
      allow: false,
      reason: 'mtls_svid_invalid',
    });
  });

  it('a leaf whose root has expired is refused', async () => {
    const old = await createTestCa({
      trustDomain: 'example.org',
      notBefore: new Date(Date.now() - 3 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    const leaf = await old.issueSvid({
      spiffeId: 'spiffe://example.org/ns/payments/sa/checkout',
      notBefore: new Date(Date.now() - 3_600_000),
      notAfter: new Date(Date.now() + 3_600_000),
    });
    const guard = await createGuard({
      workload: { namespace: 'payments', trustDomain: 'example.org' },
      trustBundles: { 'example.org': old.rootPem },
    });
    expect(await guard.check(facts(leaf))).toMatchObject({
      allow: false,
      reason: 'mtls_cert_expired',
    });
  });
});
