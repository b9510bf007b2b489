import { describe, expect, it } from 'vitest';
import {
  matchAll,
  matchAny,
  matchAnyOf,
  matchId,
  matchIdPrefix,
  matchMemberOf,
  matchNot,
  matchOneOf,
} from '../../src/identity/matchers.js';
import { parseSpiffeId, parseTrustDomain } from '../../src/identity/spiffe-id.js';

const id = parseSpiffeId;
const ok = (m: (i: ReturnType<typeof id>) => string | undefined, s: string) =>
  m(id(s)) === undefined;

describe('SPIFFE ID matchers', () => {
  it('matchAny accepts everything', () => {
    expect(ok(matchAny(), 'spiffe://a.test/x')).toBe(true);
  });

  it('matchId / matchOneOf compare exact IDs', () => {
    expect(ok(matchId(id('spiffe://td/a')), 'spiffe://td/a')).toBe(true);
    expect(ok(matchId(id('spiffe://td/a')), 'spiffe://td/a/b')).toBe(false);
    const one = matchOneOf(id('spiffe://td/a'), id('spiffe://td/b'));
    expect([ok(one, 'spiffe://td/a'), ok(one, 'spiffe://td/b'), ok(one, 'spiffe://td/c')]).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('matchMemberOf checks the trust domain, not a string prefix', () => {
    const m = matchMemberOf(parseTrustDomain('example.org'));
    expect(ok(m, 'spiffe://example.org/x')).toBe(true);
    expect(ok(m, 'spiffe://example.orgi/x')).toBe(false);
    expect(ok(m, 'spiffe://sub.example.org/x')).toBe(false);
  });

  it.each([
    ['spiffe://td/payment', true],
    ['spiffe://td/payment/v2', true],
    ['spiffe://td/payments-evil', false],
    ['spiffe://td/paymen', false],
    ['spiffe://td2/payment', false],
  ])('matchIdPrefix(spiffe://td/payment) is segment-aware: %s → %s', (candidate, expected) => {
    expect(ok(matchIdPrefix(id('spiffe://td/payment')), candidate)).toBe(expected);
  });

  it('matchIdPrefix of a trust domain ID accepts its members only', () => {
    const m = matchIdPrefix(id('spiffe://td'));
    expect(ok(m, 'spiffe://td/x')).toBe(true);
    expect(ok(m, 'spiffe://tdx/x')).toBe(false);
  });

  it('combinators compose and keep a reason', () => {
    const payments = matchIdPrefix(id('spiffe://td/ns/payments'));
    const notAdmin = matchNot(matchId(id('spiffe://td/ns/payments/sa/admin')), 'admin is refused');
    const m = matchAll(matchMemberOf(parseTrustDomain('td')), payments, notAdmin);
    expect(m(id('spiffe://td/ns/payments/sa/checkout'))).toBeUndefined();
    expect(m(id('spiffe://td/ns/payments/sa/admin'))).toBe('admin is refused');
    expect(m(id('spiffe://td/ns/web/sa/frontend'))).toMatch(/prefix/);
    expect(matchAnyOf()(id('spiffe://td/x'))).toBeDefined();
    expect(matchAll()(id('spiffe://td/x'))).toBeUndefined();
    expect(
      ok(matchAnyOf(matchId(id('spiffe://td/a')), payments), 'spiffe://td/ns/payments/x'),
    ).toBe(true);
  });
});
