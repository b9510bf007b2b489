import type { JwtLocation } from '../policy/model.js';

/** Istio's default locations: `Authorization: Bearer <token>` (scheme case-insensitive here), then `?access_token=`. */
export const DEFAULT_LOCATIONS: readonly JwtLocation[] = [
  { header: 'authorization', prefix: 'Bearer ' },
  { param: 'access_token' },
];

/** A token and where it was found. */
export interface FoundToken {
  readonly token: string;
  readonly location: JwtLocation;
}

export type TokenSearch =
  | { readonly kind: 'none' }
  | { readonly kind: 'found'; readonly found: FoundToken }
  | { readonly kind: 'ambiguous' };

/** A stable key for a location, to compare and deduplicate them. */
export function locationKey(l: JwtLocation): string {
  return 'header' in l
    ? `h:${l.header}:${l.prefix}`
    : 'param' in l
      ? `p:${l.param}`
      : `c:${l.cookie}`;
}

function headerValues(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string[] {
  const v = headers[name];
  if (v === undefined) return [];
  if (Array.isArray(v)) return v;
  if (typeof v !== 'string') throw new TypeError('header values must be strings'); // fail closed
  return [v];
}

/** Cookie values named `name` in all `Cookie` headers. */
export function cookieValues(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string[] {
  const out: string[] = [];
  for (const line of headerValues(headers, 'cookie'))
    for (const pair of line.split(';')) {
      const eq = pair.indexOf('=');
      if (eq > 0 && pair.slice(0, eq).trim() === name) out.push(pair.slice(eq + 1).trim());
    }
  return out;
}

function isDefaultBearer(l: JwtLocation): boolean {
  return 'header' in l && l.header === 'authorization' && l.prefix === 'Bearer ';
}

function valuesAt(
  l: JwtLocation,
  headers: Record<string, string | string[] | undefined>,
  params: URLSearchParams | undefined,
): string[] {
  if ('param' in l) return params?.getAll(l.param) ?? [];
  if ('cookie' in l) return cookieValues(headers, l.cookie);
  const out: string[] = [];
  for (const value of headerValues(headers, l.header)) {
    // The default Bearer scheme matches case-insensitively (RFC 7235); an explicit prefix literally.
    const matches = isDefaultBearer(l)
      ? value.length > 7 && value.slice(0, 7).toLowerCase() === 'bearer '
      : value.startsWith(l.prefix);
    if (matches) out.push(value.slice(l.prefix.length).trim());
  }
  return out;
}

/**
 * Looks for a token at every configured location. Exactly one is `found`; tokens at two
 * locations, or several at one location (e.g. two `Authorization` headers), are ambiguous.
 */
export function searchToken(
  locations: readonly JwtLocation[],
  headers: Record<string, string | string[] | undefined>,
  query: string | undefined,
): TokenSearch {
  const params = query !== undefined && query !== '' ? new URLSearchParams(query) : undefined;
  let found: FoundToken | undefined;
  for (const location of locations) {
    const values = valuesAt(location, headers, params);
    if (values.length > 1) return { kind: 'ambiguous' };
    const token = values[0];
    if (token === undefined || token === '') continue;
    // A token at a second location is ambiguous too: which location's rule would apply?
    if (found) return { kind: 'ambiguous' };
    found = { token, location };
  }
  return found ? { kind: 'found', found } : { kind: 'none' };
}
