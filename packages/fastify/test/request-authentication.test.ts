/**
 * RequestAuthentication outputs through the Fastify plugin (the suite itself is shared by every
 * adapter: @meshless/conformance).
 */
import type { AddressInfo } from 'node:net';
import { describeRequestAuthenticationSuite } from '@meshless/conformance';
import Fastify from 'fastify';
import { meshless, meshlessRewriteUrl } from '../src/index.js';

describeRequestAuthenticationSuite('@meshless/fastify', async (guard, tls) => {
  const app = Fastify({ https: tls, rewriteUrl: meshlessRewriteUrl() });
  await app.register(meshless, guard);
  app.get('/seen', (request) => ({
    authorization: request.headers.authorization ?? null,
    clientId: request.headers['x-client-id'] ?? null,
    query: request.query,
    url: request.url,
  }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    base: `https://localhost:${(app.server.address() as AddressInfo).port}`,
    server: app.server,
    close: () => app.close(),
  };
});
