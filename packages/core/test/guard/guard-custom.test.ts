/** `action: CUSTOM` end to end through `createGuard(...).check(facts)`. */
import { afterEach, describe, expect, it } from 'vitest';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { SpanStatusCode } from '@opentelemetry/api';
import { ConfigError } from '../../src/errors.js';
import { denialBody } from '../../src/guard/decision.js';
import { createGuard } from '../../src/guard/guard.js';
import type { CustomProvider, GuardOptions } from '../../src/guard/options.js';
import type { RequestFacts } from '../../src/guard/request-facts.js';

const WORKLOAD = { namespace: 'payments', trustDomain: 'example.org' };

function facts(overrides: Partial<RequestFacts> = {}): RequestFacts {
  return {
    method: 'GET',
    path: '/admin/x',
    host: 'payments.example',
    headers: {},
    sourceIp: '10.0.0.7',
    destinationPort: 8080,
    ...overrides,
  };
}

const policy = (
  name: string,
  spec: Record<string, unknown>,
  annotations?: Record<string, string>,
) => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name, namespace: 'payments', ...(annotations ? { annotations } : {}) },
  spec,
});

const custom = (provider = 'ext', paths = ['/admin*'], annotations?: Record<string, string>) =>
  policy(
    `custom-${provider}`,
    { action: 'CUSTOM', provider: { name: provider }, rules: [{ to: [{ operation: { paths } }] }] },
    annotations,
  );

function counting(result: () => Promise<boolean> | boolean): CustomProvider & { calls: number } {
  const fn = Object.assign(
    (_facts: RequestFacts) => {
      fn.calls++;
      return result();
    },
    { calls: 0 },
  );
  return fn;
}

const guardWith = (
  policies: object[],
  customProviders?: Record<string, CustomProvider>,
  extra: Partial<GuardOptions> = {},
) =>
  createGuard({
    workload: WORKLOAD,
    mtls: { mode: 'PERMISSIVE' },
    policies,
    ...(customProviders ? { customProviders } : {}),
    ...extra,
  });

