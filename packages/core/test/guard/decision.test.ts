import { describe, expect, it } from 'vitest';
import { authContextOf } from '../../src/guard/auth-context.js';
import { denialBody, type Decision } from '../../src/guard/decision.js';

describe('denialBody', () => {
  it.each<[Partial<Decision>, string]>([
    [{ status: 400, reason: 'request_invalid_method' }, 'bad_request'],
    [{ status: 401, reason: 'jwt_expired' }, 'invalid_token'],
    [{ status: 401, reason: 'jwt_malformed' }, 'invalid_request'],
    [{ status: 401, reason: 'jwt_ambiguous' }, 'invalid_request'],
    [{ status: 403, reason: 'authz_deny_policy' }, 'forbidden'],
    [{ status: 403, reason: 'mtls_required' }, 'forbidden'],
    [{ status: 503, reason: 'jwks_unavailable' }, 'unavailable'],
    [{ status: 503, reason: 'internal_error' }, 'unavailable'],
  ])('%j → error %s', (partial, error) => {
    const decision = { allow: false, ...partial } as Decision;
    expect(denialBody(decision)).toEqual({ error, reason: partial.reason });
    expect(denialBody({ ...decision, detail: 'd' })).toEqual({
      error,
      reason: partial.reason,
      detail: 'd',
    });
  });

  it('never carries claims, principals or policy names', () => {
    const body = denialBody({
      allow: false,
      status: 403,
      reason: 'authz_no_allow_match',
      principal: 'spiffe://example.org/ns/a/sa/b',
      requestPrincipal: 'iss/sub',
      claims: { sub: 'secret' },
      policy: 'ns/p',
    });
    expect(Object.keys(body).sort()).toEqual(['error', 'reason']);
  });
});

describe('authContextOf', () => {
  it('copies principal, requestPrincipal and claims, and keeps the decision', () => {
    const decision: Decision = {
      allow: true,
      status: 200,
      reason: 'authz_allow_policy',
      principal: 'spiffe://example.org/ns/a/sa/b',
      requestPrincipal: 'https://i/s',
      claims: { sub: 's' },
    };
    expect(authContextOf(decision)).toEqual({
      decision,
      principal: 'spiffe://example.org/ns/a/sa/b',
      requestPrincipal: 'https://i/s',
      claims: { sub: 's' },
    });
    const anonymous = authContextOf({ allow: true, status: 200, reason: 'authz_allow_default' });
    expect(Object.keys(anonymous)).toEqual(['decision']);
  });
});
