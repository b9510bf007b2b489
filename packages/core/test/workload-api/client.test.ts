import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startWorkloadAgent, type WorkloadAgent } from '@meshless/testing';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseSpiffeId } from '../../src/identity/spiffe-id.js';
import {
  createWorkloadApiClient,
  type JwtBundleSet,
  type WorkloadApiClient,
  type WorkloadApiError,
  type X509Context,
} from '../../src/workload-api/index.js';
import { loadWorkloadApiDefinition } from '../../src/workload-api/proto.js';
import { createPki, eventually, FAST_BACKOFF, sleep, type Pki } from './fixtures.js';

let pki: Pki;
let agent: WorkloadAgent;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  pki = await createPki();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A Workload API server that accepts every call and never answers. */
async function startSilentServer(): Promise<{ address: string; calls: () => number }> {
  const dir = await mkdtemp(join(tmpdir(), 'meshless-silent-'));
  const server = new grpc.Server();
  let calls = 0;
  const service = loadWorkloadApiDefinition()['SpiffeWorkloadAPI'] as grpc.ServiceDefinition;
  const hang = (): void => {
    calls++;
  };
  server.addService(service, {
    FetchX509SVID: hang,
    FetchX509Bundles: hang,
    FetchJWTSVID: hang,
    FetchJWTBundles: hang,
    ValidateJWTSVID: hang,
  });
  const address = `unix://${join(dir, 'silent.sock')}`;
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (e) =>
      e ? reject(e) : resolve(),
    ),
  );
  cleanups.push(async () => {
    server.forceShutdown();
    await rm(dir, { recursive: true, force: true });
  });
  return { address, calls: () => calls };
}

async function setup(): Promise<WorkloadApiClient> {
  agent = await startWorkloadAgent({
    x509Context: {
      svids: [await pki.issue('/api'), await pki.issue('/batch', 'batch')],
      bundles: { 'td.test': pki.ca.rootDer, 'fed.test': pki.fed.rootDer },
    },
  });
  cleanups.push(() => agent.close());
  const client = createWorkloadApiClient({ address: agent.address, backoff: FAST_BACKOFF });
  cleanups.push(() => client.close());
  return client;
}

describe('security header', () => {
  it('the agent refuses a call without workload.spiffe.io: true (INVALID_ARGUMENT)', async () => {
    await setup();
    const service = loadWorkloadApiDefinition()['SpiffeWorkloadAPI'] as grpc.ServiceDefinition;
    const method = service['FetchX509SVID']!;
    const raw = new grpc.Client(`unix:${agent.socketPath}`, grpc.credentials.createInsecure());
    cleanups.push(() => raw.close());
    const status = await new Promise<grpc.StatusObject>((resolve) => {
      const call = raw.makeServerStreamRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        {},
        new grpc.Metadata(),
      );
      call.on('error', () => {});
      call.on('status', resolve);
    });
    expect(status).toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: 'security header missing from request',
    });
    expect(agent.requests).toEqual([
      expect.objectContaining({ method: 'FetchX509SVID', securityHeader: false }),
    ]);
  });

  it('our client sends it on every RPC', async () => {
    const client = await setup();
    await client.fetchX509Context();
    await client.fetchJwtBundles();
    const jwt = await client.fetchJwtSvid({ audience: 'a' });
    await client.validateJwtSvid(jwt.token, 'a');
    const watch = client.watchX509Bundles(() => {});
    await eventually(() => agent.requestCount('FetchX509Bundles') === 1);
    watch.cancel();
    expect(agent.requests.map((r) => [r.method, r.securityHeader])).toEqual([
      ['FetchX509SVID', true],
      ['FetchJWTBundles', true],
      ['FetchJWTSVID', true],
      ['ValidateJWTSVID', true],
      ['FetchX509Bundles', true],
    ]);
  });
});

