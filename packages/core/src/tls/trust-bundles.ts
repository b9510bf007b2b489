import { X509Certificate } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { parseTrustDomain } from '../identity/spiffe-id.js';
import type { BundleSource, X509Bundle } from './sources.js';

/** Trust anchors per trust domain: the X.509 bundle set the guard verifies peers against. */
export interface TrustBundleSet {
  /** Roots for a trust domain; an empty list means "trust nothing" for that domain. */
  get(trustDomain: string): readonly X509Certificate[] | undefined;
  /** SHA-256 fingerprints (Node's colon form) of a trust domain's roots. */
  fingerprints(trustDomain: string): ReadonlySet<string>;
  /** All trust domains with a bundle. */
  trustDomains(): string[];
  /** Incremented whenever bundles change; caches keyed on it drop stale verdicts. */
  readonly version: number;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Splits PEM text into certificates. */
export function parsePemCertificates(pem: string): X509Certificate[] {
  return (pem.match(PEM_BLOCK) ?? []).map((block) => new X509Certificate(block));
}

/**
 * A {@link BundleSource} over fixed PEM: `trust domain -> PEM` (one string with one or more
 * certificates, or a list of strings).
 *
 * @throws {SpiffeIdError} for an invalid trust domain name; {ConfigError} for PEM without certificates.
 * @example
 * ```ts
 * const bundles = createStaticBundleSource({ 'example.org': readFileSync('bundle.pem', 'utf8') });
 * ```
 */
export function createStaticBundleSource(bundles: Record<string, string | string[]>): BundleSource {
  const map = new Map<string, X509Bundle>();
  for (const [td, pem] of Object.entries(bundles)) {
    const name = parseTrustDomain(td).name;
    const certs = (Array.isArray(pem) ? pem : [pem]).flatMap((p) => {
      try {
        return parsePemCertificates(p);
      } catch (cause) {
        throw new ConfigError(`trustBundles[${name}]: invalid PEM certificate`, { cause });
      }
    });
    if (certs.length === 0 && (Array.isArray(pem) ? pem.length > 0 : pem.trim() !== ''))
      throw new ConfigError(`trustBundles[${name}]: no PEM certificate found`);
    map.set(name, { trustDomain: name, authorities: certs });
  }
  return { getBundleFor: (td) => map.get(td), trustDomains: () => [...map.keys()] };
}

/**
 * A snapshot of a {@link BundleSource} as the guard uses it, with a version number.
 */
export function snapshotBundles(source: BundleSource, version: number): TrustBundleSet {
  const map = new Map<string, readonly X509Certificate[]>();
  for (const td of source.trustDomains()) {
    const bundle = source.getBundleFor(td);
    if (bundle) map.set(td, bundle.authorities);
  }
  const prints = new Map(
    [...map].map(([td, certs]) => [td, new Set(certs.map((c) => c.fingerprint256))]),
  );
  const none: ReadonlySet<string> = new Set();
  return {
    get: (td) => map.get(td),
    fingerprints: (td) => prints.get(td) ?? none,
    trustDomains: () => [...map.keys()],
    version,
  };
}

/**
 * Builds a {@link TrustBundleSet} from `trust domain -> PEM` (one string with one or more
 * certificates, or a list of strings).
 *
 * @throws {SpiffeIdError} for an invalid trust domain name; {ConfigError} for PEM without certificates.
 */
export function createTrustBundleSet(bundles: Record<string, string | string[]>): TrustBundleSet {
  return snapshotBundles(createStaticBundleSource(bundles), 1);
}
