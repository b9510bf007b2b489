import { createTestCa, x509, type Svid, type TestCa } from '@meshless/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createGuard } from '../../src/guard/guard.js';
import type { RequestFacts } from '../../src/guard/request-facts.js';
import { parseLastXfccElement } from '../../src/identity/xfcc.js';

const TD = 'example.org';
let ca: TestCa;
let proxy: Svid;
let client: Svid;
let dnsOnly: Svid;

const xfcc = (svid: Svid, extra = '') =>
  `${extra}By=spiffe://${TD}/ns/edge/sa/proxy;Hash=abc;Cert="${encodeURIComponent(svid.certPem)}";URI=spiffe://${TD}/ns/web/sa/forged`;
const facts = (overrides: Partial<RequestFacts>): RequestFacts => ({
  method: 'GET',
  path: '/',
  host: 'payments',
  headers: {},
  sourceIp: '10.1.2.3',
  destinationPort: 8443,
  ...overrides,
});

beforeAll(async () => {
  ca = await createTestCa({ trustDomain: TD });
  proxy = await ca.issueSvid({ spiffeId: `spiffe://${TD}/ns/edge/sa/proxy` });
  client = await ca.issueSvid({ spiffeId: `spiffe://${TD}/ns/payments/sa/checkout` });
  dnsOnly = await ca.issueSvid({
    uris: [],
    dnsNames: ['legacy.payments.svc'],
    subject: 'CN=legacy-app',
  });
});

describe('x-forwarded-client-cert from a trusted front proxy', () => {
  const guardFor = (trustedProxies?: { principals?: string[]; addresses?: string[] }) =>
    createGuard({
      workload: { namespace: 'payments', trustDomain: TD },
      trustBundles: { [TD]: ca.rootPem },
      ...(trustedProxies ? { mtls: { trustedProxies } } : {}),
    });

  it('from a proxy trusted by SPIFFE ID, the forwarded certificate (not URI=) is the principal', async () => {
    const guard = await guardFor({ principals: [`spiffe://${TD}/ns/edge/sa/proxy`] });
    const d = await guard.check(
      facts({
        peerCertificate: proxy.certDer,
        headers: { 'x-forwarded-client-cert': xfcc(client) },
      }),
    );
    expect(d).toMatchObject({ allow: true, principal: `spiffe://${TD}/ns/payments/sa/checkout` });
  });

  it('the right-most element (the nearest proxy) is used', async () => {
    const guard = await guardFor({ principals: [`spiffe://${TD}/ns/edge/sa/proxy`] });
    const header = `Cert="${encodeURIComponent(proxy.certPem)}",${xfcc(client)}`;
    const d = await guard.check(
      facts({ peerCertificate: proxy.certDer, headers: { 'x-forwarded-client-cert': header } }),
    );
    expect(d.principal).toBe(`spiffe://${TD}/ns/payments/sa/checkout`);
  });

  it('from a proxy trusted by address (::ffff: unwrapped)', async () => {
    const guard = await guardFor({ addresses: ['10.1.2.3'] });
    const d = await guard.check(
      facts({ sourceIp: '::ffff:10.1.2.3', headers: { 'x-forwarded-client-cert': xfcc(client) } }),
    );
    expect(d).toMatchObject({ allow: true, principal: `spiffe://${TD}/ns/payments/sa/checkout` });
  });

  it('from any other peer the header is ignored: the direct peer stays the principal', async () => {
    const guard = await guardFor({ principals: [`spiffe://${TD}/ns/other/sa/proxy`] });
    const d = await guard.check(
      facts({
        peerCertificate: proxy.certDer,
        headers: { 'x-forwarded-client-cert': xfcc(client) },
      }),
    );
    expect(d.principal).toBe(`spiffe://${TD}/ns/edge/sa/proxy`);
    const none = await guardFor();
    expect(
      (
        await none.check(
          facts({
            peerCertificate: proxy.certDer,
            headers: { 'x-forwarded-client-cert': xfcc(client) },
          }),
        )
      ).principal,
    ).toBe(`spiffe://${TD}/ns/edge/sa/proxy`);
  });

  it('a forwarded certificate is verified like a direct one: another CA is refused, a hash alone is refused', async () => {
    const guard = await guardFor({ principals: [`spiffe://${TD}/ns/edge/sa/proxy`] });
    const rogue = await (
      await createTestCa({ trustDomain: TD })
    ).issueSvid({ spiffeId: `spiffe://${TD}/ns/payments/sa/checkout` });
    expect(
      await guard.check(
        facts({
          peerCertificate: proxy.certDer,
          headers: { 'x-forwarded-client-cert': xfcc(rogue) },
        }),
      ),
    ).toMatchObject({ allow: false, status: 403, reason: 'mtls_untrusted_domain' });
    expect(
      await guard.check(
        facts({
          peerCertificate: proxy.certDer,
          headers: { 'x-forwarded-client-cert': `Hash=abc;URI=spiffe://${TD}/ns/x/sa/admin` },
        }),
      ),
    ).toMatchObject({ allow: false, reason: 'mtls_svid_invalid' });
  });

  it('parses quoted values with escapes, commas and semicolons inside quotes', () => {
    expect(parseLastXfccElement('By=a;Subject="CN=a\\"b, c;d";Cert="x%2By"')).toEqual({
      cert: 'x+y',
    });
    expect(() => parseLastXfccElement('Cert="unterminated')).toThrow();
  });
});

