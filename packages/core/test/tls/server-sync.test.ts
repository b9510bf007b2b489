import { createServer, request, type Agent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Agent as HttpsAgent } from 'node:https';
import { createTestCa } from '@meshless/testing';
import { describe, expect, it } from 'vitest';
import { keepServerInSync } from '../../src/tls/server-sync.js';
import { mtlsServerOptions } from '../../src/tls/server-options.js';
import { memoryBundleSource, memoryX509Source } from '../helpers/memory-sources.js';

function get(port: number, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/', agent, servername: 'localhost' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .end();
  });
}

describe('keepServerInSync', () => {
  it('keeps connections of DNS-identified peers across an SVID rotation; cuts them when their CA leaves', async () => {
    const ca = await createTestCa({ trustDomain: 'example.org' });
    const issue = async () => {
      const s = await ca.issueSvid({
        spiffeId: 'spiffe://example.org/server',
        dnsNames: ['localhost'],
      });
      return { chainPem: s.chainPem, keyPem: s.keyPem };
    };
    const svid = memoryX509Source(await issue());
    const bundles = memoryBundleSource({ 'example.org': [ca.rootPem] });
    const server = createServer(
      { ...mtlsServerOptions({ svid, bundles }, 'STRICT'), keepAliveTimeout: 30_000 },
      (_req, res) => res.end('ok'),
    );
    const sync = keepServerInSync(server, { svid, bundles, identityFrom: ['spiffe', 'dns'] });
    let connections = 0;
    server.on('secureConnection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const legacy = await ca.issueSvid({ uris: [], dnsNames: ['legacy.payments.svc'] });
    const agent = new HttpsAgent({
      keepAlive: true,
      maxSockets: 1,
      ca: ca.rootPem,
      cert: legacy.chainPem,
      key: legacy.keyPem,
    });

    expect(await get(port, agent)).toBe(200);
    svid.set(await issue());
    expect(await get(port, agent)).toBe(200);
    expect(connections).toBe(1); // same connection: not cut by the rotation

    const other = await createTestCa({ trustDomain: 'example.org' });
    bundles.set({ 'example.org': [other.rootPem] });
    await new Promise((r) => setTimeout(r, 50));
    await expect(get(port, agent)).rejects.toThrow(); // cut, and a new handshake is refused

    agent.destroy();
    sync.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
});
