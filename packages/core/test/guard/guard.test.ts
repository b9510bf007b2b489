import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, MeshlessError, PolicyError, SpiffeIdError } from '../../src/errors.js';
import type { Decision } from '../../src/guard/decision.js';
import { createGuard } from '../../src/guard/guard.js';
import type { GuardOptions } from '../../src/guard/options.js';
import type { RequestFacts } from '../../src/guard/request-facts.js';

const WORKLOAD = { namespace: 'payments', trustDomain: 'example.org', labels: { app: 'payments' } };

function facts(overrides: Partial<RequestFacts> = {}): RequestFacts {
  return {
    method: 'GET',
    path: '/',
    host: 'payments.example',
    headers: {},
    sourceIp: '10.0.0.7',
    destinationPort: 8080,
    ...overrides,
  };
}

const permissive = (options: Partial<GuardOptions> = {}) =>
  createGuard({ workload: WORKLOAD, mtls: { mode: 'PERMISSIVE' }, ...options });

const ap = (
  name: string,
  spec: Record<string, unknown>,
  metadata: Record<string, unknown> = {},
) => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name, ...metadata },
  spec,
});

describe('guard: pre-checks (400)', () => {
  it.each(['get', 'Get', 'dElEtE', 'post', ''])(
    'method %j → 400 request_invalid_method',
    async (method) => {
      const guard = await permissive();
      expect(await guard.check(facts({ method }))).toMatchObject({
        allow: false,
        status: 400,
        reason: 'request_invalid_method',
      });
    },
  );

  it.each(['GET', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND'])('method %j passes', async (method) => {
    const guard = await permissive();
    expect(await guard.check(facts({ method }))).toMatchObject({ allow: true, status: 200 });
  });

  it.each(['/admin%00', '/a%00/b?x=1', '/%00'])(
    'path %j → 400 request_invalid_path',
    async (path) => {
      const guard = await permissive();
      expect(await guard.check(facts({ path }))).toMatchObject({
        allow: false,
        status: 400,
        reason: 'request_invalid_path',
      });
    },
  );

  it('a relative path → 400', async () => {
    const guard = await permissive();
    expect(await guard.check(facts({ path: 'admin' }))).toMatchObject({
      status: 400,
      reason: 'request_invalid_path',
    });
  });

  it('pre-checks run before peer authentication', async () => {
    const strict = await createGuard({ workload: WORKLOAD });
    expect((await strict.check(facts({ method: 'get' }))).status).toBe(400);
    expect((await strict.check(facts({ path: '/%00' }))).status).toBe(400);
  });

  it('a lower-case method cannot slip past a DENY on the upper-case method', async () => {
    const guard = await permissive({
      policies: [
        ap('no-delete', {
          action: 'DENY',
          rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }],
        }),
      ],
    });
    expect(await guard.check(facts({ method: 'delete' }))).toMatchObject({
      allow: false,
      status: 400,
    });
    expect(await guard.check(facts({ method: 'DELETE' }))).toMatchObject({
      allow: false,
      status: 403,
      reason: 'authz_deny_policy',
    });
  });
});

describe('guard: peer authentication without certificates', () => {
  it('STRICT is the default: no peer → 403 mtls_required', async () => {
    for (const options of [
      { workload: WORKLOAD },
      { workload: WORKLOAD, mtls: { mode: 'STRICT' as const } },
    ]) {
      const guard = await createGuard(options);
      const d = await guard.check(facts());
      expect(d).toMatchObject({ allow: false, status: 403, reason: 'mtls_required' });
      expect(d.detail).toBeTypeOf('string');
      expect(d.principal).toBeUndefined();
    }
  });

  it('PERMISSIVE: a request without socket or certificate is anonymous and goes on to authorization', async () => {
    const guard = await permissive();
    const d = await guard.check(facts());
    expect(d).toEqual<Decision>({
      allow: true,
      status: 200,
      reason: 'authz_allow_default',
      url: '/',
    });
  });

  it('DISABLE: client certificates are ignored', async () => {
    const guard = await createGuard({ workload: WORKLOAD, mtls: { mode: 'DISABLE' } });
    expect(await guard.check(facts({ peerCertificate: new Uint8Array([1, 2, 3]) }))).toMatchObject({
      allow: true,
      status: 200,
    });
  });

  it('PERMISSIVE: a presented certificate that is not DER → 403 mtls_svid_invalid', async () => {
    const guard = await permissive();
    expect(
      await guard.check(facts({ peerCertificate: new Uint8Array([0x30, 0x03, 1, 2, 3]) })),
    ).toMatchObject({
      allow: false,
      status: 403,
      reason: 'mtls_svid_invalid',
    });
  });
});

