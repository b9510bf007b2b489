import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaFetch, createTestCa, type TestCa } from '../src/index.js';

interface Seen {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingMessage['headers'];
  body: string;
  clientAuthorized: boolean;
}

describe('createCaFetch', () => {
  let ca: TestCa;
  let server: https.Server;
  let base: string;
  let last: Seen | undefined;

  beforeAll(async () => {
    ca = await createTestCa({ trustDomain: 'td.test' });
    const svid = await ca.issueSvid({
      spiffeId: 'spiffe://td.test/server',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    server = https.createServer({
      key: svid.keyPem,
      cert: svid.chainPem,
      ca: ca.rootPem,
      requestCert: true,
      rejectUnauthorized: false,
    });
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        last = {
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
          clientAuthorized: (req.socket as TLSSocket).authorized,
        };
        if (req.url === '/redirect') {
          res.writeHead(302, { location: '/elsewhere' }).end();
        } else if (req.url === '/slow') {
          setTimeout(() => res.end('late'), 2_000).unref();
        } else if (req.url === '/empty') {
          res.writeHead(204).end();
        } else {
          res.setHeader('set-cookie', ['a=1', 'b=2']);
          res.writeHead(201, { 'content-type': 'application/json', 'x-test': 'yes' });
          res.end(JSON.stringify({ ok: true }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `https://localhost:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('returns a real Response with status, headers and body', async () => {
    const f = createCaFetch(ca.rootPem);
    const res = await f(`${base}/x?q=1`);
    expect(res).toBeInstanceOf(Response);
    expect(res.status).toBe(201);
    expect(res.ok).toBe(true);
    expect(res.url).toBe(`${base}/x?q=1`);
    expect(res.headers.get('x-test')).toBe('yes');
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await res.json()).toEqual({ ok: true });
    expect(last).toMatchObject({ method: 'GET', url: '/x?q=1', clientAuthorized: false });
  });

  it('honours method, headers and string / URLSearchParams / Uint8Array bodies', async () => {
    const f = createCaFetch([ca.rootPem]);
    await f(`${base}/p`, { method: 'POST', headers: { 'x-a': 'b' }, body: 'hello' });
    expect(last).toMatchObject({
      method: 'POST',
      body: 'hello',
      headers: { 'x-a': 'b', 'content-length': '5' },
    });

    await f(new URL(`${base}/p`), { method: 'POST', body: new URLSearchParams({ a: '1 2' }) });
    expect(last?.body).toBe('a=1+2');
    expect(last?.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);

    await f(new Request(`${base}/p`, { method: 'PUT', body: new Uint8Array([104, 105]) }));
    expect(last).toMatchObject({ method: 'PUT', body: 'hi' });
  });

  it('does not follow redirects and handles null-body statuses', async () => {
    const f = createCaFetch(ca.rootPem);
    const res = await f(`${base}/redirect`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/elsewhere');
    const empty = await f(`${base}/empty`);
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
  });

  it('presents a client certificate when given one', async () => {
    const client = await ca.issueSvid({ spiffeId: 'spiffe://td.test/client' });
    const f = createCaFetch(ca.rootPem, { cert: client.chainPem, key: client.keyPem });
    await f(`${base}/mtls`);
    expect(last).toMatchObject({ url: '/mtls', clientAuthorized: true });
  });

  it('rejects a server signed by another CA with TypeError("fetch failed")', async () => {
    const other = await createTestCa({ trustDomain: 'td.test' });
    const f = createCaFetch(other.rootPem);
    await expect(f(`${base}/x`)).rejects.toMatchObject({
      name: 'TypeError',
      message: 'fetch failed',
      cause: expect.objectContaining({ code: expect.stringMatching(/VERIFY|SIGNATURE|CERT/) }),
    });
  });

  it('honours AbortSignal', async () => {
    const f = createCaFetch(ca.rootPem);
    await expect(f(`${base}/slow`, { signal: AbortSignal.timeout(50) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(f(`${base}/x`, { signal: controller.signal })).rejects.toThrow('stop');
  });
});