describe('identity from DNS SAN or CN (opt-in, SPIFFE → DNS → CN)', () => {
  it('is off by default: a certificate without URI SAN is refused', async () => {
    const guard = await createGuard({
      workload: { namespace: 'payments', trustDomain: TD },
      trustBundles: { [TD]: ca.rootPem },
    });
    expect(await guard.check(facts({ peerCertificate: dnsOnly.certDer }))).toMatchObject({
      allow: false,
      reason: 'mtls_svid_invalid',
    });
  });

  it.each([
    [['spiffe', 'dns', 'cn'], 'dns:legacy.payments.svc'],
    [['spiffe', 'cn', 'dns'], 'cn:legacy-app'],
    [['cn'], 'cn:legacy-app'],
  ] as const)('identityFrom %j gives %s', async (identityFrom, principal) => {
    const guard = await createGuard({
      workload: { namespace: 'payments', trustDomain: TD },
      trustBundles: { [TD]: ca.rootPem },
      mtls: { identityFrom: [...identityFrom] },
    });
    expect(await guard.check(facts({ peerCertificate: dnsOnly.certDer }))).toMatchObject({
      allow: true,
      principal,
    });
  });

  it('never downgrades: a certificate with an invalid URI SAN stays refused even with DNS enabled', async () => {
    const bad = await ca.issueSvid({
      uris: ['https://x.test/a'],
      dnsNames: ['legacy.payments.svc'],
    });
    const guard = await createGuard({
      workload: { namespace: 'payments', trustDomain: TD },
      trustBundles: { [TD]: ca.rootPem },
      mtls: { identityFrom: ['spiffe', 'dns'] },
    });
    expect(await guard.check(facts({ peerCertificate: bad.certDer }))).toMatchObject({
      allow: false,
      reason: 'mtls_svid_invalid',
    });
  });

  it('applies the key usage rules: keyCertSign without digitalSignature is refused', async () => {
    const signer = await ca.issueSvid({
      uris: [],
      dnsNames: ['odd.payments.svc'],
      keyUsages: x509.KeyUsageFlags.keyCertSign,
    });
    const guard = await createGuard({
      workload: { namespace: 'payments', trustDomain: TD },
      trustBundles: { [TD]: ca.rootPem },
      mtls: { identityFrom: ['spiffe', 'dns'] },
    });
    expect(await guard.check(facts({ peerCertificate: signer.certDer }))).toMatchObject({
      allow: false,
      reason: 'mtls_svid_invalid',
    });
  });

  it('must still chain to a configured root', async () => {
    const other = await (
      await createTestCa({ trustDomain: 'other.test' })
    ).issueSvid({ uris: [], dnsNames: ['legacy.payments.svc'] });
    const guard = await createGuard({
      workload: { namespace: 'payments', trustDomain: TD },
      trustBundles: { [TD]: ca.rootPem },
      mtls: { identityFrom: ['spiffe', 'dns'] },
    });
    expect(await guard.check(facts({ peerCertificate: other.certDer }))).toMatchObject({
      allow: false,
      reason: 'mtls_untrusted_domain',
    });
  });
});
