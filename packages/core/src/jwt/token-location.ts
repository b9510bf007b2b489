/** Result of looking for a bearer token in a request. */
export type TokenLookup =
  | { readonly kind: 'none' }
  | { readonly kind: 'found'; readonly token: string }
  | { readonly kind: 'ambiguous' };

const PREFIX = 'Bearer ';

/**
 * Finds the bearer token in `Authorization: Bearer <token>` (Istio's default location). The prefix
 * test is case-sensitive, as in Envoy: `bearer x` or `Basic …` count as no token (anonymous).
 * Several Authorization headers are ambiguous and refused.
 */
export function findBearerToken(
  headers: Record<string, string | string[] | undefined>,
): TokenLookup {
  const value = headers['authorization'];
  if (value === undefined) return { kind: 'none' };
  if (Array.isArray(value)) return value.length === 0 ? { kind: 'none' } : { kind: 'ambiguous' };
  if (!value.startsWith(PREFIX)) return { kind: 'none' };
  return { kind: 'found', token: value.slice(PREFIX.length).trim() };
}
