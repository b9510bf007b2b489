/** Loading `action: CUSTOM` (Istio ext_authz) with Istio's validation rules. */
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../src/errors.js';
import { loadPolicies } from '../../src/policy/load-policies.js';

const ap = (spec: Record<string, unknown>) => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'p', namespace: 'payments' },
  spec,
});

function loadError(d: unknown): PolicyError {
  try {
    loadPolicies(d as object);
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
  throw new Error('expected a PolicyError');
}

describe('loadPolicies: action CUSTOM', () => {
  it('accepts CUSTOM with provider.name and keeps the provider', () => {
    const set = loadPolicies(
      ap({
        action: 'CUSTOM',
        provider: { name: 'ext' },
        rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }],
      }),
    );
    expect(set.authorizationPolicies[0]?.spec).toMatchObject({
      action: 'CUSTOM',
      provider: { name: 'ext' },
    });
  });

  it('accepts CUSTOM with peer fields and non-token conditions', () => {
    expect(() =>
      loadPolicies(
        ap({
          action: 'CUSTOM',
          provider: { name: 'ext' },
          rules: [
            {
              from: [{ source: { principals: ['*'] } }],
              when: [{ key: 'request.headers[x-a]', values: ['1'] }],
            },
          ],
        }),
      ),
    ).not.toThrow();
  });

  it.each([
    ['no provider', { action: 'CUSTOM', rules: [{}] }, 'spec.provider'],
    [
      'provider without name',
      { action: 'CUSTOM', provider: {}, rules: [{}] },
      'spec.provider.name',
    ],
    [
      'empty provider name',
      { action: 'CUSTOM', provider: { name: '' }, rules: [{}] },
      'spec.provider.name',
    ],
    [
      'unknown provider field',
      { action: 'CUSTOM', provider: { name: 'x', extra: 1 }, rules: [{}] },
      'spec.provider.extra',
    ],
    ['provider not an object', { action: 'CUSTOM', provider: 'ext', rules: [{}] }, 'spec.provider'],
    ['rules absent', { action: 'CUSTOM', provider: { name: 'ext' } }, 'spec.rules'],
    ['rules []', { action: 'CUSTOM', provider: { name: 'ext' }, rules: [] }, 'spec.rules'],
    [
      'requestPrincipals',
      {
        action: 'CUSTOM',
        provider: { name: 'ext' },
        rules: [{ from: [{ source: { requestPrincipals: ['*'] } }] }],
      },
      'spec.rules[0].from[0].source.requestPrincipals',
    ],
    [
      'notRequestPrincipals',
      {
        action: 'CUSTOM',
        provider: { name: 'ext' },
        rules: [{}, { from: [{ source: { notRequestPrincipals: ['*'] } }] }],
      },
      'spec.rules[1].from[0].source.notRequestPrincipals',
    ],
    [
      'request.auth.claims key',
      {
        action: 'CUSTOM',
        provider: { name: 'ext' },
        rules: [{ when: [{ key: 'request.auth.claims[group]', values: ['a'] }] }],
      },
      'spec.rules[0].when[0].key',
    ],
    [
      'request.auth.principal key',
      {
        action: 'CUSTOM',
        provider: { name: 'ext' },
        rules: [{ when: [{ key: 'request.auth.principal', values: ['a/b'] }] }],
      },
      'spec.rules[0].when[0].key',
    ],
    [
      'provider with ALLOW',
      { action: 'ALLOW', provider: { name: 'ext' }, rules: [{}] },
      'spec.provider',
    ],
    [
      'provider with DENY',
      { action: 'DENY', provider: { name: 'ext' }, rules: [{}] },
      'spec.provider',
    ],
    ['provider with default action', { provider: { name: 'ext' }, rules: [{}] }, 'spec.provider'],
  ])('%s is refused', (_name, spec, field) => {
    const error = loadError(ap(spec));
    // ERR_POLICY_FIELD for an unknown field or a wrong type, as elsewhere in the loader.
    expect(['ERR_POLICY_VALUE', 'ERR_POLICY_FIELD']).toContain(error.code);
    expect(error.location?.field).toBe(field);
  });

  it('requestPrincipals stay allowed outside CUSTOM', () => {
    expect(() =>
      loadPolicies(ap({ rules: [{ from: [{ source: { requestPrincipals: ['*'] } }] }] })),
    ).not.toThrow();
  });
});