describe('watchX509Context', () => {
  it('delivers every message as full state', async () => {
    const client = await setup();
    const updates: X509Context[] = [];
    const watch = client.watchX509Context((ctx) => updates.push(ctx));
    await eventually(() => updates.length === 1);
    expect(updates[0]!.svids.map((s) => [s.id.toString(), s.hint])).toEqual([
      ['spiffe://td.test/api', undefined],
      ['spiffe://td.test/batch', 'batch'],
    ]);
    expect([...updates[0]!.bundles.keys()].sort()).toEqual(['fed.test', 'td.test']);
    agent.rotate([await pki.issue('/api')], { 'td.test': pki.ca.rootDer });
    await eventually(() => updates.length === 2);
    expect([...updates[1]!.bundles.keys()]).toEqual(['td.test']);
    expect(updates[1]!.svids).toHaveLength(1);
    watch.cancel();
    await expect(watch.done).resolves.toBeUndefined();
  });

  it('stops on InvalidArgument: one report (willRetry false), no retry', async () => {
    const client = await setup();
    agent.failWith('FetchX509SVID', { code: 3, details: 'bad request' });
    const errors: WorkloadApiError[] = [];
    const watch = client.watchX509Context(
      () => {},
      (e) => errors.push(e),
    );
    const ended = await watch.done;
    expect(ended).toMatchObject({ code: 'ERR_WORKLOAD_API_RPC', grpcCode: 3, willRetry: false });
    expect(errors).toEqual([ended]);
    await sleep(FAST_BACKOFF.maxDelayMs * 3);
    expect(agent.requestCount('FetchX509SVID')).toBe(1);
  });

  it('stops on Unimplemented and on a server-sent Cancelled too', async () => {
    const client = await setup();
    for (const code of [12, 1]) {
      agent.failWith('FetchX509SVID', { code });
      const before = agent.requestCount('FetchX509SVID');
      const ended = await client.watchX509Context(() => {}).done;
      expect(ended).toMatchObject({ grpcCode: code, willRetry: false });
      await sleep(100);
      expect(agent.requestCount('FetchX509SVID')).toBe(before + 1);
    }
  });

  it('retries Unavailable with linear backoff and resets it after a message', async () => {
    const client = await setup();
    agent.failWith('FetchX509SVID', { code: 14, details: 'busy' });
    const errors: WorkloadApiError[] = [];
    const updates: X509Context[] = [];
    client.watchX509Context(
      (ctx) => updates.push(ctx),
      (e) => errors.push(e),
    );
    await eventually(() => agent.requestCount('FetchX509SVID') >= 4);
    const times = agent.requests.map((r) => r.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // 25, 50, 75 ms (timer slack allowed).
    expect(gaps[0]).toBeGreaterThanOrEqual(20);
    expect(gaps[2]!).toBeGreaterThan(gaps[0]!);
    expect(errors.every((e) => e.grpcCode === 14 && e.willRetry === true)).toBe(true);
    agent.failWith('FetchX509SVID', undefined);
    await eventually(() => updates.length === 1);
  });

  it('reports a throwing callback and keeps watching', async () => {
    const client = await setup();
    const errors: WorkloadApiError[] = [];
    let calls = 0;
    client.watchX509Context(
      () => {
        calls++;
        throw new Error('boom');
      },
      (e) => errors.push(e),
    );
    await eventually(() => calls === 1);
    agent.rotate([await pki.issue()]);
    await eventually(() => calls === 2);
    expect(errors.map((e) => e.code)).toEqual([
      'ERR_WORKLOAD_API_CALLBACK',
      'ERR_WORKLOAD_API_CALLBACK',
    ]);
  });
});

describe('JWT profile', () => {
  it('fetches a JWT-SVID that verifies with jose against the JWT bundle', async () => {
    const client = await setup();
    const svid = await client.fetchJwtSvid({ audience: 'payments', extraAudiences: ['audit'] });
    expect(svid.id.toString()).toBe('spiffe://td.test/api');
    expect(svid.audience).toEqual(['payments', 'audit']);
    expect(svid.expiresAt.getTime()).toBeGreaterThan(Date.now());

    const bundles = await client.fetchJwtBundles();
    const bundle = bundles.get('td.test')!;
    expect(bundle.jwks.keys.map((k) => k.kid)).toEqual([decodeProtectedHeader(svid.token).kid]);
    const { payload } = await jwtVerify(svid.token, createLocalJWKSet(bundle.jwks), {
      audience: 'payments',
      typ: 'JWT',
    });
    expect(payload.sub).toBe('spiffe://td.test/api');
    await expect(
      jwtVerify(svid.token, createLocalJWKSet(bundle.jwks), { audience: 'other' }),
    ).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
  });

  it('picks the subject, or returns every identity', async () => {
    const client = await setup();
    const batch = await client.fetchJwtSvid({
      audience: 'a',
      subject: parseSpiffeId('spiffe://td.test/batch'),
    });
    expect(batch.id.toString()).toBe('spiffe://td.test/batch');
    const all = await client.fetchJwtSvids({ audience: 'a' });
    expect(all.map((s) => s.id.toString())).toEqual([
      'spiffe://td.test/api',
      'spiffe://td.test/batch',
    ]);
    await expect(
      client.fetchJwtSvid({ audience: 'a', subject: 'spiffe://td.test/nobody' }),
    ).rejects.toMatchObject({ code: 'ERR_WORKLOAD_API_RPC', grpcCode: 7 });
    await expect(
      client.fetchJwtSvid({ audience: 'a', subject: 'not-an-id' }),
    ).rejects.toMatchObject({
      code: 'ERR_SPIFFE_ID_SCHEME',
    });
    await expect(client.fetchJwtSvid({ audience: '' })).rejects.toBeInstanceOf(TypeError);
  });

  it('validates a JWT-SVID through the agent', async () => {
    const client = await setup();
    const svid = await client.fetchJwtSvid({ audience: 'payments' });
    const validated = await client.validateJwtSvid(svid.token, 'payments');
    expect(validated.id.toString()).toBe('spiffe://td.test/api');
    expect(validated.claims).toMatchObject({ sub: 'spiffe://td.test/api', aud: ['payments'] });
    await expect(client.validateJwtSvid(svid.token, 'other')).rejects.toMatchObject({
      code: 'ERR_WORKLOAD_API_RPC',
      grpcCode: 3,
    });
  });

  it('streams JWT bundle updates', async () => {
    const client = await setup();
    const updates: JwtBundleSet[] = [];
    const watch = client.watchJwtBundles((b) => updates.push(b));
    await eventually(() => updates.length === 1);
    await agent.rotateJwtKey();
    await eventually(() => updates.length === 2);
    expect(updates.map((u) => u.get('td.test')!.jwks.keys.length)).toEqual([1, 2]);
    watch.cancel();
  });
});

describe('close and abort', () => {
  it('close() ends watches (done → undefined), refuses new calls, is idempotent', async () => {
    const client = await setup();
    const watch = client.watchX509Context(() => {});
    await eventually(() => agent.openStreams('FetchX509SVID') === 1);
    client.close();
    client.close();
    expect(client.closed).toBe(true);
    await expect(watch.done).resolves.toBeUndefined();
    await eventually(() => agent.openStreams() === 0);
    expect(() => client.watchX509Context(() => {})).toThrow(
      expect.objectContaining({ code: 'ERR_WORKLOAD_API_CLOSED' }),
    );
    await expect(client.fetchJwtSvid({ audience: 'a' })).rejects.toMatchObject({
      code: 'ERR_WORKLOAD_API_CLOSED',
    });
  });

  it('close() rejects pending one-shot calls and stops a retrying watch', async () => {
    const client = await setup();
    agent.failWith('FetchX509SVID', { code: 14 });
    const watch = client.watchX509Context(() => {});
    await eventually(() => agent.requestCount('FetchX509SVID') >= 2);
    const silent = await startSilentServer();
    const other = createWorkloadApiClient({ address: silent.address });
    const pending = other.fetchX509Context({ timeoutMs: 60_000 });
    const unary = other.fetchJwtSvid({ audience: 'a' }, { timeoutMs: 60_000 });
    await eventually(() => silent.calls() === 2);
    client.close();
    other.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_WORKLOAD_API_CLOSED' });
    await expect(unary).rejects.toMatchObject({ code: 'ERR_WORKLOAD_API_CLOSED' });
    await expect(watch.done).resolves.toBeUndefined();
    const count = agent.requestCount('FetchX509SVID');
    await sleep(200);
    expect(agent.requestCount('FetchX509SVID')).toBe(count);
  });

  it('one-shot calls have a deadline', async () => {
    const silent = await startSilentServer();
    const client = createWorkloadApiClient({ address: silent.address, callTimeoutMs: 100 });
    cleanups.push(() => client.close());
    await expect(client.fetchJwtBundles()).rejects.toMatchObject({ grpcCode: 4 });
    await expect(client.fetchJwtSvid({ audience: 'a' }, { timeoutMs: 50 })).rejects.toMatchObject({
      grpcCode: 4,
    });
  });

  it('a per-call signal aborts the call; the client signal closes the client', async () => {
    const controller = new AbortController();
    await setup();
    const client = createWorkloadApiClient({ address: agent.address, signal: controller.signal });
    const aborted = AbortSignal.abort();
    await expect(client.fetchJwtBundles({ signal: aborted })).rejects.toMatchObject({
      code: 'ERR_WORKLOAD_API_ABORTED',
    });
    controller.abort();
    expect(client.closed).toBe(true);
  });

  it('a one-shot call fails fast with Unavailable when no agent listens', async () => {
    await setup();
    await agent.stop();
    const client = createWorkloadApiClient({ address: agent.address });
    cleanups.push(() => client.close());
    await expect(client.fetchJwtBundles()).rejects.toMatchObject({
      code: 'ERR_WORKLOAD_API_RPC',
      grpcCode: 14,
    });
  });
});
