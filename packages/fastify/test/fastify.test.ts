import type { AddressInfo } from 'node:net';
import {
  createMeshFixture,
  createSpanRecorder,
  mtlsRequest,
  type MeshFixture,
  type SpanRecorder,
} from '@meshless/testing';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meshless, meshlessRewriteUrl } from '../src/index.js';
import defaultExport from '../src/index.js';

let mesh: MeshFixture;
let token: string;
let spans: SpanRecorder;
const apps: FastifyInstance[] = [];

async function start(opts: { rewrite: boolean }): Promise<string> {
  const app = Fastify({
    https: mesh.serverTls(),
    ...(opts.rewrite ? { rewriteUrl: meshlessRewriteUrl() } : {}),
  });
  await app.register(meshless, {
    workload: { namespace: 'payments', trustDomain: mesh.trustDomain },
    trustBundles: { [mesh.trustDomain]: mesh.ca.rootPem },
    policies: mesh.policies(),
    jwt: { fetch: mesh.op.fetch },
    telemetry: { tracerProvider: spans.provider },
  });
  const handler = (request: FastifyRequest) => ({
    url: request.url,
    principal: request.auth?.principal,
    client: request.auth?.claims?.['client_id'],
    policy: request.auth?.decision.policy,
  });
  app.post('/charge', handler);
  app.get('/charge/*', handler);
  app.get('/admin', () => ({ reached: 'admin' }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  apps.push(app);
  return `https://localhost:${(app.server.address() as AddressInfo).port}`;
}

let base: string;
let baseNoRewrite: string;

beforeAll(async () => {
  mesh = await createMeshFixture();
  token = await mesh.token();
  spans = createSpanRecorder();
  base = await start({ rewrite: true });
  baseNoRewrite = await start({ rewrite: false });
});

afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await mesh.close();
  await spans.shutdown();
});

const call = (
  path: string,
  opts: {
    cert?: 'checkout' | 'frontend' | 'rogue' | 'none';
    token?: string | null;
    method?: string;
    base?: string;
  } = {},
) => {
  const who = opts.cert ?? 'checkout';
  const svid = who === 'none' ? undefined : mesh[who];
  const bearer = opts.token === undefined ? token : opts.token;
  return mtlsRequest(opts.base ?? base, {
    path,
    method: opts.method ?? 'POST',
    ca: mesh.ca.rootPem,
    ...(svid ? { cert: svid.chainPem, key: svid.keyPem } : {}),
    headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
  });
};

describe('@meshless/fastify over real mTLS', () => {
  it('exports the plugin as default and named', () => {
    expect(defaultExport).toBe(meshless);
  });

  it('allows checkout with a valid token and sets request.auth', async () => {
    const res = await call('/charge');
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({
      url: '/charge',
      principal: 'spiffe://example.org/ns/payments/sa/checkout',
      client: 'checkout',
      policy: 'payments/allow-checkout',
    });
  });

  it('records the matched route as http.route on authz.decision (allowed and denied)', async () => {
    spans.reset();
    expect((await call('/charge')).status).toBe(200);
    expect((await call('/charge', { cert: 'frontend' })).status).toBe(403);
    expect((await call('/no-such-route', { cert: 'frontend' })).status).toBe(403);
    const routes = spans.byName('authz.decision').map((s) => s.attributes['http.route']);
    expect(routes).toEqual(['/charge', '/charge', undefined]);
  });

  it.each([
    ['none', 403, 'mtls_required'],
    ['frontend', 403, 'authz_no_allow_match'],
    ['rogue', 403, 'mtls_unverified'],
  ] as const)('caller %s is denied with %i %s', async (cert, status, reason) => {
    const res = await call('/charge', { cert });
    expect(res.status).toBe(status);
    expect(res.json()).toMatchObject({ error: 'forbidden', reason });
  });

  it('answers an expired-looking or tampered token with 401 and a Bearer challenge', async () => {
    const [h, p, s] = token.split('.') as [string, string, string];
    const res = await call('/charge', {
      token: `${h}.${p}.${s.startsWith('A') ? 'B' : 'A'}${s.slice(1)}`,
    });
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ error: 'invalid_token', reason: 'jwt_signature_invalid' });
    expect(res.headers['www-authenticate']).toMatch(
      /^Bearer realm="meshless", error="invalid_token"/,
    );
  });

  it('answers a malformed token with 401 invalid_request', async () => {
    const res = await call('/charge', { token: 'not-a-jwt' });
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ error: 'invalid_request', reason: 'jwt_malformed' });
  });

  it.each([['/charge/../admin'], ['//admin'], ['/charge/..%2Fadmin'], ['/admin#x'], ['/admin?x']])(
    'path bypass %s is denied by the DENY policy',
    async (path) => {
      const res = await call(path, { method: 'GET' });
      expect(res.status).toBe(403);
      expect(res.json()).toMatchObject({ reason: 'authz_deny_policy' });
    },
  );

  it('with meshlessRewriteUrl, Fastify routes on the normalized path', async () => {
    const res = await call('/charge/a/..//b?z=1', { method: 'GET' });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ url: '/charge/b?z=1' });
  });

  it('without rewriteUrl, an allowed but non-normalized path is refused rather than routed elsewhere', async () => {
    const ok = await call('/charge/b', { method: 'GET', base: baseNoRewrite });
    expect(ok.status).toBe(200);
    const res = await call('/charge/a/../b', { method: 'GET', base: baseNoRewrite });
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ reason: 'request_invalid_path' });
  });

  it('records authn.mtls, authn.jwt and authz.decision spans for a deny', async () => {
    spans.reset();
    await call('/charge', { cert: 'frontend' });
    expect(spans.spans().map((s) => s.name)).toEqual(['authn.mtls', 'authn.jwt', 'authz.decision']);
    expect(spans.byName('authn.mtls')[0]!.attributes).toMatchObject({
      'meshless.authn.result': 'success',
      'meshless.principal.id': 'spiffe://example.org/ns/web/sa/frontend',
    });
    expect(spans.byName('authz.decision')[0]!.attributes).toMatchObject({
      'meshless.authz.decision': 'deny',
      'meshless.authz.reason': 'authz_no_allow_match',
    });
  });

  it('fails closed with 503 (never 500) when a guard throws', async () => {
    const app = Fastify();
    await app.register(meshless, {
      policies: { authorizationPolicies: [], requestAuthentications: [] },
      check: () => Promise.reject(new Error('boom')),
      explain: () => Promise.reject(new Error('boom')),
    });
    app.get('/', () => 'reached');
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ error: 'unavailable', reason: 'internal_error' });
    await app.close();
  });

  it('fails at registration when the guard options cannot work', async () => {
    const app = Fastify();
    await expect(
      app
        .register(meshless, {
          workload: { namespace: 'payments', trustDomain: 'example.org' },
          policies: 'kind: [\n',
        })
        .ready(),
    ).rejects.toMatchObject({ code: 'ERR_POLICY_PARSE' });
    const missing = Fastify();
    await expect(
      missing
        .register(meshless, {
          workload: { namespace: 'payments', trustDomain: 'example.org' },
          policies: '/nonexistent/policies.yaml',
        })
        .ready(),
    ).rejects.toMatchObject({
      code: 'ERR_POLICY_FILE',
      location: { file: '/nonexistent/policies.yaml' },
    });
  });
});
