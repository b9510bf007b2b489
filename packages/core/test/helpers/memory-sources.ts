import type { X509Certificate } from 'node:crypto';
import { createPrivateKey } from 'node:crypto';
import { parseSpiffeId } from '../../src/identity/spiffe-id.js';
import type {
  BundleSource,
  SourceEvent,
  X509Bundle,
  X509Source,
  X509Svid,
} from '../../src/tls/sources.js';
import { parsePemCertificates } from '../../src/tls/trust-bundles.js';

type Listener = (event: SourceEvent) => void;

function listeners() {
  const set = new Set<Listener>();
  return {
    subscribe: (l: Listener) => {
      set.add(l);
      return () => void set.delete(l);
    },
    emit: () => set.forEach((l) => l({ type: 'updated' })),
  };
}

/** An X509Source whose SVID the test replaces. */
export function memoryX509Source(initial: { chainPem: string; keyPem: string }) {
  const l = listeners();
  const toSvid = (m: { chainPem: string; keyPem: string }): X509Svid => {
    const certificates = parsePemCertificates(m.chainPem);
    const uri =
      /URI:([^,\s]+)/.exec((certificates[0] as X509Certificate).subjectAltName ?? '')?.[1] ?? '';
    return {
      id: parseSpiffeId(uri),
      certificates,
      privateKey: createPrivateKey(m.keyPem),
      certChainPem: m.chainPem,
      privateKeyPem: m.keyPem,
    };
  };
  let current = toSvid(initial);
  const source: X509Source & { set(m: { chainPem: string; keyPem: string }): void } = {
    getX509Svid: () => current,
    subscribe: l.subscribe,
    set: (m) => {
      current = toSvid(m);
      l.emit();
    },
  };
  return source;
}

/** A BundleSource whose roots the test replaces. */
export function memoryBundleSource(initial: Record<string, string[]>) {
  const l = listeners();
  let map = new Map<string, X509Bundle>();
  const load = (b: Record<string, string[]>) => {
    map = new Map(
      Object.entries(b).map(([td, pems]) => [
        td,
        { trustDomain: td, authorities: pems.flatMap(parsePemCertificates) },
      ]),
    );
  };
  load(initial);
  const source: BundleSource & { set(b: Record<string, string[]>): void } = {
    getBundleFor: (td) => map.get(td),
    trustDomains: () => [...map.keys()],
    subscribe: l.subscribe,
    set: (b) => {
      load(b);
      l.emit();
    },
  };
  return source;
}
