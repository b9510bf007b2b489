import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { meshless } from '@meshless/express';
import { assertSpan, mtlsRequest } from '@meshless/testing';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flatten, shapeOf } from '../src/span-tree.js';
import { setupTracing, type Tracing } from '../src/tracing.js';
import { createFixture, takeTrees, warmUpJwks, type Fixture } from './fixture.js';

describe('express: nesting under the instrumentation-http SERVER span', () => {
  const spans = new InMemorySpanExporter();
  let tracing: Tracing;
  let fx: Fixture;
  let server: Server;
  let url: string;
  let port: number;

  beforeAll(async () => {
    tracing = setupTracing({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    fx = await createFixture();
    const app = tracing.express();
    const guard = meshless(fx.guard);
    app.use(guard);
    app.get('/items/:id', (req, res) => {
      res.json({ id: req.params.id, caller: req.auth?.principal });
    });
    await guard.ready;
    server = createServer(
      {
        key: fx.server.keyPem,
        cert: fx.server.chainPem,
        ca: fx.ca.rootPem,
        requestCert: true,
        rejectUnauthorized: false,
      },
      app,
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    url = `https://localhost:${port}`;
    // cold caches fetch the issuer's discovery/JWKS inside authn.jwt: warm them, keep trees exact
    await warmUpJwks(fx, url);
    await takeTrees(spans, port);
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await fx?.op.close();
    await tracing?.shutdown();
  });

  const treeOfLastCall = () => takeTrees(spans, port);

  const server_ = (route: string | undefined) => ({
    kind: SpanKind.SERVER,
    status: SpanStatusCode.UNSET, // a 401/403 leaves the SERVER span Unset: meshless never sets it
    attributes: { 'http.route': route },
  });

  it('allowed with a token: SERVER → middleware - meshlessGuard → authn.mtls, authn.jwt, authz.decision', async () => {
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
            span: 'middleware - meshlessGuard INTERNAL',
            children: [
              { span: 'authn.mtls INTERNAL' },
              { span: 'authn.jwt INTERNAL' },
              { span: 'authz.decision INTERNAL' },
            ],
          },
          { span: 'request handler INTERNAL' },
        ],
      },
    ]);
    const root = roots[0]!;
    assertSpan(root.span.sdk, {
      ...server_('/items/:id'),
      attributes: { 'http.route': '/items/:id', 'http.response.status_code': 200 },
    });
    const decision = root.children[0]!.children[2]!;
    assertSpan(decision.span.sdk, {
      parent: root.children[0]!.span.sdk,
      attributes: { 'meshless.authz.decision': 'allow' },
    });
  });

  it('denied by policy (global app.use): SERVER `GET` without http.route, status Unset', async () => {
    const res = await mtlsRequest(`${url}/items/42`, {
      ca: fx.ca.rootPem,
      cert: fx.frontend.chainPem,
      key: fx.frontend.keyPem,
    });
    expect(res.status).toBe(403);
    const roots = await treeOfLastCall();
    expect(roots.map(shapeOf)).toEqual([
      {
        span: 'GET SERVER',
        children: [
          {
            span: 'middleware - meshlessGuard INTERNAL',
            children: [{ span: 'authn.mtls INTERNAL' }, { span: 'authz.decision INTERNAL' }],
          },
        ],
      },
    ]);
    // the denial happens before routing: no route on the SERVER span (see README "http.route")
    assertSpan(roots[0]!.span.sdk, {
      ...server_(undefined),
      attributes: { 'http.route': undefined, 'http.response.status_code': 403 },
    });
    assertSpan(roots[0]!.children[0]!.children[1]!.span.sdk, {
      status: SpanStatusCode.UNSET,
      attributes: {
        'meshless.authz.decision': 'deny',
        'meshless.authz.reason': 'authz_no_allow_match',
      },
    });
  });

  it('invalid token (401): authn.jwt failure nests too, every status stays Unset', async () => {
    const [h, p, sig] = (await fx.getToken()).split('.') as [string, string, string];
    const res = await mtlsRequest(`${url}/items/42`, {
      ca: fx.ca.rootPem,
      cert: fx.checkout.chainPem,
      key: fx.checkout.keyPem,
      headers: {
        authorization: `Bearer ${h}.${p}.${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`,
      },
    });
    expect(res.status).toBe(401);
    const roots = await treeOfLastCall();
    expect(roots.map(shapeOf)).toEqual([
      {
        span: 'GET SERVER',
        children: [
          {
            span: 'middleware - meshlessGuard INTERNAL',
            children: [
              { span: 'authn.mtls INTERNAL' },
              { span: 'authn.jwt INTERNAL' },
              { span: 'authz.decision INTERNAL' },
            ],
          },
        ],
      },
    ]);
    assertSpan(roots[0]!.span.sdk, {
      ...server_(undefined),
      attributes: { 'http.route': undefined, 'http.response.status_code': 401 },
    });
    for (const { sdk: span } of flatten(roots[0]!))
      expect(span.status.code, span.name).toBe(SpanStatusCode.UNSET);
  });
});
