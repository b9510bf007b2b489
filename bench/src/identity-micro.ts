/**
 * The identity stage alone, in process: `guard.check` on a real, verified TLS socket (keep-alive,
 * so the per-socket cache answers), with the identity stage on (STRICT, a policy on the
 * principal) and off (DISABLE, the same policy without `from`). Load tests over loopback on a
 * shared machine cannot resolve a difference of a fraction of a microsecond; this can.
 */
import { Agent, createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createGuard, type GuardOptions, type RequestFacts } from '@meshless/core';
import { createTestCa } from '@meshless/testing';

export interface IdentityMicro {
  /** ns per `guard.check` without the identity stage. */
  withoutIdentityNs: number;
  /** ns per `guard.check` with it. */
  withIdentityNs: number;
}

const ROUNDS = 5;
const CHECKS_PER_ROUND = 100_000;

async function bestNsPerCheck(options: GuardOptions, facts: RequestFacts): Promise<number> {
  const guard = await createGuard(options);
  const first = await guard.check(facts);
  if (!first.allow) throw new Error(`identity micro-benchmark misconfigured: ${first.reason}`);
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < CHECKS_PER_ROUND; i++) await guard.check(facts);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / CHECKS_PER_ROUND);
  }
  return best;
}

export async function measureIdentityStage(): Promise<IdentityMicro> {
  const ca = await createTestCa({ trustDomain: 'example.org' });
  const server = await ca.issueSvid({
    spiffeId: 'spiffe://example.org/ns/payments/sa/api',
    dnsNames: ['localhost'],
  });
  const client = await ca.issueSvid({ spiffeId: 'spiffe://example.org/ns/payments/sa/checkout' });
  let socket: TLSSocket | undefined;
  const https = createServer(
    {
      key: server.keyPem,
      cert: server.chainPem,
      ca: ca.rootPem,
      requestCert: true,
      keepAliveTimeout: 60_000,
    },
    (req, res) => {
      socket = req.socket as TLSSocket;
      res.end('ok');
    },
  );
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  const port = (https.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true });
  await new Promise<void>((resolve, reject) => {
    request(
      {
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        agent,
        ca: ca.rootPem,
        cert: client.chainPem,
        key: client.keyPem,
      },
      (res) => {
        res.resume();
        res.on('end', resolve);
      },
    )
      .on('error', reject)
      .end();
  });
  if (!socket) throw new Error('identity micro-benchmark: no server socket');
  const facts: RequestFacts = {
    method: 'GET',
    path: '/hello',
    host: 'localhost',
    headers: { host: 'localhost' },
    sourceIp: '127.0.0.1',
    destinationPort: port,
    socket,
  };
  const policy = (withPrincipal: boolean) => ({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'bench', namespace: 'payments' },
    spec: {
      rules: [
        {
          ...(withPrincipal
            ? { from: [{ source: { principals: ['cluster.local/ns/payments/sa/checkout'] } }] }
            : {}),
          to: [{ operation: { methods: ['GET'], paths: ['/hello'] } }],
        },
      ],
    },
  });
  const base = {
    workload: { namespace: 'payments', trustDomain: 'example.org' },
    trustBundles: { 'example.org': ca.rootPem },
  };
  const withoutIdentityNs = await bestNsPerCheck(
    { ...base, mtls: { mode: 'DISABLE' }, policies: [policy(false)] },
    facts,
  );
  const withIdentityNs = await bestNsPerCheck(
    { ...base, mtls: { mode: 'STRICT' }, policies: [policy(true)] },
    facts,
  );
  agent.destroy();
  https.closeAllConnections();
  await new Promise((resolve) => https.close(resolve));
  return { withoutIdentityNs, withIdentityNs };
}
