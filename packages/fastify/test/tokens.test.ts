/**
 * Bearer tokens against a real OpenID Provider over real mTLS through the Fastify plugin (the
 * suite itself is shared by every adapter: @meshless/conformance).
 */
import type { AddressInfo } from 'node:net';
import { describeTokenSuite } from '@meshless/conformance';
import Fastify, { type FastifyRequest } from 'fastify';
import { meshless } from '../src/index.js';

describeTokenSuite('@meshless/fastify', async (guard, tls) => {
  const app = Fastify({ https: tls });
  await app.register(meshless, guard);
  const handler = (request: FastifyRequest) => ({ principal: request.auth?.principal });
  app.get('/', handler);
  app.get('/*', handler);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    base: `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    server: app.server,
    close: () => app.close(),
  };
});
