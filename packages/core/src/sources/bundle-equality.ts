import type { JSONWebKeySet } from 'jose';
import type { X509Bundle } from '../tls/sources.js';

/** A bundle that may carry JWT authorities (a {@link SpiffeBundle}) or not. @internal */
export type AnyBundle = X509Bundle & { readonly jwtAuthorities?: JSONWebKeySet };

/**
 * Whether two bundles carry the same trust: trust domain, authorities (as a set), JWT keys,
 * sequence and refresh hint. Sources use it to announce `updated` only on a real change, since a
 * consumer such as the guard drops its cached verdicts on every update.
 *
 * @internal
 * @example
 * ```ts
 * if (!sameBundle(current, next)) listeners.emit({ type: 'updated' });
 * ```
 */
export function sameBundle(a: AnyBundle | undefined, b: AnyBundle | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.trustDomain !== b.trustDomain) return false;
  if (a.sequence !== b.sequence || a.refreshHintSec !== b.refreshHintSec) return false;
  const prints = (x: AnyBundle): string =>
    x.authorities
      .map((c) => c.fingerprint256)
      .sort()
      .join(',');
  if (prints(a) !== prints(b)) return false;
  const jwks = (x: AnyBundle): string =>
    JSON.stringify(
      (x.jwtAuthorities?.keys ?? []).map((k) => JSON.stringify(k, Object.keys(k).sort())).sort(),
    );
  return jwks(a) === jwks(b);
}
