import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, x509, type Svid, type TestCa } from '../src/index.js';

interface HandshakeResult {
  authorized: boolean;
  authorizationError: string | undefined;
  peerUris: string[];
}

/** Real TLS server (requestCert, rejectUnauthorized false) + real client; reports the server view. */
async function handshake(
  ca: TestCa,
  server: Svid,
  client: { cert: string; key: string } | undefined,
): Promise<HandshakeResult> {
  const srv = tls.createServer({
    key: server.keyPem,
    cert: server.chainPem,
    ca: ca.rootPem,
    requestCert: true,
    rejectUnauthorized: false,
  });
  const seen = new Promise<HandshakeResult>((resolve) => {
    srv.once('secureConnection', (socket: tls.TLSSocket) => {
      const peer = socket.getPeerX509Certificate();
      resolve({
        authorized: socket.authorized,
        authorizationError: socket.authorizationError?.toString(),
        peerUris: peer
          ? (peer.subjectAltName ?? '').split(', ').filter((s) => s.startsWith('URI:'))
          : [],
      });
      socket.end();
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    ca: ca.rootPem,
    checkServerIdentity: () => undefined,
    ...(client ?? {}),
  });
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  try {
    return await seen;
  } finally {
    socket.destroy();
    srv.close();
  }
}

describe('createTestCa', () => {
  let ca: TestCa;
  let other: TestCa;
  let server: Svid;

  beforeAll(async () => {
    [ca, other] = await Promise.all([
      createTestCa({ trustDomain: 'td.test' }),
      createTestCa({ trustDomain: 'td.test' }), // same name, different key
    ]);
    server = await ca.issueSvid({ spiffeId: 'spiffe://td.test/server', dnsNames: ['localhost'] });
  });

  it('builds a root with the SVID CA profile', () => {
    const root = new x509.X509Certificate(ca.rootDer);
    expect(root.subject).toBe('CN=td.test root');
    expect(root.getExtension(x509.BasicConstraintsExtension)).toMatchObject({
      ca: true,
      critical: true,
    });
    const ku = root.getExtension(x509.KeyUsagesExtension)!;
    expect(ku.critical).toBe(true);
    expect(ku.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    expect(root.getExtension(x509.SubjectAlternativeNameExtension)!.names.items).toEqual([
      expect.objectContaining({ type: 'url', value: 'spiffe://td.test' }),
    ]);
    expect(ca.rootPem.endsWith('-----END CERTIFICATE-----\n')).toBe(true);
    const validity = root.notAfter.getTime() - root.notBefore.getTime();
    expect(validity).toBeGreaterThan(48 * 3_600_000);
  });

  it('issues a leaf with the default SVID fields', async () => {
    const svid = await ca.issueSvid();
    expect(svid.spiffeId).toBe('spiffe://td.test/workload');
    const leaf = new X509Certificate(svid.certDer);
    expect(leaf.subjectAltName).toBe('URI:spiffe://td.test/workload');
    expect(leaf.subject).toBe('CN=workload');
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(new X509Certificate(ca.rootDer))).toBe(true);
    expect(leaf.verify(new X509Certificate(ca.rootDer).publicKey)).toBe(true);
    expect(leaf.fingerprint256.replaceAll(':', '').toLowerCase()).toBe(svid.fingerprint256);
    expect(svid.chainPem).toBe(svid.certPem);
    expect(svid.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);

    const parsed = new x509.X509Certificate(svid.certDer);
    expect(parsed.getExtension(x509.BasicConstraintsExtension)).toMatchObject({
      ca: false,
      critical: true,
    });
    expect(parsed.getExtension(x509.KeyUsagesExtension)).toMatchObject({
      usages: x509.KeyUsageFlags.digitalSignature,
      critical: true,
    });
    expect(parsed.getExtension(x509.ExtendedKeyUsageExtension)!.usages).toEqual([
      x509.ExtendedKeyUsage.serverAuth,
      x509.ExtendedKeyUsage.clientAuth,
    ]);
    expect(parsed.getExtension(x509.SubjectAlternativeNameExtension)!.critical).toBe(false);
  });

  it('honours validity, subject, SAN and extension overrides', async () => {
    const notBefore = new Date('2020-01-01T00:00:00Z');
    const notAfter = new Date('2020-01-02T00:00:00Z');
    const svid = await ca.issueSvid({
      uris: ['spiffe://td.test/a', 'https://x.test'],
      ipAddresses: ['127.0.0.1'],
      subject: '',
      notBefore,
      notAfter,
      keyUsages: 0,
      extendedKeyUsages: [],
      extraExtensions: [new x509.Extension('1.3.6.1.4.1.99999.1', true, new Uint8Array([5, 0]))],
    });
    expect(svid.spiffeId).toBeUndefined();
    const parsed = new x509.X509Certificate(svid.certDer);
    expect(parsed.notBefore).toEqual(notBefore);
    expect(parsed.notAfter).toEqual(notAfter);
    expect(parsed.subject).toBe('');
    const san = parsed.getExtension(x509.SubjectAlternativeNameExtension)!;
    expect(san.critical).toBe(true);
    expect(san.names.items.map((n) => `${n.type}:${n.value}`)).toEqual([
      'url:spiffe://td.test/a',
      'url:https://x.test',
      'ip:127.0.0.1',
    ]);
    expect(parsed.getExtension(x509.KeyUsagesExtension)).toBeNull();
    expect(parsed.getExtension(x509.ExtendedKeyUsageExtension)).toBeNull();
    expect(parsed.getExtension('1.3.6.1.4.1.99999.1')?.critical).toBe(true);

    const noSan = await ca.issueSvid({ uris: [] });
    expect(
      new x509.X509Certificate(noSan.certDer).getExtension(x509.SubjectAlternativeNameExtension),
    ).toBeNull();
  });

  it('a client SVID from the CA is authorized by a real TLS server', async () => {
    const client = await ca.issueSvid({ spiffeId: 'spiffe://td.test/ns/pay/sa/checkout' });
    const result = await handshake(ca, server, { cert: client.chainPem, key: client.keyPem });
    expect(result).toEqual({
      authorized: true,
      authorizationError: undefined,
      peerUris: ['URI:spiffe://td.test/ns/pay/sa/checkout'],
    });
  });

  it('a cert from another CA (same trust domain name) is not authorized', async () => {
    const stranger = await other.issueSvid();
    const result = await handshake(ca, server, { cert: stranger.chainPem, key: stranger.keyPem });
    expect(result.authorized).toBe(false);
    expect(result.authorizationError).toBeDefined();
  });

  it('no client certificate is not authorized', async () => {
    const result = await handshake(ca, server, undefined);
    expect(result.authorized).toBe(false);
    expect(result.peerUris).toEqual([]);
  });

  it('an expired SVID is rejected by the TLS server', async () => {
    const expired = await ca.issueSvid({
      notBefore: new Date(Date.now() - 7_200_000),
      notAfter: new Date(Date.now() - 3_600_000),
    });
    const result = await handshake(ca, server, { cert: expired.chainPem, key: expired.keyPem });
    expect(result.authorized).toBe(false);
    expect(result.authorizationError).toMatch(/CERT_HAS_EXPIRED|expired/);
  });

  it('with an intermediate, chainPem is leaf + intermediate and verifies over TLS', async () => {
    const ica = await createTestCa({ trustDomain: 'int.test', intermediate: true });
    expect(ica.intermediatePem).toBeDefined();
    const leaf = await ica.issueSvid();
    expect(leaf.chainDer).toHaveLength(2);
    expect(leaf.chainPem).toBe(leaf.certPem + ica.intermediatePem!);
    const intermediate = new X509Certificate(leaf.chainDer[1]!);
    expect(intermediate.ca).toBe(true);
    expect(new X509Certificate(leaf.certDer).checkIssued(intermediate)).toBe(true);
    const srv = await ica.issueSvid({ spiffeId: 'spiffe://int.test/server' });
    const result = await handshake(ica, srv, { cert: leaf.chainPem, key: leaf.keyPem });
    expect(result.authorized).toBe(true);
  });

  it('issuer option signs with a previously issued CA certificate', async () => {
    const sub = await ca.issueSvid({
      uris: ['spiffe://td.test'],
      isCa: true,
      keyUsages: x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
    });
    const leaf = await ca.issueSvid({ spiffeId: 'spiffe://td.test/deep', issuer: sub });
    expect(leaf.chainDer).toHaveLength(2);
    const result = await handshake(ca, server, { cert: leaf.chainPem, key: leaf.keyPem });
    expect(result.authorized).toBe(true);
  });
});
