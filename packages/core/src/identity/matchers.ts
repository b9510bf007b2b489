import type { SpiffeId, TrustDomain } from './spiffe-id.js';

/**
 * Decides whether a peer's SPIFFE ID is acceptable. Returns `undefined` to accept, or a short
 * reason to refuse (used in denial spans and errors). Plain functions, composable with
 * {@link matchAll}, {@link matchAnyOf} and {@link matchNot} (go-spiffe's `Matcher` shape).
 *
 * @example
 * ```ts
 * const matcher = matchAll(matchMemberOf(parseTrustDomain('example.org')), matchIdPrefix(parseSpiffeId('spiffe://example.org/ns/payments')));
 * matcher(parseSpiffeId('spiffe://example.org/ns/payments/sa/checkout')); // undefined: accepted
 * ```
 */
export type SpiffeIdMatcher = (id: SpiffeId) => string | undefined;

/** Accepts any SPIFFE ID. Use only where the trust bundle alone is the policy. */
export function matchAny(): SpiffeIdMatcher {
  return () => undefined;
}

/** Accepts exactly `expected`. */
export function matchId(expected: SpiffeId): SpiffeIdMatcher {
  const text = expected.toString();
  return (id) => (id.toString() === text ? undefined : 'SPIFFE ID does not match the expected ID');
}

/** Accepts any of the given IDs. */
export function matchOneOf(...expected: SpiffeId[]): SpiffeIdMatcher {
  const set = new Set(expected.map((e) => e.toString()));
  return (id) => (set.has(id.toString()) ? undefined : 'SPIFFE ID is not one of the expected IDs');
}

/** Accepts any ID of the trust domain. */
export function matchMemberOf(trustDomain: TrustDomain): SpiffeIdMatcher {
  const name = trustDomain.name;
  return (id) =>
    id.trustDomain.name === name
      ? undefined
      : 'SPIFFE ID is not a member of the expected trust domain';
}

/**
 * Accepts `prefix` itself and every ID below it, segment-aware: `spiffe://td/payment` accepts
 * `spiffe://td/payment` and `spiffe://td/payment/x`, never `spiffe://td/payments-evil` (the naive
 * string prefix bug of kumahq/kuma#15438).
 */
export function matchIdPrefix(prefix: SpiffeId): SpiffeIdMatcher {
  const text = prefix.toString();
  const below = `${text}/`;
  return (id) => {
    const s = id.toString();
    return s === text || s.startsWith(below)
      ? undefined
      : 'SPIFFE ID is not under the expected prefix';
  };
}

/** Accepts when every matcher accepts (an empty list accepts). */
export function matchAll(...matchers: SpiffeIdMatcher[]): SpiffeIdMatcher {
  return (id) => {
    for (const m of matchers) {
      const reason = m(id);
      if (reason !== undefined) return reason;
    }
    return undefined;
  };
}

/** Accepts when at least one matcher accepts (an empty list refuses). */
export function matchAnyOf(...matchers: SpiffeIdMatcher[]): SpiffeIdMatcher {
  return (id) => {
    let last = 'no matcher accepted the SPIFFE ID';
    for (const m of matchers) {
      const reason = m(id);
      if (reason === undefined) return undefined;
      last = reason;
    }
    return last;
  };
}

/** Inverts a matcher. */
export function matchNot(
  matcher: SpiffeIdMatcher,
  reason = 'SPIFFE ID is explicitly refused',
): SpiffeIdMatcher {
  return (id) => (matcher(id) === undefined ? reason : undefined);
}
