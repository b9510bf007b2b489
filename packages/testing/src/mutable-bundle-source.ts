/** A trust bundle source whose bundles a test replaces (meshless `BundleSource` shape). */
import { X509Certificate } from 'node:crypto';

type Listener = (event: { readonly type: 'updated' } | { type: 'error'; error: Error }) => void;

/** A bundle source (meshless `BundleSource`) whose bundles a test replaces with {@link MutableBundleSource.set}. */
export interface MutableBundleSource {
  getBundleFor(
    trustDomain: string,
  ): { readonly trustDomain: string; readonly authorities: readonly X509Certificate[] } | undefined;
  trustDomains(): string[];
  subscribe(listener: Listener): () => void;
  /** Replaces every bundle (trust domain → root PEMs) and notifies subscribers (`updated`). */
  set(bundles: Record<string, string[]>): void;
  /** Number of current subscribers. */
  readonly subscribers: number;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Creates a {@link MutableBundleSource} holding `initial`. */
export function createMutableBundleSource(initial: Record<string, string[]>): MutableBundleSource {
  let map = new Map<string, X509Certificate[]>();
  const listeners = new Set<Listener>();
  const load = (bundles: Record<string, string[]>) => {
    map = new Map(
      Object.entries(bundles).map(([td, pems]) => [
        td,
        pems.flatMap((pem) => (pem.match(PEM_BLOCK) ?? []).map((b) => new X509Certificate(b))),
      ]),
    );
  };
  load(initial);
  return {
    getBundleFor: (td) => {
      const authorities = map.get(td);
      return authorities ? { trustDomain: td, authorities } : undefined;
    },
    trustDomains: () => [...map.keys()],
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(bundles) {
      load(bundles);
      for (const listener of listeners) listener({ type: 'updated' });
    },
    get subscribers() {
      return listeners.size;
    },
  };
}
