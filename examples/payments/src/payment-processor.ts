import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { GuardOptions } from '@meshless/core';
import { meshless, meshlessRewriteUrl } from '@meshless/fastify';
import Fastify from 'fastify';

/** payment-processor: a Fastify service behind meshless, over HTTPS with client certificates. */
export async function startPaymentProcessor(options: {
  tls: { key: string; cert: string; ca: string };
  guard: GuardOptions;
}): Promise<{ url: string; close: () => Promise<void> }> {
  const app = Fastify({
    // requestCert without rejectUnauthorized: the guard (not the handshake) answers a missing or
    // untrusted certificate, so every refusal is an explained decision with a span.
    https: { ...options.tls, requestCert: true, rejectUnauthorized: false },
    rewriteUrl: meshlessRewriteUrl(),
  });
  await app.register(meshless, options.guard);

  app.post('/v1/charges', async (request, reply) => {
    const claims = request.auth?.claims ?? {};
    return reply.code(201).send({
      id: `ch_${randomUUID().slice(0, 8)}`,
      chargedBy: request.auth?.principal,
      client: claims['client_id'],
    });
  });
  app.get('/admin', () => ({ secret: 'the admin page must never be reached' }));

  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { url: `https://localhost:${port}`, close: () => app.close() };
}
