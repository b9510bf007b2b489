import type { AddressInfo } from 'node:net';
import { meshless, meshlessRewriteUrl } from '@meshless/fastify';
import { assertSpan, mtlsRequest } from '@meshless/testing';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flatten, shapeOf } from '../src/span-tree.js';
import { setupTracing, type Tracing } from '../src/tracing.js';
import { createFixture, takeTrees, warmUpJwks, type Fixture } from './fixture.js';

describe('fastify: nesting under @fastify/otel and the SERVER span', () => {
  const spans = new InMemorySpanExporter();
  let tracing: Tracing;
  let fx: Fixture;
  let app: FastifyInstance;
  let url: string;
  let port: number;

  beforeAll(async () => {
    tracing = setupTracing({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    fx = await createFixture();
    app = tracing.Fastify({
      https: {
        key: fx.server.keyPem,
        cert: fx.server.chainPem,
        ca: fx.ca.rootPem,
        requestCert: true,
        rejectUnauthorized: false,
      },
      rewriteUrl: meshlessRewriteUrl(),
    });
    await app.register(tracing.fastifyOtel.plugin());
    await app.register(meshless, fx.guard);
    app.get('/items/:id', (request) => ({ id: (request.params as { id: string }).id }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
    url = `https://localhost:${port}`;
    // cold caches fetch the issuer's discovery/JWKS inside authn.jwt: warm them, keep trees exact
    await warmUpJwks(fx, url);
    await takeTrees(spans, port);
  });
  afterAll(async () => {
    await app?.close();
    await fx?.op.close();
    await tracing?.shutdown();
  });

  const treeOfLastCall = () => takeTrees(spans, port);

  const tampered = async () => {
    const [h, p, sig] = (await fx.getToken()).split('.') as [string, string, string];
    return `${h}.${p}.${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`;
  };
  const HOOK = 'onRequest - fastify -> @fastify/otel -> @meshless/fastify INTERNAL';

  it('allowed with a token: SERVER → request → onRequest hook → authn.mtls, authn.jwt, authz.decision', async () => {
    const res = await mtlsRequest(`${url}/items/42`, {
      ca: fx.ca.rootPem,
      cert: fx.checkout.chainPem,
      key: fx.checkout.keyPem,
      headers: { authorization: `Bearer ${await fx.getToken()}` },
    });
    expect(res.status).toBe(200);
    const roots = await treeOfLastCall();
    expect(roots.map(shapeOf)).toEqual([
      {
        span: 'GET /items/:id SERVER',
        children: [
          {
            span: 'request INTERNAL',
            children: [
              {
                span: HOOK,
                children: [
                  { span: 'authn.mtls INTERNAL' },
                  { span: 'authn.jwt INTERNAL' },
                  { span: 'authz.decision INTERNAL' },
                ],
              },
              { span: 'handler - fastify -> @fastify/otel -> @meshless/fastify INTERNAL' },
            ],
          },
        ],
      },
    ]);
    assertSpan(roots[0]!.span.sdk, {
      kind: SpanKind.SERVER,
      status: SpanStatusCode.UNSET,
      attributes: { 'http.route': '/items/:id', 'http.response.status_code': 200 },
    });
  });

  for (const denied of [
    { name: 'denied by policy (403)', status: 403, token: false, jwt: false },
    { name: 'invalid token (401)', status: 401, token: true, jwt: true },
  ]) {
    it(`${denied.name}: same nesting, the SERVER span keeps http.route, every status Unset`, async () => {
      const res = await mtlsRequest(`${url}/items/42`, {
        ca: fx.ca.rootPem,
        ...(denied.token
          ? {
              cert: fx.checkout.chainPem,
              key: fx.checkout.keyPem,
              headers: { authorization: `Bearer ${await tampered()}` },
            }
          : { cert: fx.frontend.chainPem, key: fx.frontend.keyPem }),
      });
      expect(res.status).toBe(denied.status);
      const roots = await treeOfLastCall();
      expect(roots.map(shapeOf)).toEqual([
        {
          span: 'GET /items/:id SERVER',
          children: [
            {
              span: 'request INTERNAL',
              children: [
                {
                  span: HOOK,
                  children: [
                    { span: 'authn.mtls INTERNAL' },
                    ...(denied.jwt ? [{ span: 'authn.jwt INTERNAL' }] : []),
                    { span: 'authz.decision INTERNAL' },
                  ],
                },
              ],
            },
          ],
        },
      ]);
      // Fastify routes before onRequest: a denial keeps the route (unlike a global Express app.use)
      assertSpan(roots[0]!.span.sdk, {
        kind: SpanKind.SERVER,
        status: SpanStatusCode.UNSET,
        attributes: { 'http.route': '/items/:id', 'http.response.status_code': denied.status },
      });
      for (const { sdk: span } of flatten(roots[0]!))
        expect(span.status.code, span.name).toBe(SpanStatusCode.UNSET);
    });
  }

  it('meshless registered BEFORE the @fastify/otel plugin: no request/hook span, no http.route', async () => {
    const late = tracing.Fastify({
      https: {
        key: fx.server.keyPem,
        cert: fx.server.chainPem,
        ca: fx.ca.rootPem,
        requestCert: true,
        rejectUnauthorized: false,
      },
      rewriteUrl: meshlessRewriteUrl(),
    });
    await late.register(meshless, fx.guard);
    await late.register(tracing.fastifyOtel.plugin());
    late.get('/items/:id', () => ({ ok: true }));
    await late.listen({ port: 0, host: '127.0.0.1' });
    const latePort = (late.server.address() as AddressInfo).port;
    const res = await mtlsRequest(`https://localhost:${latePort}/items/42`, {
      ca: fx.ca.rootPem,
      cert: fx.frontend.chainPem,
      key: fx.frontend.keyPem,
    });
    await late.close();
    const roots = await takeTrees(spans, latePort);
    expect(res.status).toBe(403);
    // @fastify/otel starts its `request` span in its own onRequest hook, which runs after ours
    expect(roots.map(shapeOf)).toEqual([
      {
        span: 'GET SERVER',
        children: [{ span: 'authn.mtls INTERNAL' }, { span: 'authz.decision INTERNAL' }],
      },
    ]);
    assertSpan(roots[0]!.span.sdk, { attributes: { 'http.route': undefined } });
  });
});
