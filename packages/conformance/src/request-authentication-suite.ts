/**
 * Adapter conformance: RequestAuthentication outputs reach the application as Istio's sidecar
 * leaves them. With `outputClaimToHeaders`, the app sees the claim header and never the token
 * (neither the `authorization` header nor the `access_token` query parameter), and a spoofed
 * output header is removed from anonymous requests. Each adapter's test file calls
 * {@link describeRequestAuthenticationSuite} with a factory whose server answers `GET /seen` with
 * `{ authorization, clientId, query, url }` as the app sees the request.
 */
import { createMeshFixture, mtlsRequest, type MeshFixture } from '@meshless/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdapterServer, AdapterServerFactory } from './svid-rule-suite.js';

/** Registers the RequestAuthentication outputs suite for one adapter. */
export function describeRequestAuthenticationSuite(
  adapter: string,
  start: AdapterServerFactory,
): void {
  let mesh: MeshFixture;
  let server: AdapterServer;

  beforeAll(async () => {
    mesh = await createMeshFixture();
    server = await start(
      {
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
      },
      { ...mesh.serverTls(), ca: [mesh.ca.rootPem] },
    );
  });

  afterAll(async () => {
    await server.close();
    await mesh.close();
  });

  const call = (path: string, headers: Record<string, string>) =>
    mtlsRequest(server.base, {
      path,
      ca: mesh.ca.rootPem,
      cert: mesh.checkout.chainPem,
      key: mesh.checkout.keyPem,
      headers,
    });

  describe(`${adapter} applies RequestAuthentication outputs`, () => {
    it('the app sees the claim header and no token (header)', async () => {
      const token = await mesh.token();
      const res = await call('/seen', {
        authorization: `Bearer ${token}`,
        'x-client-id': 'spoofed',
      });
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
}
