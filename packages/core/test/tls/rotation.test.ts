import { createServer, request, type Agent, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createTestCa, type TestCa } from '@meshless/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard, type Guard } from '../../src/guard/guard.js';
import { factsFromIncomingMessage } from '../../src/http/incoming-message.js';
import { matchId } from '../../src/identity/matchers.js';
import { parseSpiffeId } from '../../src/identity/spiffe-id.js';
import { createMtlsAgent } from '../../src/tls/client-options.js';
import { mtlsServerOptions } from '../../src/tls/server-options.js';
import { keepServerInSync, type ServerSync } from '../../src/tls/server-sync.js';
import { memoryBundleSource, memoryX509Source } from '../helpers/memory-sources.js';

const TD = 'example.org';
const SERVER_ID = `spiffe://${TD}/ns/payments/sa/payment-processor`;
const CLIENT_ID = `spiffe://${TD}/ns/payments/sa/checkout`;
const OLD_CLIENT_ID = `spiffe://${TD}/ns/payments/sa/legacy`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let ca1: TestCa, ca2: TestCa, ca3: TestCa;
let server: Server;
let sync: ServerSync;
let guard: Guard;
let port: number;
const svidFor = async (ca: TestCa, id: string, serverCert = false) => {
  const s = await ca.issueSvid({
    spiffeId: id,
    ...(serverCert ? { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] } : {}),
  });
  return { chainPem: s.chainPem, keyPem: s.keyPem };
};

let serverSvid: ReturnType<typeof memoryX509Source>;
let bundles: ReturnType<typeof memoryBundleSource>;

beforeAll(async () => {
  const cas = await Promise.all(
    [1, 2, 3].map((n) => createTestCa({ trustDomain: TD, name: `CN=${TD} CA ${n}` })),
  );
  [ca1, ca2, ca3] = cas as [TestCa, TestCa, TestCa];
  serverSvid = memoryX509Source(await svidFor(ca1, SERVER_ID, true));
  // CA 2 is being phased out: its clients are trusted until it leaves the bundle.
  bundles = memoryBundleSource({ [TD]: [ca1.rootPem, ca2.rootPem] });
  guard = await createGuard({
    workload: { namespace: 'payments', trustDomain: TD },
    trustBundles: bundles,
  });
  server = createServer(
    { ...mtlsServerOptions({ svid: serverSvid, bundles }, 'STRICT'), keepAliveTimeout: 30_000 },
    (req, res) => {
      void guard.check(factsFromIncomingMessage(req)).then((d) => {
        res.statusCode = d.status;
        res.end(JSON.stringify({ principal: d.principal, reason: d.reason }));
      });
    },
  );
  sync = keepServerInSync(server, { svid: serverSvid, bundles });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  sync.close();
  guard.close?.();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function get(agent: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/', agent, servername: 'localhost' },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('rotation under continuous requests', () => {
  it('valid peers see no failed request; a peer whose CA was removed is cut off within a second', async () => {
    const clientSvid = memoryX509Source(await svidFor(ca1, CLIENT_ID));
    const legacySvid = memoryX509Source(await svidFor(ca2, OLD_CLIENT_ID));
    const authorize = matchId(parseSpiffeId(SERVER_ID));
    const agent = createMtlsAgent(
      { svid: clientSvid, bundles, authorize },
      { keepAlive: true, maxSockets: 4 },
    );
    const legacyAgent = createMtlsAgent(
      { svid: legacySvid, bundles, authorize },
      { keepAlive: true, maxSockets: 1 },
    );

    // Continuous load from the valid client: 4 loops, every response recorded.
    const failures: string[] = [];
    let ok = 0;
    let running = true;
    const loops = Array.from({ length: 4 }, async () => {
      while (running) {
        try {
          const res = await get(agent);
          if (res.status === 200 && res.body.includes(CLIENT_ID)) ok++;
          else failures.push(`${res.status} ${res.body}`);
        } catch (error) {
          failures.push(String(error));
        }
      }
    });

    // The legacy client (CA 2) keeps a keep-alive connection busy.
    let legacyCutAt: number | undefined;
    let legacyOk = 0;
    const legacyLoop = (async () => {
      while (running && legacyCutAt === undefined) {
        try {
          const res = await get(legacyAgent);
          if (res.status === 200) legacyOk++;
          else legacyCutAt = Date.now();
        } catch {
          legacyCutAt = Date.now();
        }
        await sleep(20);
      }
    })();

    await sleep(150);
    // Rotate the server and client SVIDs several times (same CA).
    for (let i = 0; i < 3; i++) {
      serverSvid.set(await svidFor(ca1, SERVER_ID, true));
      clientSvid.set(await svidFor(ca1, CLIENT_ID));
      await sleep(100);
    }
    // Bundle rotation: add CA 3, move both sides to CA 3, then drop CA 1.
    bundles.set({ [TD]: [ca1.rootPem, ca2.rootPem, ca3.rootPem] });
    await sleep(100);
    serverSvid.set(await svidFor(ca3, SERVER_ID, true));
    clientSvid.set(await svidFor(ca3, CLIENT_ID));
    await sleep(300);
    bundles.set({ [TD]: [ca2.rootPem, ca3.rootPem] });
    await sleep(200);
    expect(legacyOk).toBeGreaterThan(0);
    expect(legacyCutAt).toBeUndefined();

    // Now CA 2 leaves the bundle: the legacy client's open connection must be cut at once.
    const removedAt = Date.now();
    bundles.set({ [TD]: [ca3.rootPem] });
    await sleep(1_000);
    running = false;
    await Promise.all([...loops, legacyLoop]);
    agent.close();
    legacyAgent.close();

    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(50);
    expect(legacyCutAt).toBeDefined();
    expect(legacyCutAt! - removedAt).toBeLessThan(1_000);
    // And it cannot come back: a new handshake with a CA 2 certificate is refused.
    const again = createMtlsAgent({ svid: legacySvid, bundles, authorize });
    await expect(get(again)).rejects.toThrow();
    again.close();
  }, 20_000);
});
