import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createMeshFixture, mtlsRequest, type MeshFixture } from '@meshless/testing';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meshless } from '../src/index.js';

let mesh: MeshFixture;
let server: Server;
let base: string;

beforeAll(async () => {
  mesh = await createMeshFixture();
  const app = express();
  app.use(
    meshless({
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
    }),
  );
  app.get('/seen', (req, res) => {
    res.json({
      authorization: req.headers.authorization ?? null,
      clientId: req.headers['x-client-id'] ?? null,
      query: req.query,
      url: req.url,
    });
  });
  server = createServer(mesh.serverTls(), app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://localhost:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
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

describe('@meshless/express applies RequestAuthentication outputs', () => {
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
