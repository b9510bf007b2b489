import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { createGuard } from '../../src/guard/guard.js';
import { toPendingGuard } from '../../src/guard/lazy-guard.js';
import type { GuardOptions } from '../../src/guard/options.js';
import type { RequestFacts } from '../../src/guard/request-facts.js';

const facts: RequestFacts = {
  method: 'GET',
  path: '/',
  host: 'h',
  headers: {},
  sourceIp: '10.0.0.1',
  destinationPort: 80,
};
const OPTIONS: GuardOptions = {
  workload: { namespace: 'ns', trustDomain: 'example.org' },
  mtls: { mode: 'PERMISSIVE' },
};

describe('toPendingGuard', () => {
  it('wraps a built guard', async () => {
    const guard = await createGuard(OPTIONS);
    const pending = toPendingGuard(guard);
    await expect(pending.ready).resolves.toBe(guard);
    expect(pending.policies).toBe(guard.policies);
    expect(await pending.check(facts)).toMatchObject({ allow: true, status: 200 });
  });

  it('answers requests that arrive before the guard is ready, once it is', async () => {
    const pending = toPendingGuard(OPTIONS);
    expect(pending.policies).toEqual({ authorizationPolicies: [], requestAuthentications: [] });
    const early = pending.check(facts);
    expect(await early).toMatchObject({ allow: true, status: 200, reason: 'authz_allow_default' });
    await pending.ready;
    expect(await pending.check(facts)).toMatchObject({ allow: true });
  });

  it('fails closed with 503 when the guard cannot be built, and ready rejects', async () => {
    const pending = toPendingGuard({ workload: { namespace: '', trustDomain: 'example.org' } });
    const early = pending.check(facts);
    await expect(pending.ready).rejects.toBeInstanceOf(ConfigError);
    for (const d of [await early, await pending.check(facts)]) {
      expect(d).toMatchObject({
        allow: false,
        status: 503,
        reason: 'internal_error',
        headers: { 'retry-after': '30' },
      });
    }
  });
});
