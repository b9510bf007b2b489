import type { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { startWorkloadAgent, type WorkloadAgent } from '@meshless/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createWorkloadApiClient,
  createWorkloadX509Source,
  type WorkloadApiError,
  type WorkloadX509Source,
} from '../../src/workload-api/index.js';
import { createPki, eventually, FAST_BACKOFF, recordEvents, type Pki } from './fixtures.js';

let pki: Pki;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  pki = await createPki();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function agentWith(
  svids: Awaited<ReturnType<Pki['issue']>>[],
  bundles: Record<string, Buffer> = { 'td.test': pki.ca.rootDer },
): Promise<WorkloadAgent> {
  const agent = await startWorkloadAgent({ x509Context: { svids, bundles } });
  cleanups.push(() => agent.close());
  return agent;
}

async function sourceFor(
  agent: WorkloadAgent,
  options: Parameters<typeof createWorkloadX509Source>[0] = {},
): Promise<WorkloadX509Source> {
  const source = await createWorkloadX509Source({
    address: agent.address,
    backoff: FAST_BACKOFF,
    ...options,
  });
  cleanups.push(() => source.close());
  return source;
}

function pem(certs: readonly X509Certificate[]): string {
  return certs.map((c) => c.toString()).join('\n');
}

describe('createWorkloadX509Source: first update', () => {
  it('resolves with the first SVID (id, chain, key) and the bundle', async () => {
    const svid = await pki.issue('/api');
    const agent = await agentWith([svid]);
    const source = await sourceFor(agent);

    const current = source.getX509Svid();
    expect(current.id.toString()).toBe('spiffe://td.test/api');
    expect(current.certificates.map((c) => c.raw)).toEqual(svid.chainDer);
    expect(current.certificates[0]!.checkPrivateKey(current.privateKey)).toBe(true);
    expect(current.certChainPem).toBe(svid.chainPem);
    expect(source.trustDomains()).toEqual(['td.test']);
    expect(source.getBundleFor('td.test')!.authorities[0]!.raw).toEqual(pki.ca.rootDer);
    expect(source.getBundleFor('other.test')).toBeUndefined();
    expect(agent.requests).toEqual([
      expect.objectContaining({ method: 'FetchX509SVID', securityHeader: true }),
    ]);
  });

  it('serves a real mTLS handshake with the SVID and bundle it received', async () => {
    const agent = await agentWith([await pki.issue('/server')]);
    const source = await sourceFor(agent);
    const svid = source.getX509Svid();
    const server = createServer({
      key: svid.privateKeyPem,
      cert: svid.certChainPem,
      ca: pem(source.getBundleFor('td.test')!.authorities),
      requestCert: true,
      rejectUnauthorized: true,
    });
    const seen: string[] = [];
    server.on('secureConnection', (socket: TLSSocket) => {
      seen.push(socket.getPeerX509Certificate()?.subjectAltName ?? '');
      socket.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));

    const client = await pki.issue('/client');
    const { port } = server.address() as AddressInfo;
    const reply = await new Promise<{ authorized: boolean; san: string; body: string }>(
      (resolve, reject) => {
        const socket = connect({
          host: '127.0.0.1',
          port,
          key: client.keyPem,
          cert: client.chainPem,
          ca: pki.ca.rootPem,
          checkServerIdentity: () => undefined,
        });
        let body = '';
        socket.on('data', (d: Buffer) => (body += d.toString()));
        socket.on('end', () =>
          resolve({
            authorized: socket.authorized,
            san: socket.getPeerX509Certificate()?.subjectAltName ?? '',
            body,
          }),
        );
        socket.on('error', reject);
      },
    );
    expect(reply).toEqual({
      authorized: true,
      san: expect.stringContaining('URI:spiffe://td.test/server'),
      body: 'ok',
    });
    expect(seen).toEqual([expect.stringContaining('URI:spiffe://td.test/client')]);
  });

  it('takes the first SVID as default, or the picker choice (hints)', async () => {
    const agent = await agentWith([
      await pki.issue('/internal', 'internal'),
      await pki.issue('/external', 'external'),
    ]);
    const byDefault = await sourceFor(agent);
    expect(byDefault.getX509Svid()).toMatchObject({ hint: 'internal' });
    expect(byDefault.getX509Svids().map((s) => s.id.toString())).toEqual([
      'spiffe://td.test/internal',
      'spiffe://td.test/external',
    ]);
    const picked = await sourceFor(agent, {
      picker: (svids) => svids.find((s) => s.hint === 'external'),
    });
    expect(picked.getX509Svid().id.toString()).toBe('spiffe://td.test/external');
    const none = await sourceFor(agent, { picker: () => undefined });
    expect(() => none.getX509Svid()).toThrow(
      expect.objectContaining({ code: 'ERR_WORKLOAD_API_NO_SVID' }),
    );
  });

  it('retries PermissionDenied (not registered yet) until an identity is issued', async () => {
    const agent = await agentWith([await pki.issue()]);
    agent.failWith('FetchX509SVID', { code: 7, details: 'no identity issued' });
    const pending = sourceFor(agent);
    await eventually(() => agent.requestCount('FetchX509SVID') >= 3);
    agent.failWith('FetchX509SVID', undefined);
    const source = await pending;
    expect(source.getX509Svid().id.toString()).toBe('spiffe://td.test/api');
  });

  it('rejects with ERR_WORKLOAD_API_TIMEOUT, the last watch error as cause', async () => {
    const agent = await agentWith([await pki.issue()]);
    agent.failWith('FetchX509SVID', { code: 7, details: 'no identity issued' });
    const error = await sourceFor(agent, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ERR_WORKLOAD_API_TIMEOUT',
      cause: { code: 'ERR_WORKLOAD_API_RPC', grpcCode: 7, willRetry: true },
    });
    // The watch was cancelled: no more requests after the rejection.
    const count = agent.requestCount('FetchX509SVID');
    await new Promise((r) => setTimeout(r, 250));
    expect(agent.requestCount('FetchX509SVID')).toBe(count);
  });

  it('rejects at once on InvalidArgument, without retrying', async () => {
    const agent = await agentWith([await pki.issue()]);
    agent.failWith('FetchX509SVID', { code: 3, details: 'security header missing from request' });
    const started = Date.now();
    const error = await sourceFor(agent, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toMatchObject({
      code: 'ERR_WORKLOAD_API_RPC',
      grpcCode: 3,
      willRetry: false,
      message: expect.stringContaining('security header missing from request'),
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(agent.requestCount('FetchX509SVID')).toBe(1);
  });

  it('rejects when the signal aborts before the first update', async () => {
    const agent = await agentWith([await pki.issue()]);
    agent.failWith('FetchX509SVID', { code: 14, details: 'starting' });
    const controller = new AbortController();
    const pending = sourceFor(agent, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ code: 'ERR_WORKLOAD_API_CLOSED' });
  });
});

describe('createWorkloadX509Source: updates', () => {
  it('applies rotations pushed by the agent and notifies subscribers', async () => {
    const agent = await agentWith([await pki.issue()]);
    const source = await sourceFor(agent);
    const { events, listener } = recordEvents();
    source.subscribe(listener);
    const before = source.getX509Svid().certificates[0]!.serialNumber;

    for (let i = 0; i < 3; i++) agent.rotate([await pki.issue()]);
    await eventually(() => events.length === 3);
    expect(events).toEqual([{ type: 'updated' }, { type: 'updated' }, { type: 'updated' }]);
    expect(source.getX509Svid().certificates[0]!.serialNumber).not.toBe(before);
    expect(agent.openStreams('FetchX509SVID')).toBe(1);
  });

  it('removes a trust domain missing from a later message (full state)', async () => {
    const agent = await agentWith([await pki.issue()], {
      'td.test': pki.ca.rootDer,
      'fed.test': pki.fed.rootDer,
    });
    const source = await sourceFor(agent);
    expect(source.trustDomains().sort()).toEqual(['fed.test', 'td.test']);
    expect(source.getBundleFor('fed.test')!.authorities[0]!.raw).toEqual(pki.fed.rootDer);

    const { events, listener } = recordEvents();
    source.subscribe(listener);
    agent.rotate([await pki.issue()], { 'td.test': pki.ca.rootDer });
    await eventually(() => events.length === 1);
    expect(source.trustDomains()).toEqual(['td.test']);
    expect(source.getBundleFor('fed.test')).toBeUndefined();
  });

  it('reports an invalid message, keeps the previous state and the stream', async () => {
    const agent = await agentWith([await pki.issue('/api')]);
    const source = await sourceFor(agent);
    const { events, listener } = recordEvents();
    source.subscribe(listener);
    const good = await pki.issue('/api');
    agent.rotate([{ ...good, spiffeId: 'spiffe://td.test/someone-else' }]);
    await eventually(() => events.length === 1);
    expect(events[0]).toMatchObject({
      type: 'error',
      error: { code: 'ERR_WORKLOAD_API_INVALID_RESPONSE', willRetry: true },
    });
    expect(source.getX509Svid().id.toString()).toBe('spiffe://td.test/api');
    agent.rotate([good]);
    await eventually(() => events.length === 2);
    expect(events[1]).toEqual({ type: 'updated' });
    expect(source.getX509Svid().certificates[0]!.raw).toEqual(good.chainDer[0]);
    expect(agent.requestCount('FetchX509SVID')).toBe(1);
  });

  it('reconnects after the agent is stopped and restarted on the same socket', async () => {
    const agent = await agentWith([await pki.issue()]);
    const source = await sourceFor(agent);
    const { events, listener } = recordEvents();
    source.subscribe(listener);

    await agent.stop();
    await eventually(() => events.some((e) => e.type === 'error'));
    expect(events[0]).toMatchObject({
      type: 'error',
      error: { code: 'ERR_WORKLOAD_API_RPC', grpcCode: 14, willRetry: true },
    });
    // Stale but usable while the agent is away.
    expect(source.getX509Svid().id.toString()).toBe('spiffe://td.test/api');
    await eventually(() => agent.requestCount('FetchX509SVID') === 1 && events.length >= 3);

    const next = await pki.issue('/api');
    agent.rotate([next]);
    await agent.restart();
    await eventually(() => events.some((e) => e.type === 'updated'));
    expect(source.getX509Svid().certificates[0]!.raw).toEqual(next.chainDer[0]);
    expect(agent.requestCount('FetchX509SVID')).toBe(2);
  });

  it('calls a listener subscribed twice once per event; unsubscribe works', async () => {
    const agent = await agentWith([await pki.issue()]);
    const source = await sourceFor(agent);
    const { events, listener } = recordEvents();
    const offA = source.subscribe(listener);
    const offB = source.subscribe(listener);
    agent.rotate([await pki.issue()]);
    await eventually(() => events.length === 1);
    offA();
    agent.rotate([await pki.issue()]);
    await eventually(() => events.length === 2);
    offB();
    agent.rotate([await pki.issue()]);
    await new Promise((r) => setTimeout(r, 100));
    expect(events).toHaveLength(2);
  });
});

describe('createWorkloadX509Source: close', () => {
  it('stops the stream, fails closed, and leaves a shared client open', async () => {
    const agent = await agentWith([await pki.issue()]);
    const client = createWorkloadApiClient({ address: agent.address, backoff: FAST_BACKOFF });
    cleanups.push(() => client.close());
    const source = await createWorkloadX509Source({ client });
    await eventually(() => agent.openStreams('FetchX509SVID') === 1);

    source.close();
    source.close();
    expect(source.closed).toBe(true);
    await eventually(() => agent.openStreams('FetchX509SVID') === 0);
    expect(() => source.getX509Svid()).toThrow(
      expect.objectContaining({ code: 'ERR_WORKLOAD_API_CLOSED' }),
    );
    expect(source.getBundleFor('td.test')).toBeUndefined();
    expect(source.trustDomains()).toEqual([]);
    expect(client.closed).toBe(false);
    await expect(client.fetchX509Context()).resolves.toMatchObject({ svids: [expect.anything()] });
  });

  it('closes when its signal aborts', async () => {
    const agent = await agentWith([await pki.issue()]);
    const controller = new AbortController();
    const source = await sourceFor(agent, { signal: controller.signal });
    controller.abort();
    expect(source.closed).toBe(true);
    await eventually(() => agent.openStreams() === 0);
  });

  it('releases every handle it opened', async () => {
    const agent = await agentWith([await pki.issue()]);
    const handles = (): number =>
      process
        .getActiveResourcesInfo()
        .filter((r) => r !== 'TTYWrap' && r !== 'FSReqCallback' && r !== 'Immediate').length;
    await new Promise((r) => setTimeout(r, 20));
    const baseline = handles();

    const source = await sourceFor(agent);
    agent.rotate([await pki.issue()]);
    await agent.stop();
    await agent.restart();
    await eventually(() => agent.openStreams('FetchX509SVID') === 1);
    expect(handles()).toBeGreaterThan(baseline);
    source.close();
    let watchError: WorkloadApiError | undefined;
    await eventually(() => handles() <= baseline, 3000).catch((e: Error) => {
      watchError = e as WorkloadApiError;
    });
    expect(watchError, process.getActiveResourcesInfo().join(',')).toBeUndefined();
  });
});
