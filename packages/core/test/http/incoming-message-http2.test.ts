import type { IncomingMessage } from 'node:http';
import { connect, createServer, type Http2ServerRequest } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestFacts } from '../../src/guard/request-facts.js';
import { factsFromIncomingMessage } from '../../src/http/incoming-message.js';

// HTTP/2 (h2c here; the TLS side is the same object model): the compat request carries
// `:authority` instead of `Host`, and may lack headersDistinct.
let seen: RequestFacts | undefined;
const server = createServer((req: Http2ServerRequest, res) => {
  seen = factsFromIncomingMessage(req as unknown as IncomingMessage);
  res.end('ok');
});
let origin: string;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('factsFromIncomingMessage over HTTP/2', () => {
  it('reads the host from :authority, the method, the path and the headers', async () => {
    const client = connect(origin);
    await new Promise<void>((resolve, reject) => {
      const req = client.request({
        ':method': 'POST',
        ':path': '/a/../b?x=1',
        ':authority': 'payments.example:8443',
        'x-role': 'admin',
      });
      req.on('response', () => undefined);
      req.on('data', () => undefined);
      req.on('end', () => resolve());
      req.on('error', reject);
      req.end();
    });
    client.close();
    expect(seen).toMatchObject({
      method: 'POST',
      path: '/a/../b?x=1',
      host: 'payments.example:8443',
      sourceIp: '127.0.0.1',
    });
    expect(seen?.headers['x-role']).toBe('admin');
  });
});
