import type { JWK } from 'jose';
import { JwksFetchError } from './jwks-errors.js';

/** JWK members that only a private or symmetric key has; a key carrying any of them is dropped. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
/** Key types that can verify an asymmetric signature. `oct` (HMAC secrets) never can. */
const ASYMMETRIC_KTY = new Set(['RSA', 'EC', 'OKP', 'AKP']);

/** A JWKS reduced to the public verification keys it may contribute. */
export interface PublicKeySet {
  readonly keys: JWK[];
  /** Keys left out: private members, a symmetric or unknown `kty`, `use` other than `sig`. */
  readonly dropped: number;
}

/**
 * Validates a parsed JWKS document and keeps its public signature keys. Throws
 * `ERR_JWKS_INVALID` when the document is not `{ "keys": [...] }` or no usable key is left, so
 * the store keeps its last good set rather than replacing it with nothing.
 */
export function publicKeySet(doc: unknown): PublicKeySet {
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !Array.isArray(keys))
    throw new JwksFetchError(
      'ERR_JWKS_INVALID',
      'JWKS document is not an object with a keys array',
    );
  const kept: JWK[] = [];
  for (const key of keys as unknown[]) if (isPublicSigningKey(key)) kept.push(key);
  if (kept.length === 0)
    throw new JwksFetchError('ERR_JWKS_INVALID', 'JWKS document has no usable public key');
  return { keys: kept, dropped: keys.length - kept.length };
}

function isPublicSigningKey(key: unknown): key is JWK {
  if (typeof key !== 'object' || key === null || Array.isArray(key)) return false;
  const jwk = key as Record<string, unknown>;
  if (typeof jwk['kty'] !== 'string' || !ASYMMETRIC_KTY.has(jwk['kty'])) return false;
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) return false;
  if (jwk['use'] !== undefined && jwk['use'] !== 'sig') return false;
  return jwk['kid'] === undefined || typeof jwk['kid'] === 'string';
}

/**
 * The identity of a key for removal tracking: its `kid` plus its public material, so a `kid`
 * whose key was replaced counts as removed too.
 */
export function keyIdentity(jwk: JWK): string {
  return JSON.stringify([jwk.kid ?? null, jwk.kty, jwk.crv, jwk.n, jwk.e, jwk.x, jwk.y]);
}

/**
 * Keys of `before` that are not in `after` (by {@link keyIdentity}). Returns their `kid`s and how
 * many of them had none.
 */
export function removedKeys(before: JWK[], after: JWK[]): { kids: string[]; withoutKid: number } {
  const next = new Set(after.map(keyIdentity));
  const kids = new Set<string>();
  let withoutKid = 0;
  for (const jwk of before) {
    if (next.has(keyIdentity(jwk))) continue;
    if (jwk.kid === undefined) withoutKid++;
    else kids.add(jwk.kid);
  }
  return { kids: [...kids], withoutKid };
}

/**
 * `max-age` of a `Cache-Control` header, in seconds; 0 for `no-store`/`no-cache`; undefined when
 * the header says nothing usable (the caller then uses its default TTL).
 */
export function cacheControlMaxAge(header: string | null): number | undefined {
  if (header === null) return undefined;
  let maxAge: number | undefined;
  for (const part of header.toLowerCase().split(',')) {
    const [name = '', value] = part.trim().split('=', 2) as [string?, string?];
    if (name === 'no-store' || name === 'no-cache') return 0;
    if (name === 'max-age' && value !== undefined && /^"?\d{1,10}"?$/.test(value.trim()))
      maxAge = Number(value.trim().replace(/"/g, ''));
  }
  return maxAge;
}
