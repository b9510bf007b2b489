import type { BundleSource, SourceEvent } from '../tls/sources.js';

/**
 * Combines bundle sources into one: `getBundleFor(td)` asks the sources in order and the first
 * that has the trust domain wins (a bundle is never merged across sources, SPIFFE Federation
 * §4.2); `trustDomains()` is the union; `subscribe` fans in every source's events. So a guard can
 * trust the local bundle and federated ones at once.
 *
 * @example
 * ```ts
 * const local = await createFileX509Source({ certFile, keyFile, bundleFile });
 * const partner = createFederatedBundleSource({ trustDomain: 'partner.example', endpointUrl });
 * const guard = createGuard({ trustBundles: combineBundleSources(local, partner), ... });
 * ```
 */
export function combineBundleSources(...sources: BundleSource[]): BundleSource {
  const list = [...sources];
  return {
    getBundleFor(trustDomain) {
      for (const source of list) {
        const bundle = source.getBundleFor(trustDomain);
        if (bundle !== undefined) return bundle;
      }
      return undefined;
    },
    trustDomains() {
      return [...new Set(list.flatMap((source) => source.trustDomains()))];
    },
    subscribe(listener: (event: SourceEvent) => void) {
      const offs = list.map((source) => source.subscribe?.(listener));
      return () => {
        for (const off of offs) off?.();
      };
    },
  };
}