describe('guard: CUSTOM policies', () => {
  it('provider allows → the request continues to ALLOW (default allow)', async () => {
    const ext = counting(() => true);
    const guard = await guardWith([custom()], { ext });
    expect(await guard.check(facts())).toMatchObject({
      allow: true,
      status: 200,
      reason: 'authz_allow_default',
    });
    expect(ext.calls).toBe(1);
  });

  it('provider allows → a DENY policy still denies', async () => {
    const ext = counting(() => true);
    const deny = policy('deny', {
      action: 'DENY',
      rules: [{ to: [{ operation: { methods: ['GET'] } }] }],
    });
    const guard = await guardWith([custom(), deny], { ext });
    expect(await guard.check(facts())).toMatchObject({
      allow: false,
      status: 403,
      reason: 'authz_deny_policy',
      policy: 'payments/deny',
    });
    expect(ext.calls).toBe(1);
  });

  it('provider allows → ALLOW policies decide (allow and no-match)', async () => {
    const ext = counting(() => true);
    const allow = policy('allow', { rules: [{ to: [{ operation: { paths: ['/admin/x'] } }] }] });
    const guard = await guardWith([custom(), allow], { ext });
    expect(await guard.check(facts())).toMatchObject({ allow: true, policy: 'payments/allow' });
    expect(await guard.check(facts({ path: '/admin/y' }))).toMatchObject({
      allow: false,
      reason: 'authz_no_allow_match',
    });
  });

  it('provider denies → 403 authz_custom_deny with policy and rule', async () => {
    const ext = counting(() => false);
    const guard = await guardWith([custom()], { ext });
    const decision = await guard.check(facts());
    expect(decision).toMatchObject({
      allow: false,
      status: 403,
      reason: 'authz_custom_deny',
      policy: 'payments/custom-ext',
      rule: 0,
    });
    expect(denialBody(decision).error).toBe('forbidden');
  });

  it('the provider receives the request facts', async () => {
    let seen: RequestFacts | undefined;
    const guard = await guardWith([custom()], {
      ext: (f) => {
        seen = f;
        return true;
      },
    });
    const f = facts({ headers: { 'x-a': '1' } });
    await guard.check(f);
    expect(seen).toBe(f);
  });

  it('CUSTOM runs before the token stage: an invalid token with a CUSTOM deny gives 403, not 401', async () => {
    const jwt = {
      issuers: [{ issuer: 'https://issuer.test', jwksUri: 'http://127.0.0.1:9/jwks' }],
    };
    const deny = await guardWith([custom()], { ext: () => false }, { jwt });
    const bad = facts({ headers: { authorization: 'Bearer not-a-token' } });
    expect(await deny.check(bad)).toMatchObject({ status: 403, reason: 'authz_custom_deny' });
    const allow = await guardWith([custom()], { ext: () => true }, { jwt });
    expect(await allow.check(bad)).toMatchObject({ status: 401 });
  });

  it('async providers are awaited', async () => {
    const guard = await guardWith([custom()], {
      ext: async (f) => {
        await new Promise((r) => setTimeout(r, 5));
        return f.headers['x-ok'] === 'yes';
      },
    });
    expect(await guard.check(facts({ headers: { 'x-ok': 'yes' } }))).toMatchObject({ allow: true });
    expect(await guard.check(facts())).toMatchObject({ status: 403, reason: 'authz_custom_deny' });
  });

  describe('provider failures fail closed with 503', () => {
    const exporter = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    afterEach(() => exporter.reset());

    it.each([
      [
        'throws',
        () => {
          throw new Error('secret-detail');
        },
      ],
      ['rejects', () => Promise.reject(new Error('secret-detail'))],
    ])('a provider that %s → 503 authz_custom_error', async (_name, impl) => {
      const guard = await guardWith([custom()], { ext: impl }, { telemetry: { tracerProvider } });
      const decision = await guard.check(facts());
      expect(decision).toMatchObject({
        allow: false,
        status: 503,
        reason: 'authz_custom_error',
        policy: 'payments/custom-ext',
      });
      expect(JSON.stringify(decision)).not.toContain('secret-detail');
      expect(denialBody(decision).error).toBe('unavailable');
      const span = exporter.getFinishedSpans().find((s) => s.name === 'authz.decision');
      expect(span?.status.code).toBe(SpanStatusCode.ERROR);
      expect(span?.attributes['error.type']).toBe('custom_provider_error');
      expect(span?.attributes['meshless.authz.reason']).toBe('authz_custom_error');
      expect(JSON.stringify(span?.attributes)).not.toContain('secret-detail');
    });

    it('a non-boolean result denies (only true allows)', async () => {
      const guard = await guardWith([custom()], {
        ext: (() => 'yes') as unknown as CustomProvider,
      });
      expect(await guard.check(facts())).toMatchObject({
        status: 403,
        reason: 'authz_custom_deny',
      });
    });
  });

  it('CUSTOM rules that do not match → the provider is not called', async () => {
    const ext = counting(() => false);
    const guard = await guardWith([custom()], { ext });
    expect(await guard.check(facts({ path: '/public' }))).toMatchObject({ allow: true });
    expect(ext.calls).toBe(0);
    await guard.check(facts());
    expect(ext.calls).toBe(1);
  });

  it('several matching CUSTOM policies with one provider ask it once', async () => {
    const ext = counting(() => true);
    const second = policy('second', {
      action: 'CUSTOM',
      provider: { name: 'ext' },
      rules: [{}],
    });
    const guard = await guardWith([custom(), second], { ext });
    expect(await guard.check(facts())).toMatchObject({ allow: true });
    expect(ext.calls).toBe(1);
  });

  it('a CUSTOM policy that does not match never default-denies', async () => {
    const ext = counting(() => false);
    const guard = await guardWith([custom()], { ext });
    expect(await guard.check(facts({ path: '/other' }))).toMatchObject({
      allow: true,
      reason: 'authz_allow_default',
    });
  });

  it('dry-run CUSTOM policies call nothing and report nothing', async () => {
    const ext = counting(() => false);
    const guard = await guardWith([custom('ext', ['/admin*'], { 'istio.io/dry-run': 'true' })], {
      ext,
    });
    const decision = await guard.check(facts());
    expect(decision).toMatchObject({ allow: true, reason: 'authz_allow_default' });
    expect(decision.dryRun).toBeUndefined();
    expect(ext.calls).toBe(0);
    // and need no registered provider
    await expect(
      guardWith([custom('missing', ['/admin*'], { 'istio.io/dry-run': 'true' })]),
    ).resolves.toBeDefined();
  });

  it('an unregistered provider → ConfigError at createGuard', async () => {
    await expect(guardWith([custom('missing')], { ext: () => true })).rejects.toBeInstanceOf(
      ConfigError,
    );
    await expect(guardWith([custom('ext')])).rejects.toBeInstanceOf(ConfigError);
    // an inherited property is not a registered provider
    await expect(guardWith([custom('toString')], {})).rejects.toBeInstanceOf(ConfigError);
  });

  it('two different providers applying → ConfigError at createGuard', async () => {
    await expect(
      guardWith([custom('a'), custom('b')], { a: () => true, b: () => true }),
    ).rejects.toBeInstanceOf(ConfigError);
  });

  it('a CUSTOM policy that does not apply needs no provider', async () => {
    const other = {
      ...custom('missing'),
      metadata: { name: 'x', namespace: 'shop' },
    };
    await expect(guardWith([other])).resolves.toBeDefined();
  });
});
