import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, PolicyError } from '../../src/errors.js';
import { createGuard } from '../../src/guard/guard.js';
import type { RequestFacts } from '../../src/guard/request-facts.js';
import {
  json,
  makeKey,
  signToken,
  startServer,
  type TestKey,
  type TestServer,
} from '../helpers/jwks.js';

const WORKLOAD = { namespace: 'payments', trustDomain: 'example.org', labels: { app: 'payments' } };
const facts = (overrides: Partial<RequestFacts> = {}): RequestFacts => ({
  method: 'GET',
  path: '/',
  host: 'payments.example',
  headers: {},
  sourceIp: '127.0.0.1',
  destinationPort: 8080,
  ...overrides,
});
const allowNothing = (spec: Record<string, unknown> = {}) => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'allow-nothing', namespace: 'payments' },
  spec,
});

describe('createGuard: configuration errors are ConfigError with a reason', () => {
  it.each([
    [{ issuer: '' }, /issuer/],
    [{ issuer: 'https://i.test', jwksUri: 'file:///etc/jwks.json' }, /jwksUri/],
    [{ issuer: 'https://i.test', jwksUri: 'not a url' }, /jwksUri/],
    [{ issuer: 'https://i.test', audiences: [''] }, /audiences/],
  ])('jwt.issuers entry %j is refused', async (issuer, message) => {
    const error = await createGuard({ workload: WORKLOAD, jwt: { issuers: [issuer] } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(message);
  });

  it('an invalid trust domain alias is refused', async () => {
    await expect(
      createGuard({ workload: { ...WORKLOAD, trustDomainAliases: ['Bad Alias'] } }),
    ).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('createGuard: policies given as one-line text', () => {
  it('a one-line JSON document is policy text, not a file path', async () => {
    const guard = await createGuard({
      workload: WORKLOAD,
      mtls: { mode: 'PERMISSIVE' },
      policies: JSON.stringify(allowNothing()),
    });
    expect(await guard.check(facts())).toMatchObject({
      allow: false,
      reason: 'authz_no_allow_match',
    });
  });

  it('a string without newline, braces or `key: value` is a file path', async () => {
    await expect(
      createGuard({ workload: WORKLOAD, policies: './does-not-exist.yaml' }),
    ).rejects.toMatchObject({ code: 'ERR_POLICY_FILE' });
  });
});

describe('targetRef(s): policies attached to gateways, waypoints or Services never apply in-process', () => {
  it('an allow-nothing policy with targetRefs does not deny', async () => {
    const guard = await createGuard({
      workload: WORKLOAD,
      mtls: { mode: 'PERMISSIVE' },
      policies: [
        allowNothing({
          targetRefs: [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'gw' }],
        }),
      ],
    });
    expect(await guard.check(facts())).toMatchObject({
      allow: true,
      reason: 'authz_allow_default',
    });
  });

  it('a selector next to targetRefs, or targetRef next to targetRefs, is refused at load', async () => {
    for (const spec of [
      {
        selector: { matchLabels: { app: 'payments' } },
        targetRefs: [{ kind: 'Service', name: 's' }],
      },
      { targetRef: { kind: 'Service', name: 's' }, targetRefs: [{ kind: 'Service', name: 's' }] },
    ]) {
      await expect(
        createGuard({ workload: WORKLOAD, policies: [allowNothing(spec)] }),
      ).rejects.toBeInstanceOf(PolicyError);
    }
  });
});

describe('routedUrl: the framework must route on the authorized path', () => {
  it('a routed target different from the normalized one is refused with 400', async () => {
    const guard = await createGuard({ workload: WORKLOAD, mtls: { mode: 'PERMISSIVE' } });
    expect(await guard.check(facts({ path: '/a/../b', routedUrl: '/a/../b' }))).toMatchObject({
      allow: false,
      status: 400,
      reason: 'request_invalid_path',
    });
    expect(await guard.check(facts({ path: '/a/../b?x', routedUrl: '/b?x' }))).toMatchObject({
      allow: true,
      url: '/b?x',
    });
  });
});

describe('several rules for one issuer: a token satisfying any of them is accepted (Istio merges rules)', () => {
  let server: TestServer;
  let key: TestKey;
  beforeAll(async () => {
    server = await startServer();
    key = await makeKey('k1');
    server.route('/jwks', json({ keys: [key.publicJwk] }));
  });
  afterAll(() => server.close());

  it('audiences of both rules are accepted, others are not', async () => {
    const issuer = 'https://issuer.test';
    const jwksUri = `${server.origin}/jwks`;
    const guard = await createGuard({
      workload: WORKLOAD,
      mtls: { mode: 'PERMISSIVE' },
      jwt: {
        issuers: [
          { issuer, jwksUri, audiences: ['a'] },
          { issuer, jwksUri, audiences: ['b'] },
        ],
      },
    });
    const check = async (aud: string) =>
      guard.check(
        facts({
          headers: {
            authorization: `Bearer ${await signToken(key, { iss: issuer, sub: 's', aud })}`,
          },
        }),
      );
    expect(await check('a')).toMatchObject({ allow: true, requestPrincipal: `${issuer}/s` });
    expect(await check('b')).toMatchObject({ allow: true });
    expect(await check('c')).toMatchObject({
      allow: false,
      status: 401,
      reason: 'jwt_audience_mismatch',
    });
  });
});

describe('one authority per request', () => {
  it.each([
    [{ host: ['a.example', 'b.example'] }, 'more than one Host header'],
    [{ host: 'a.example', ':authority': 'b.example' }, 'Host differs from :authority'],
  ])('headers %j → 400 request_invalid_host', async (headers, detail) => {
    const guard = await createGuard({ workload: WORKLOAD, mtls: { mode: 'PERMISSIVE' } });
    expect(await guard.check(facts({ headers }))).toMatchObject({
      allow: false,
      status: 400,
      reason: 'request_invalid_host',
      detail,
    });
  });

  it('Host equal to :authority (case-insensitively) passes', async () => {
    const guard = await createGuard({ workload: WORKLOAD, mtls: { mode: 'PERMISSIVE' } });
    expect(
      await guard.check(facts({ headers: { host: 'A.example', ':authority': 'a.example' } })),
    ).toMatchObject({
      allow: true,
    });
  });
});