describe('guard: decision.url is the normalized path plus the query', () => {
  it.each<[string, string]>([
    ['/', '/'],
    ['/public/../admin?x=1#frag', '/admin?x=1'],
    ['//a/%2F/b', '/a/b'],
    ['/%61dmin', '/admin'],
    ['/a?', '/a?'],
    ['/p?next=%2F..%2Fadmin&x=//y', '/p?next=%2F..%2Fadmin&x=//y'],
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/admin#frag?x=1', '/admin'],
  ])('%j → %j (default DECODE_AND_MERGE_SLASHES)', async (path, url) => {
    const guard = await permissive();
    expect((await guard.check(facts({ path }))).url).toBe(url);
  });

  it('follows the configured pathNormalization', async () => {
    const none = await permissive({ pathNormalization: 'NONE' });
    expect((await none.check(facts({ path: '/public/../admin?x=1#f' }))).url).toBe(
      '/public/../admin?x=1',
    );
    const base = await permissive({ pathNormalization: 'BASE' });
    expect((await base.check(facts({ path: '//admin/%2F/x' }))).url).toBe('//admin/%2F/x');
    expect((await base.check(facts({ path: '/a/./b/../c' }))).url).toBe('/a/c');
  });

  it('is set on policy denials too', async () => {
    const guard = await permissive({ policies: [ap('nothing', {})] });
    expect(await guard.check(facts({ path: '/x/../y?z' }))).toMatchObject({
      allow: false,
      status: 403,
      url: '/y?z',
    });
  });
});

