/** Result of looking for a bearer token in a request. */
export type TokenLookup =
  | { readonly kind: 'none' }
  | { readonly kind: 'found'; readonly token: string }
  | { readonly kind: 'ambiguous' };

const SCHEME = /^bearer +/i;

/**
 * Finds the bearer token in Istio's default locations: `Authorization: Bearer <token>`, then the
 * `access_token` query parameter. A token in both, or in several headers or parameters, is
 * ambiguous and refused.
 *
 * @param query The raw query string (without `?`), if any.
 */
export function findToken(
  headers: Record<string, string | string[] | undefined>,
  query: string | undefined,
): TokenLookup {
  const fromHeader = findBearerToken(headers);
  if (fromHeader.kind === 'ambiguous' || query === undefined || !query.includes('access_token'))
    return fromHeader;
  const values = new URLSearchParams(query).getAll('access_token');
  if (values.length === 0) return fromHeader;
  if (values.length > 1 || fromHeader.kind === 'found') return { kind: 'ambiguous' };
  return { kind: 'found', token: values[0] as string };
}

/**
 * Finds the bearer token in `Authorization: Bearer <token>`. The scheme
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
