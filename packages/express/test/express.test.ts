import { createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  createMeshFixture,
  createSpanRecorder,
  mtlsRequest,
  type MeshFixture,
  type SpanRecorder,
} from '@meshless/testing';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meshless } from '../src/index.js';

let mesh: MeshFixture;
let server: Server;
let base: string;
let token: string;
let spans: SpanRecorder;

beforeAll(async () => {
  mesh = await createMeshFixture();
  token = await mesh.token();
  spans = createSpanRecorder();
  const app = express();
  app.use(
    meshless({
      workload: { namespace: 'payments', trustDomain: mesh.trustDomain },
      trustBundles: { [mesh.trustDomain]: mesh.ca.rootPem },
      policies: mesh.policies(),
      jwt: { fetch: mesh.op.fetch },
      telemetry: { tracerProvider: spans.provider },
    }),
  );
  app.all('/charge{/*rest}', (req, res) => {
    res.json({
      url: req.url,
      principal: req.auth?.principal,
      client: req.auth?.claims?.['client_id'],
      policy: req.auth?.decision.policy,
      ...(req.headers['x-forwarded-client-cert'] ? { xfcc: 'visible to the app' } : {}),
    });
  });
  app.get('/admin', (_req, res) => {
    res.json({ reached: 'admin' });
  });
  server = createServer(mesh.serverTls(), app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://localhost:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await mesh.close();
  await spans.shutdown();
});

const call = (
  path: string,
  opts: {
    cert?: 'checkout' | 'frontend' | 'rogue' | 'none';
    token?: string | null;
    method?: string;
  } = {},
) => {
  const who = opts.cert ?? 'checkout';
  const svid = who === 'none' ? undefined : mesh[who];
  const bearer = opts.token === undefined ? token : opts.token;
  return mtlsRequest(base, {
    path,
    method: opts.method ?? 'POST',
    ca: mesh.ca.rootPem,
    ...(svid ? { cert: svid.chainPem, key: svid.keyPem } : {}),
    headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
  });
};

describe('@meshless/express over real mTLS', () => {
  it('allows checkout with a valid token and sets req.auth', async () => {
    const res = await call('/charge');
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({
      url: '/charge',
      principal: 'spiffe://example.org/ns/payments/sa/checkout',
      client: 'checkout',
      policy: 'payments/allow-checkout',
    });
  });

  it('an x-forwarded-client-cert from an untrusted peer is ignored and removed before the app', async () => {
    const res = await mtlsRequest(base, {
      path: '/charge',
      method: 'POST',
      ca: mesh.ca.rootPem,
      cert: mesh.checkout.chainPem,
      key: mesh.checkout.keyPem,
      headers: {
        authorization: `Bearer ${token}`,
        'x-forwarded-client-cert': `Cert="${encodeURIComponent(mesh.frontend.certPem)}"`,
      },
    });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({
      url: '/charge',
      principal: 'spiffe://example.org/ns/payments/sa/checkout',
      client: 'checkout',
      policy: 'payments/allow-checkout',
    });
  });

  it('denies a request without a client certificate: 403 mtls_required', async () => {
    const res = await call('/charge', { cert: 'none' });
    expect(res.status).toBe(403);
    expect(res.json()).toMatchObject({ error: 'forbidden', reason: 'mtls_required' });
  });

  it('denies a principal the policy does not allow: 403 authz_no_allow_match', async () => {
    const res = await call('/charge', { cert: 'frontend' });
    expect(res.status).toBe(403);
    expect(res.json()).toMatchObject({ reason: 'authz_no_allow_match' });
  });

  it('denies a certificate from an untrusted CA with the same SPIFFE ID: 403 mtls_unverified', async () => {
    const res = await call('/charge', { cert: 'rogue' });
    expect(res.status).toBe(403);
    expect(res.json()).toMatchObject({ reason: 'mtls_unverified' });
  });

  it('answers a bad token with 401, a Bearer challenge, and nothing of the token', async () => {
    const [h, p, s] = token.split('.') as [string, string, string];
    const bad = `${h}.${p}.${s.startsWith('A') ? 'B' : 'A'}${s.slice(1)}`;
    const res = await call('/charge', { token: bad });
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ error: 'invalid_token', reason: 'jwt_signature_invalid' });
    expect(res.headers['www-authenticate']).toMatch(
      /^Bearer realm="meshless", error="invalid_token"/,
    );
    expect(res.text).not.toContain(s.slice(5, 30));
  });

  it('without a token the request is anonymous and the ALLOW rule (requestPrincipals) refuses it', async () => {
    const res = await call('/charge', { token: null });
    expect(res.status).toBe(403);
    expect(res.json()).toMatchObject({ reason: 'authz_no_allow_match' });
  });

  it.each([
    ['/charge/../admin'],
    ['//admin'],
    ['/charge/..%2Fadmin'],
    ['/charge/..%5Cadmin'],
    ['/admin#fragment'],
    ['/admin?x=1'],
    ['/%61dmin'],
  ])('path bypass %s is denied by the DENY policy and never reaches /admin', async (path) => {
    const res = await call(path, { method: 'GET' });
    expect(res.status).toBe(403);
    expect(res.json()).toMatchObject({ reason: 'authz_deny_policy' });
  });

  it('the application routes on the normalized path it was authorized for', async () => {
    const res = await call('/charge/x/..//y?z=1', { method: 'GET' });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ url: '/charge/y?z=1' });
  });

  it('sees a second Authorization header (which req.headers drops) and refuses it', async () => {
    const status = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(base);
      const req = httpsRequest({
        host: '127.0.0.1',
        port: url.port,
        servername: 'localhost',
        path: '/charge',
        method: 'POST',
        ca: mesh.ca.rootPem,
        cert: mesh.checkout.chainPem,
        key: mesh.checkout.keyPem,
      });
      req.setHeader('authorization', [`Bearer ${token}`, 'Bearer other']); // two header lines
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(status.body).toContain('jwt_ambiguous');
    expect(status.status).toBe(401);
    expect(JSON.parse(status.body)).toMatchObject({
      reason: 'jwt_ambiguous',
      error: 'invalid_request',
    });
  });

  it('records one span per stage with the decision', async () => {
    spans.reset();
    await call('/charge');
    const names = spans.spans().map((s) => s.name);
    expect(names).toEqual(['authn.mtls', 'authn.jwt', 'authz.decision']);
    const decision = spans.byName('authz.decision')[0]!;
    expect(decision.attributes).toMatchObject({
      'meshless.authz.decision': 'allow',
      'meshless.authz.reason': 'authz_allow_policy',
      'meshless.authz.policy.name': 'payments/allow-checkout',
      'meshless.authz.rule': 0,
    });
    for (const s of spans.spans())
      expect(JSON.stringify(s.attributes)).not.toContain(token.slice(0, 40));
  });

  it('fails closed with 503 (never 500) when a guard throws', async () => {
    const app = express();
    const throwing = {
      policies: { authorizationPolicies: [], requestAuthentications: [] },
      check: () => {
        throw new Error('boom');
      },
      explain: () => {
        throw new Error('boom');
      },
    };
    app.use(meshless(throwing));
    app.get('/', (_req, res) => res.send('reached'));
    const http = await import('node:http');
    const srv = http.createServer(app);
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const res = await fetch(`http://127.0.0.1:${(srv.address() as AddressInfo).port}/`);
    srv.close();
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('30');
    expect(await res.json()).toEqual({
      error: 'unavailable',
      reason: 'internal_error',
      detail: 'the request could not be checked',
    });
  });

  it('fails closed with 503 when the guard cannot be built', async () => {
    const app = express();
    const mw = meshless({ workload: { namespace: 'payments', trustDomain: 'Not A Domain' } });
    app.use(mw);
    app.get('/', (_req, res) => res.send('reached'));
    await expect(mw.ready).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID' });
    const http = await import('node:http');
    const srv = http.createServer(app);
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const res = await fetch(`http://127.0.0.1:${(srv.address() as AddressInfo).port}/`);
    srv.close();
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ reason: 'internal_error' });
  });
});
