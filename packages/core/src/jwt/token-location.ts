/** Result of looking for a bearer token in a request. */
export type TokenLookup =
  | { readonly kind: 'none' }
  | { readonly kind: 'found'; readonly token: string }
  | { readonly kind: 'ambiguous' };

const SCHEME = /^bearer +/i;

/**
 * Finds the bearer token in `Authorization: Bearer <token>` (Istio's default location). The scheme
 * matches case-insensitively (RFC 7235 §2.1), so `bearer x` is a token, not an anonymous request
 * (Envoy's literal prefix would let it through as anonymous). Another scheme (`Basic …`) is no
 * token. Several Authorization headers are ambiguous and refused.
 */
export function findBearerToken(
  headers: Record<string, string | string[] | undefined>,
): TokenLookup {
  const value = headers['authorization'];
  if (value === undefined) return { kind: 'none' };
  if (Array.isArray(value)) return value.length === 0 ? { kind: 'none' } : { kind: 'ambiguous' };
  if (typeof value !== 'string') throw new TypeError('header values must be strings'); // fail closed
  const scheme = SCHEME.exec(value);
  if (!scheme) return { kind: 'none' };
  return { kind: 'found', token: value.slice(scheme[0].length).trim() };
}
