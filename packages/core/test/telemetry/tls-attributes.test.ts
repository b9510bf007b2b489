import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type TLSSocket } from 'node:tls';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createTestCa } from '@meshless/testing';
import { describe, expect, it } from 'vitest';
import { createGuard } from '../../src/guard/guard.js';
import * as A from '../../src/telemetry/attributes.js';

describe('authn.mtls: tls.* attributes of the connection (OTel semantic conventions)', () => {
  it('records protocol, cipher, resumption and the client certificate hash, never the certificate', async () => {
    const ca = await createTestCa({ trustDomain: 'example.org' });
    const server = await ca.issueSvid({ spiffeId: 'spiffe://example.org/ns/payments/sa/api' });
    const client = await ca.issueSvid({ spiffeId: 'spiffe://example.org/ns/shop/sa/checkout' });
    const accepted = new Promise<TLSSocket>((resolve) => {
      const tls = createServer(
        { key: server.keyPem, cert: server.chainPem, ca: ca.rootPem, requestCert: true },
        (socket) => resolve(socket),
      );
      tls.listen(0, '127.0.0.1', () => {
        const port = (tls.address() as AddressInfo).port;
        const c = connect({
          port,
          host: '127.0.0.1',
          key: client.keyPem,
          cert: client.chainPem,
          ca: ca.rootPem,
          checkServerIdentity: () => undefined,
        });
        c.on('secureConnect', () => setTimeout(() => (c.destroy(), tls.close()), 200));
      });
    });
    const socket = await accepted;
    const exporter = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const guard = await createGuard({
      workload: { namespace: 'payments', trustDomain: 'example.org' },
      trustBundles: { 'example.org': ca.rootPem },
      telemetry: { tracerProvider },
    });
    const decision = await guard.check({
      method: 'GET',
      path: '/',
      host: 'api',
      headers: {},
      sourceIp: '127.0.0.1',
      destinationPort: 8443,
      socket,
    });
    expect(decision).toMatchObject({ allow: true, principal: client.spiffeId });
    const span = exporter.getFinishedSpans().find((s) => s.name === A.SPAN_AUTHN_MTLS);
    const fingerprint = new X509Certificate(client.certPem).fingerprint256.replaceAll(':', '');
    expect(span?.attributes).toMatchObject({
      [A.ATTR_TLS_PROTOCOL_NAME]: 'tls',
      [A.ATTR_TLS_PROTOCOL_VERSION]: '1.3',
      [A.ATTR_TLS_RESUMED]: false,
      [A.ATTR_TLS_CLIENT_HASH_SHA256]: fingerprint,
    });
    expect(span?.attributes[A.ATTR_TLS_CIPHER]).toMatch(/^TLS_[A-Z0-9_]+$/);
    const text = JSON.stringify(exporter.getFinishedSpans().map((s) => s.attributes));
    expect(text).not.toContain('BEGIN CERTIFICATE');
    expect(text).not.toContain(client.certDer.toString('base64').slice(0, 40));
    await tracerProvider.shutdown();
  });
});
