import { createTestCa, startWorkloadAgent, type WorkloadAgent } from '@meshless/testing';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createJwtSvidSource } from '../../src/outbound/jwt-svid-source.js';
import { createWorkloadApiClient, WorkloadApiError } from '../../src/workload-api/index.js';

const AUDIENCE = 'spiffe://td.test/ns/payments/sa/api';
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(jwtTtlSeconds?: number) {
  const ca = await createTestCa({ trustDomain: 'td.test' });
  const svid = await ca.issueSvid({ spiffeId: 'spiffe://td.test/ns/shop/sa/checkout' });
  const agent: WorkloadAgent = await startWorkloadAgent({
    x509Context: { svids: [svid], bundles: { 'td.test': ca.rootDer } },
    ...(jwtTtlSeconds === undefined ? {} : { jwtTtlSeconds }),
  });
  cleanups.push(() => agent.close());
  const client = createWorkloadApiClient({ address: agent.address });
  cleanups.push(() => client.close());
  const source = createJwtSvidSource({ client, audience: AUDIENCE });
  cleanups.push(() => source.close());
  return { agent, source, calls: () => agent.requestCount('FetchJWTSVID') };
}

describe('createJwtSvidSource', () => {
  it('returns a JWT-SVID for the audience that verifies against the agent bundle; cached', async () => {
    const { agent, source, calls } = await setup();
    const token = await source.getToken();
    const { payload } = await jwtVerify(token, createLocalJWKSet(agent.jwks()), {
      audience: AUDIENCE,
      subject: 'spiffe://td.test/ns/shop/sa/checkout',
    });
    expect(payload.exp).toBeGreaterThan(Date.now() / 1000);
    expect(await source.getToken()).toBe(token);
    expect(calls()).toBe(1);
  });

  it('single-flight: 10 concurrent cold calls make one FetchJWTSVID', async () => {
    const { source, calls } = await setup();
    const tokens = await Promise.all(Array.from({ length: 10 }, () => source.getToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(calls()).toBe(1);
  });

  it('fetches a new JWT-SVID once half the lifetime has passed', async () => {
    const { source, calls } = await setup(4);
    const first = await source.getToken();
    const { iat, exp } = decodeJwt(first);
    expect(exp! - iat!).toBe(4);
    expect(await source.getToken()).toBe(first);
    expect(calls()).toBe(1);
    // Background refresh at iat + 2 s. The agent counts the call when it arrives; the new token
    // is handed out once its answer is in: wait for that, not for the count alone.
    const deadline = Date.now() + 4000;
    let second = first;
    while (second === first && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      second = await source.getToken();
    }
    expect(second).not.toBe(first);
    expect((iat! + 2) * 1000).toBeLessThanOrEqual(Date.now());
    expect(calls()).toBe(2);
  });

  it('agent failures reject with the WorkloadApiError; the next call tries again', async () => {
    const { agent, source, calls } = await setup();
    agent.failWith('FetchJWTSVID', { code: 7, details: 'no entry' });
    const error = await source.getToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkloadApiError);
    expect(error).toMatchObject({ code: 'ERR_WORKLOAD_API_RPC', grpcCode: 7 });
    agent.failWith('FetchJWTSVID', undefined);
    await expect(source.getToken()).resolves.toMatch(/^eyJ/);
    expect(calls()).toBe(2);
  });

  it('refuses an empty audience at creation', () => {
    expect(() =>
      createJwtSvidSource({
        client: { fetchJwtSvid: () => Promise.reject(new Error()) },
        audience: '',
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_SOURCE_CONFIG' }));
  });
});
