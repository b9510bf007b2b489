import type { AddressInfo } from 'node:net';
import { createMeshFixture, mtlsRequest, type MeshFixture } from '@meshless/testing';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meshless, meshlessRewriteUrl } from '../src/index.js';

let mesh: MeshFixture;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  mesh = await createMeshFixture();
  app = Fastify({ https: mesh.serverTls(), rewriteUrl: meshlessRewriteUrl() });
  await app.register(meshless, {
    workload: { namespace: 'payments', trustDomain: mesh.trustDomain },
    trustBundles: { [mesh.trustDomain]: mesh.ca.rootPem },
    jwt: { fetch: mesh.op.fetch },
    policies: [
      {
        apiVersion: 'security.istio.io/v1',
        kind: 'RequestAuthentication',
        metadata: { name: 'jwt', namespace: 'payments' },
        spec: {
          jwtRules: [
            {
              issuer: mesh.op.issuer,
              audiences: [mesh.audience],
              outputClaimToHeaders: [{ header: 'x-client-id', claim: 'client_id' }],
            },
          ],
        },
      },
    ],
  });
  app.get('/seen', (request) => ({
    authorization: request.headers.authorization ?? null,
    clientId: request.headers['x-client-id'] ?? null,
    query: request.query,
    url: request.url,
  }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `https://localhost:${(app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await app.close();
  await mesh.close();
});

const call = (path: string, headers: Record<string, string>) =>
  mtlsRequest(base, {
    path,
    ca: mesh.ca.rootPem,
    cert: mesh.checkout.chainPem,
    key: mesh.checkout.keyPem,
    headers,
  });

describe('@meshless/fastify applies RequestAuthentication outputs', () => {
  it('the app sees the claim header and no token (header)', async () => {
    const token = await mesh.token();
    const res = await call('/seen', { authorization: `Bearer ${token}`, 'x-client-id': 'spoofed' });
    expect(res.json()).toEqual({
      authorization: null,
      clientId: 'checkout',
      query: {},
      url: '/seen',
    });
  });

  it('the app sees no token in the query (access_token removed)', async () => {
    const token = await mesh.token();
    const res = await call(`/seen?a=1&access_token=${token}`, {});
    expect(res.json()).toEqual({
      authorization: null,
      clientId: 'checkout',
      query: { a: '1' },
      url: '/seen?a=1',
    });
  });

  it('a spoofed output header is removed from anonymous requests', async () => {
    const res = await call('/seen', { 'x-client-id': 'spoofed' });
    expect(res.json()).toMatchObject({ clientId: null });
  });
});