describe('guard: authorization decisions', () => {
  const DENY_ADMIN = ap(
    'deny-admin',
    {
      action: 'DENY',
      rules: [
        { to: [{ operation: { paths: ['/nope'] } }] },
        { to: [{ operation: { paths: ['/admin', '/admin/*'] } }] },
      ],
    },
    { namespace: 'payments' },
  );

  it('a DENY match → 403 with policy ns/name and rule index', async () => {
    const guard = await permissive({ policies: [DENY_ADMIN] });
    const d = await guard.check(facts({ path: '/admin' }));
    expect(d).toMatchObject({
      allow: false,
      status: 403,
      reason: 'authz_deny_policy',
      policy: 'payments/deny-admin',
      rule: 1,
      url: '/admin',
    });
    expect(d.detail).toBe('denied by policy');
    expect(d).not.toHaveProperty('action');
  });

  it.each([
    '/admin',
    '//admin',
    '/public/../admin',
    '/%61dmin',
    '/admin#x',
    '/admin?x=1',
    '/a/%2E%2E/admin',
    '/public%2F..%2Fadmin',
    '/public%5C..%5Cadmin',
    '/public\\..\\admin',
    '/admin/./users',
    '/x/..//admin/users',
  ])('bypass shape %j is denied', async (path) => {
    const guard = await permissive({ policies: [DENY_ADMIN] });
    expect(await guard.check(facts({ path }))).toMatchObject({
      allow: false,
      status: 403,
      reason: 'authz_deny_policy',
    });
  });

  it('paths are case-sensitive (faithful to Istio)', async () => {
    const guard = await permissive({ policies: [DENY_ADMIN] });
    expect((await guard.check(facts({ path: '/ADMIN' }))).allow).toBe(true);
  });

  it('an ALLOW match → 200 authz_allow_policy with policy and rule; no match → 403 authz_no_allow_match', async () => {
    const guard = await permissive({
      policies: [
        ap('allow-public', {
          rules: [{ to: [{ operation: { methods: ['GET'], paths: ['/public/*'] } }] }],
        }),
      ],
    });
    expect(await guard.check(facts({ path: '/public/a' }))).toMatchObject({
      allow: true,
      status: 200,
      reason: 'authz_allow_policy',
      policy: 'payments/allow-public',
      rule: 0,
    });
    const denied = await guard.check(facts({ method: 'POST', path: '/public/a' }));
    expect(denied).toMatchObject({
      allow: false,
      status: 403,
      reason: 'authz_no_allow_match',
      detail: 'no ALLOW policy matched',
    });
    expect(denied.policy).toBeUndefined();
  });

  it('scope: the workload namespace and the root namespace apply; other namespaces and other selectors do not', async () => {
    const guard = await permissive({
      policies: [
        ap(
          'mesh-deny',
          { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/mesh'] } }] }] },
          { namespace: 'istio-system' },
        ),
        ap(
          'other-deny',
          { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/other'] } }] }] },
          { namespace: 'other' },
        ),
        ap('selected', {
          action: 'DENY',
          selector: { matchLabels: { app: 'payments' } },
          rules: [{ to: [{ operation: { paths: ['/sel'] } }] }],
        }),
        ap('not-selected', {
          action: 'DENY',
          selector: { matchLabels: { app: 'web' } },
          rules: [{ to: [{ operation: { paths: ['/web'] } }] }],
        }),
      ],
    });
    expect(await guard.check(facts({ path: '/mesh' }))).toMatchObject({
      allow: false,
      policy: 'istio-system/mesh-deny',
    });
    expect((await guard.check(facts({ path: '/other' }))).allow).toBe(true);
    expect(await guard.check(facts({ path: '/sel' }))).toMatchObject({
      allow: false,
      policy: 'payments/selected',
    });
    expect((await guard.check(facts({ path: '/web' }))).allow).toBe(true);
    expect(guard.policies.authorizationPolicies).toHaveLength(4);
  });

  it('a custom rootNamespace', async () => {
    const guard = await createGuard({
      workload: { ...WORKLOAD, rootNamespace: 'mesh' },
      mtls: { mode: 'PERMISSIVE' },
      policies: [
        ap('deny', { action: 'DENY', rules: [{}] }, { namespace: 'mesh' }),
        ap('x', { action: 'DENY', rules: [{}] }, { namespace: 'istio-system' }),
      ],
    });
    expect(await guard.check(facts())).toMatchObject({ allow: false, policy: 'mesh/deny' });
  });

  it('hosts are case-insensitive and include the port', async () => {
    const guard = await permissive({
      policies: [
        ap('deny-secret', {
          action: 'DENY',
          rules: [{ to: [{ operation: { hosts: ['secret.example'] } }] }],
        }),
      ],
    });
    expect((await guard.check(facts({ host: 'Secret.Example' }))).allow).toBe(false);
    expect((await guard.check(facts({ host: 'secret.example:8080' }))).allow).toBe(true);
  });

  it('ports come from destinationPort', async () => {
    const guard = await permissive({
      policies: [
        ap('admin-port', { action: 'DENY', rules: [{ to: [{ operation: { ports: ['9901'] } }] }] }),
      ],
    });
    expect((await guard.check(facts({ destinationPort: 9901 }))).allow).toBe(false);
    expect((await guard.check(facts({ destinationPort: 8080, host: 'x:9901' }))).allow).toBe(true);
  });

  it('plaintext passes ALLOW notNamespaces and misses DENY namespaces (faithful to ISTIO-SECURITY-2021-004)', async () => {
    const guard = await permissive({
      policies: [
        ap('allow-not-evil', { rules: [{ from: [{ source: { notNamespaces: ['evil'] } }] }] }),
        ap('deny-evil', {
          action: 'DENY',
          rules: [{ from: [{ source: { namespaces: ['evil'] } }] }],
        }),
      ],
    });
    expect(await guard.check(facts())).toMatchObject({
      allow: true,
      policy: 'payments/allow-not-evil',
    });
  });

  it('principals and requestPrincipals ["*"] refuse an anonymous request', async () => {
    const guard = await permissive({
      policies: [
        ap('mtls', { rules: [{ from: [{ source: { principals: ['*'] } }] }] }),
        ap('jwt', { rules: [{ from: [{ source: { requestPrincipals: ['*'] } }] }] }),
      ],
    });
    expect(await guard.check(facts())).toMatchObject({
      allow: false,
      status: 403,
      reason: 'authz_no_allow_match',
    });
  });

  it('AUDIT marks the decision; dry-run never enforces', async () => {
    const guard = await permissive({
      policies: [
        ap('audit-all', { action: 'AUDIT', rules: [{}] }),
        ap(
          'shadow-deny',
          { action: 'DENY', rules: [{}] },
          { annotations: { 'istio.io/dry-run': 'true' } },
        ),
      ],
    });
    expect(await guard.check(facts())).toMatchObject({
      allow: true,
      status: 200,
      reason: 'authz_allow_default',
      audit: true,
      dryRun: { wouldDeny: true, policy: 'payments/shadow-deny' },
    });
  });
});

describe('guard: policy sources', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshless-core-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const YAML = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin}
spec:
  action: DENY
  rules: [{to: [{operation: {paths: ["/admin"]}}]}]
`;

  it('YAML text (a string with a newline)', async () => {
    const guard = await permissive({ policies: YAML });
    expect(await guard.check(facts({ path: '/admin' }))).toMatchObject({
      allow: false,
      policy: 'payments/deny-admin',
    });
  });

  it('a file path, and a list mixing paths, texts and objects', async () => {
    const file = join(dir, 'p.yaml');
    await writeFile(file, YAML);
    const guard = await permissive({
      policies: [
        file,
        ap('deny-x', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/x'] } }] }] }),
      ],
    });
    expect(await guard.check(facts({ path: '/admin' }))).toMatchObject({
      allow: false,
      policy: 'payments/deny-admin',
    });
    expect(await guard.check(facts({ path: '/x' }))).toMatchObject({
      allow: false,
      policy: 'payments/deny-x',
    });
    expect(guard.policies.authorizationPolicies.map((p) => p.metadata.name)).toEqual([
      'deny-admin',
      'deny-x',
    ]);
  });

  it('an invalid policy file rejects with a PolicyError naming the file', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, YAML.replace('paths', 'pahts'));
    const error: unknown = await permissive({ policies: file }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).location).toMatchObject({
      file,
      document: 0,
      field: 'spec.rules[0].to[0].operation.pahts',
    });
  });

  it('a missing policy file rejects with a meshless error (ConfigError or PolicyError), as createGuard documents', async () => {
    const error: unknown = await permissive({ policies: join(dir, 'does-not-exist.yaml') }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MeshlessError);
  });
});

describe('guard: configuration errors', () => {
  it('workload.namespace is required', async () => {
    for (const workload of [undefined, {}, { namespace: '', trustDomain: 'example.org' }]) {
      const error: unknown = await createGuard({ workload } as unknown as GuardOptions).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe('ERR_CONFIG_INVALID');
    }
  });

  it('an invalid trust domain is refused', async () => {
    const error: unknown = await createGuard({
      workload: { namespace: 'ns', trustDomain: 'Example.org' },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('ERR_CONFIG_INVALID');
    expect((error as ConfigError).cause).toBeInstanceOf(SpiffeIdError);
    expect(((error as ConfigError).cause as SpiffeIdError).code).toBe(
      'ERR_SPIFFE_ID_TRUST_DOMAIN_CHAR',
    );
  });

  it('trust bundles: an invalid trust domain key or PEM without certificates → ConfigError', async () => {
    for (const trustBundles of [
      { 'Bad Domain': '' },
      { 'example.org': 'not a pem' },
      { 'example.org': ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'] },
    ]) {
      const error: unknown = await createGuard({ workload: WORKLOAD, trustBundles }).catch(
        (e: unknown) => e,
      );
      expect(error, JSON.stringify(trustBundles)).toBeInstanceOf(ConfigError);
    }
  });

  it('an empty bundle is accepted (trust nothing for that domain)', async () => {
    await expect(
      createGuard({ workload: WORKLOAD, trustBundles: { 'example.org': '' } }),
    ).resolves.toBeDefined();
  });
});

describe('guard: never throws', () => {
  const INTERNAL: Decision = {
    allow: false,
    status: 503,
    reason: 'internal_error',
    detail: 'the request could not be checked',
    headers: { 'retry-after': '30' },
  };

  function throwingFacts(): RequestFacts {
    const f = facts();
    Object.defineProperty(f, 'path', {
      get() {
        throw new Error('boom: internal detail');
      },
    });
    return f;
  }

  it.each<[string, unknown]>([
    ['null facts', null],
    ['undefined facts', undefined],
    ['empty object', {}],
    ['numeric method', { ...facts(), method: 42 }],
    ['missing path', { ...facts(), path: undefined }],
    ['numeric path', { ...facts(), path: 42 }],
    ['a throwing getter', throwingFacts()],
  ])('%s → 503 internal_error', async (_name, weird) => {
    const guard = await permissive();
    const d = await guard.check(weird as RequestFacts);
    expect(d).toEqual(INTERNAL);
  });

  it('headers that are not an object, with a token issuer configured → 503', async () => {
    const guard = await permissive({
      jwt: { issuers: [{ issuer: 'https://i.test', jwksUri: 'http://127.0.0.1:9/jwks' }] },
    });
    expect(await guard.check({ ...facts(), headers: null } as unknown as RequestFacts)).toEqual(
      INTERNAL,
    );
    expect(
      await guard.check(facts({ headers: { authorization: 7 as unknown as string } })),
    ).toEqual(INTERNAL);
  });

  it('a missing host with a hosts policy → 503, not allow', async () => {
    const guard = await permissive({
      policies: [
        ap('deny-secret', {
          action: 'DENY',
          rules: [{ to: [{ operation: { hosts: ['secret'] } }] }],
        }),
      ],
    });
    expect(await guard.check({ ...facts(), host: undefined } as unknown as RequestFacts)).toEqual(
      INTERNAL,
    );
  });

  it('onDecision sees every decision, and an observer that throws changes nothing', async () => {
    const seen: [Decision, RequestFacts][] = [];
    const guard = await permissive({
      onDecision: (d, f) => {
        seen.push([d, f]);
        throw new Error('observer failure');
      },
    });
    const f = facts({ path: '/a' });
    const d = await guard.check(f);
    expect(d).toMatchObject({ allow: true, status: 200 });
    expect(seen).toEqual([[d, f]]);
    expect(await guard.check(null as unknown as RequestFacts)).toEqual(INTERNAL);
    expect(seen[1]?.[0]).toEqual(INTERNAL);
  });
});
