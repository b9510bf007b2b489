import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestFacts } from '../../src/guard/request-facts.js';
import { factsFromIncomingMessage } from '../../src/http/incoming-message.js';

let server: Server;
let port: number;
let last: RequestFacts | undefined;
/** Node's own view of the same request, read after the facts were built. */
let lastDistinct: NodeJS.Dict<string[]> | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    last = factsFromIncomingMessage(req);
    lastDistinct = req.headersDistinct;
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Sends a raw HTTP/1.1 request (so the request-target and repeated headers go out verbatim). */
async function rawRequest(head: string): Promise<RequestFacts> {
  last = undefined;
  lastDistinct = undefined;
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () =>
      socket.write(`${head}\r\nConnection: close\r\n\r\n`),
    );
    socket.on('data', () => undefined);
    socket.on('end', () => resolve());
    socket.on('error', reject);
  });
  expect(last).toBeDefined();
  return last!;
}

describe('factsFromIncomingMessage', () => {
  it('keeps the raw request-target, method, host and addresses', async () => {
    const f = await rawRequest(
      'GET /public/../admin%2F?x=1 HTTP/1.1\r\nHost: Payments.Example:8443',
    );
    expect(f).toMatchObject({
      method: 'GET',
      path: '/public/../admin%2F?x=1',
      host: 'Payments.Example:8443',
      sourceIp: '127.0.0.1',
      destinationPort: port,
      destinationIp: '127.0.0.1',
    });
    expect(f.socket).toBeUndefined();
    expect(f.sni).toBeUndefined();
  });

  it('keeps an extension method as sent', async () => {
    const f = await rawRequest('PROPFIND / HTTP/1.1\r\nHost: h');
    expect(f.method).toBe('PROPFIND');
  });

  it('sees every repeated header, including a second Authorization', async () => {
    const f = await rawRequest(
      'GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer a.b.c\r\nAuthorization: Bearer d.e.f\r\nX-Role: a\r\nX-Role: b',
    );
    expect(f.headers['authorization']).toEqual(['Bearer a.b.c', 'Bearer d.e.f']);
    expect(f.headers['x-role']).toEqual(['a', 'b']);
  });

  it('a single header is a string; names are lower-case', async () => {
    const f = await rawRequest('GET / HTTP/1.1\r\nHost: h\r\nAUTHORIZATION: Bearer a.b.c');
    expect(f.headers['authorization']).toBe('Bearer a.b.c');
    expect(f.headers['host']).toBe('h');
  });

  it('a header named __proto__ is a header, twice an array, and no prototype is touched', async () => {
    const f = await rawRequest('GET / HTTP/1.1\r\nHost: h\r\n__proto__: a\r\n__Proto__: b');
    expect(Object.getPrototypeOf(f.headers)).toBeNull();
    expect(f.headers['__proto__']).toEqual(['a', 'b']);
    expect(f.headers['host']).toBe('h');
  });

  it('agrees with headersDistinct on a real request', async () => {
    const f = await rawRequest(
      'GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1\r\nCOOKIE: b=2\r\nX-A: 1\r\nAccept: */*',
    );
    const expected = Object.fromEntries(
      Object.entries(lastDistinct ?? {}).map(([k, v]) => [k, v?.length === 1 ? v[0] : v]),
    );
    expect({ ...f.headers }).toEqual(expected);
    expect(f.headers['cookie']).toEqual(['a=1', 'b=2']);
  });

  it('takes an explicit url over req.url', () => {
    const req = {
      headersDistinct: { host: ['h'] },
      method: 'GET',
      url: '/a',
      socket: { remoteAddress: '10.0.0.1', localPort: 80 },
    };
    const f = factsFromIncomingMessage(req as never, '/original');
    expect(f).toMatchObject({
      path: '/original',
      host: 'h',
      sourceIp: '10.0.0.1',
      destinationPort: 80,
    });
  });
});
