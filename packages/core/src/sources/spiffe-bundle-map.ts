import type { JSONWebKeySet } from 'jose';
import { parseTrustDomain } from '../identity/spiffe-id.js';
import { MeshlessError } from '../errors.js';
import type { X509Bundle } from '../tls/sources.js';
import { BundleError } from './source-errors.js';
import { serializeSpiffeBundle, spiffeBundleFromJson, type SpiffeBundle } from './spiffe-bundle.js';
import { parseStrictJson, StrictJsonError } from './strict-json.js';

/**
 * Parses a SPIFFE bundle map, `{"trust_domains": {"<td>": <SPIFFE bundle>, ...}}` (the form gRPC
 * and Envoy read for SPIFFE federation), each bundle by {@link parseSpiffeBundle}'s rules. A
 * trust domain named twice, also as `example.org` and `spiffe://example.org`, is refused
 * (x509-svid-rules.md C5): `JSON.parse` alone would silently keep the last one.
 *
 * @throws {BundleError} `ERR_BUNDLE_DUPLICATE_TRUST_DOMAIN`, or a bundle's `ERR_BUNDLE_*` code
 *   (its message names the trust domain).
 * @example
 * ```ts
 * const bundles = parseSpiffeBundleMap(readFileSync('/etc/spiffe/bundles.json'));
 * bundles.get('partner.example')?.authorities;
 * ```
 */
export function parseSpiffeBundleMap(document: string | Uint8Array): Map<string, SpiffeBundle> {
  let doc: unknown;
  try {
    doc = parseStrictJson(document);
  } catch (error) {
    if (!(error instanceof StrictJsonError)) throw error;
    const path = error.duplicatePath;
    if (path?.length === 1 && path[0] === 'trust_domains')
      throw new BundleError(
        'ERR_BUNDLE_DUPLICATE_TRUST_DOMAIN',
        `SPIFFE bundle map: ${error.message}`,
      );
    throw new BundleError('ERR_BUNDLE_PARSE', `SPIFFE bundle map: ${error.message}`);
  }
  const domains = (doc as { trust_domains?: unknown } | null)?.trust_domains;
  if (typeof domains !== 'object' || domains === null || Array.isArray(domains))
    throw new BundleError(
      'ERR_BUNDLE_FIELD',
      'SPIFFE bundle map: "trust_domains" must be an object',
    );
  const map = new Map<string, SpiffeBundle>();
  for (const [key, value] of Object.entries(domains)) {
    let td: string;
    try {
      td = parseTrustDomain(key).name;
    } catch (cause) {
      if (!(cause instanceof MeshlessError)) throw cause;
      throw new BundleError(
        'ERR_BUNDLE_FIELD',
        `SPIFFE bundle map: invalid trust domain (${cause.code})`,
        { cause },
      );
    }
    if (map.has(td))
      throw new BundleError(
        'ERR_BUNDLE_DUPLICATE_TRUST_DOMAIN',
        `SPIFFE bundle map: trust domain ${td} appears twice`,
      );
    map.set(td, spiffeBundleFromJson(td, value));
  }
  return map;
}

/**
 * Serializes bundles as a SPIFFE bundle map, `{"trust_domains": {...}}`, keyed by each bundle's
 * trust domain.
 *
 * @throws {BundleError} `ERR_BUNDLE_DUPLICATE_TRUST_DOMAIN` when two bundles share a trust domain.
 * @example
 * ```ts
 * writeFileSync('bundles.json', serializeSpiffeBundleMap([localBundle, partnerBundle]));
 * ```
 */
export function serializeSpiffeBundleMap(
  bundles: Iterable<X509Bundle & { jwtAuthorities?: JSONWebKeySet }>,
): string {
  const parts: string[] = [];
  const seen = new Set<string>();
  for (const bundle of bundles) {
    if (seen.has(bundle.trustDomain))
      throw new BundleError(
        'ERR_BUNDLE_DUPLICATE_TRUST_DOMAIN',
        `trust domain ${bundle.trustDomain} appears twice`,
      );
    seen.add(bundle.trustDomain);
    parts.push(`${JSON.stringify(bundle.trustDomain)}:${serializeSpiffeBundle(bundle)}`);
  }
  return `{"trust_domains":{${parts.join(',')}}}`;
}
