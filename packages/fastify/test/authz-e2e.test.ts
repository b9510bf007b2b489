/**
 * Istio AuthorizationPolicy semantics end to end through the Fastify plugin (the suite itself is
 * shared by every adapter: @meshless/conformance).
 */
import type { AddressInfo } from 'node:net';
import { describeAuthorizationE2eSuite } from '@meshless/conformance';
import Fastify from 'fastify';
import { meshless, meshlessRewriteUrl } from '../src/index.js';

describeAuthorizationE2eSuite('@meshless/fastify', async (guard, tls) => {
  const app = Fastify({ https: tls, rewriteUrl: meshlessRewriteUrl() });
  await app.register(meshless, guard);
  app.all('/*', (request) => ({
    url: request.url,
    principal: request.auth?.principal ?? null,
    requestPrincipal: request.auth?.requestPrincipal ?? null,
  }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    base: `https://localhost:${(app.server.address() as AddressInfo).port}`,
    server: app.server,
    close: () => app.close(),
  };
});
