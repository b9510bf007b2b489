import { request as httpRequest } from 'node:http';
import { createServer, request, type Agent, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createTestCa, type TestCa } from '@meshless/testing';
import { Agent as UndiciAgent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard } from '../../src/guard/guard.js';
import { factsFromIncomingMessage } from '../../src/http/incoming-message.js';
import { matchId, matchMemberOf } from '../../src/identity/matchers.js';
import { parseSpiffeId, parseTrustDomain } from '../../src/identity/spiffe-id.js';
import { createMtlsAgent, mtlsClientOptions } from '../../src/tls/client-options.js';
import { createPermissiveServer } from '../../src/tls/permissive-server.js';
import { mtlsServerOptions } from '../../src/tls/server-options.js';
import { memoryBundleSource, memoryX509Source } from '../helpers/memory-sources.js';

const TD = 'example.org';
const SERVER_ID = `spiffe://${TD}/ns/payments/sa/payment-processor`;
let ca: TestCa;
let other: TestCa;
let bundles: ReturnType<typeof memoryBundleSource>;
let clientSvid: ReturnType<typeof memoryX509Source>;

function get(port: number, agent: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  ca = await createTestCa({ trustDomain: TD });
  other = await createTestCa({ trustDomain: 'other.test' });
  bundles = memoryBundleSource({ [TD]: [ca.rootPem], 'other.test': [other.rootPem] });
  const c = await ca.issueSvid({ spiffeId: `spiffe://${TD}/ns/payments/sa/checkout` });
  clientSvid = memoryX509Source({ chainPem: c.chainPem, keyPem: c.keyPem });
});

describe('outbound mTLS: the server is authorized by SPIFFE ID', () => {
  const servers: Server[] = [];
  const serve = async (svid: { chainPem: string; keyPem: string }) => {
    const server = createServer(
      mtlsServerOptions({ svid: memoryX509Source(svid), bundles }, 'STRICT'),
      (req, res) => res.end('hello'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    return (server.address() as AddressInfo).port;
  };
  afterAll(() => servers.forEach((s) => s.close()));

  it('a server with the expected SPIFFE ID (URI SAN only, no DNS name) is reached with https.Agent and with fetch', async () => {
    const s = await ca.issueSvid({ spiffeId: SERVER_ID });
    const port = await serve({ chainPem: s.chainPem, keyPem: s.keyPem });
    const authorize = matchId(parseSpiffeId(SERVER_ID));
    const agent = createMtlsAgent({ svid: clientSvid, bundles, authorize });
    expect(await get(port, agent)).toEqual({ status: 200, body: 'hello' });
    agent.close();
    const dispatcher = new UndiciAgent({
      connect: mtlsClientOptions({ svid: clientSvid, bundles, authorize }),
    });
    const res = await undiciFetch(`https://127.0.0.1:${port}/`, { dispatcher });
    expect(await res.text()).toBe('hello');
    await dispatcher.close();
  });

  it('a server with another SPIFFE ID is refused during the handshake', async () => {
    const s = await ca.issueSvid({ spiffeId: `spiffe://${TD}/ns/web/sa/impostor` });
    const port = await serve({ chainPem: s.chainPem, keyPem: s.keyPem });
    const agent = createMtlsAgent({
      svid: clientSvid,
      bundles,
      authorize: matchId(parseSpiffeId(SERVER_ID)),
    });
    await expect(get(port, agent)).rejects.toMatchObject({ code: 'ERR_TLS_SERVER_NOT_AUTHORIZED' });
    agent.close();
  });

  it("a server of trust domain A presenting B's ID signed by A's root is refused (trust domain binding)", async () => {
    const forged = await other.issueSvid({ spiffeId: SERVER_ID }); // other.test's CA claims example.org
    const port = await serve({ chainPem: forged.chainPem, keyPem: forged.keyPem });
    const agent = createMtlsAgent({
      svid: clientSvid,
      bundles,
      authorize: matchMemberOf(parseTrustDomain(TD)),
    });
    await expect(get(port, agent)).rejects.toMatchObject({ code: 'ERR_TLS_SERVER_UNTRUSTED' });
    agent.close();
  });
});

describe('PERMISSIVE: TLS and plaintext on one port', () => {
  it('a plaintext request and an mTLS request reach the same handler; the guard sees the identity only over mTLS', async () => {
    const s = await ca.issueSvid({ spiffeId: SERVER_ID });
    const svid = memoryX509Source({ chainPem: s.chainPem, keyPem: s.keyPem });
    const guard = await createGuard({
      workload: { namespace: 'payments', trustDomain: TD },
      trustBundles: bundles,
      mtls: { mode: 'PERMISSIVE' },
    });
    const { server } = createPermissiveServer(
      mtlsServerOptions({ svid, bundles }, 'PERMISSIVE'),
      (req, res) => {
        void guard
          .check(factsFromIncomingMessage(req))
          .then((d) =>
            res.end(
              JSON.stringify({ principal: d.principal ?? null, source: req.socket.remoteAddress }),
            ),
          );
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;

    const plain = await new Promise<string>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port, path: '/' }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      })
        .on('error', reject)
        .end();
    });
    expect(JSON.parse(plain)).toEqual({ principal: null, source: '127.0.0.1' });

    const agent = createMtlsAgent({
      svid: clientSvid,
      bundles,
      authorize: matchId(parseSpiffeId(SERVER_ID)),
    });
    const tls = await get(port, agent);
    expect(JSON.parse(tls.body)).toEqual({
      principal: `spiffe://${TD}/ns/payments/sa/checkout`,
      source: '127.0.0.1',
    });
    agent.close();
    await new Promise((resolve) => server.close(resolve));
  });
});
