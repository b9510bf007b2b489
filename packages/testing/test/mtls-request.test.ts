import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, mtlsRequest, type Svid, type TestCa } from '../src/index.js';

const SERVER_ID = 'spiffe://td.test/ns/pay/sa/api';

describe('mtlsRequest', () => {
  let ca: TestCa;
  let client: Svid;
  let server: https.Server;
  let port: number;

  beforeAll(async () => {
    ca = await createTestCa({ trustDomain: 'td.test' });
    // URI SAN only: Node's default hostname check cannot accept this server.
    const svid = await ca.issueSvid({ spiffeId: SERVER_ID });
    client = await ca.issueSvid({ spiffeId: 'spiffe://td.test/ns/pay/sa/checkout' });
    server = https.createServer({
      key: svid.keyPem,
      cert: svid.chainPem,
      ca: ca.rootPem,
      requestCert: true,
      rejectUnauthorized: false,
    });
    server.on('request', (req, res) => {
      const socket = req.socket as TLSSocket;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            method: req.method,
            url: req.url,
            body: Buffer.concat(chunks).toString(),
            authorized: socket.authorized,
            peer: socket.getPeerX509Certificate()?.subjectAltName ?? null,
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('presents the client SVID and accepts the expected server SPIFFE ID', async () => {
    const res = await mtlsRequest(`https://127.0.0.1:${port}/hello`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'héllo',
      ca: ca.rootPem,
      cert: client.chainPem,
      key: client.keyPem,
      expectedServerId: SERVER_ID,
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json()).toEqual({
      method: 'POST',
      url: '/hello',
      body: 'héllo',
      authorized: true,
      peer: 'URI:spiffe://td.test/ns/pay/sa/checkout',
    });
  });

  it('sends the raw path as given (no normalization)', async () => {
    for (const path of ['/a/../b', '//x', '/a%2Fb', '/./c?x=%2F&y', '/']) {
      const res = await mtlsRequest(`https://127.0.0.1:${port}${path}`, {
        ca: ca.rootPem,
        expectedServerId: SERVER_ID,
      });
      expect(res.json<{ url: string }>().url).toBe(path);
    }
    const res = await mtlsRequest(`https://127.0.0.1:${port}`, {
      ca: ca.rootPem,
      expectedServerId: SERVER_ID,
      path: '/explicit/../path',
    });
    expect(res.json<{ url: string }>().url).toBe('/explicit/../path');
  });

  it('omitting cert sends no client certificate', async () => {
    const res = await mtlsRequest(`https://127.0.0.1:${port}/`, {
      ca: ca.rootPem,
      expectedServerId: SERVER_ID,
    });
    expect(res.json()).toMatchObject({ authorized: false, peer: null });
  });

  it('rejects a server with a different SPIFFE ID', async () => {
    await expect(
      mtlsRequest(`https://127.0.0.1:${port}/`, {
        ca: ca.rootPem,
        expectedServerId: 'spiffe://td.test/other',
      }),
    ).rejects.toMatchObject({ code: 'ERR_TLS_SPIFFE_ID_MISMATCH' });
  });

  it('without expectedServerId the default hostname check applies (URI SANs ignored)', async () => {
    await expect(
      mtlsRequest(`https://127.0.0.1:${port}/`, { ca: ca.rootPem }),
    ).rejects.toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  it('rejects a server whose chain does not reach the given CA', async () => {
    const other = await createTestCa({ trustDomain: 'td.test' });
    await expect(
      mtlsRequest(`https://127.0.0.1:${port}/`, { ca: other.rootPem, expectedServerId: SERVER_ID }),
    ).rejects.toBeInstanceOf(Error);
  });
});
