import type { KeyObject, X509Certificate } from 'node:crypto';
import type { SpiffeId } from '../identity/spiffe-id.js';

/** What a source reports to its subscribers. */
export type SourceEvent =
  { readonly type: 'updated' } | { readonly type: 'error'; readonly error: Error };

/** The X.509 trust anchors of one trust domain. */
export interface X509Bundle {
  /** Trust domain name, e.g. `example.org`. */
  readonly trustDomain: string;
  /** Root CA certificates. Empty means: trust nothing for this domain. */
  readonly authorities: readonly X509Certificate[];
  /** SPIFFE bundle `spiffe_sequence`, when the bundle came from a bundle document. */
  readonly sequence?: number;
  /** SPIFFE bundle `spiffe_refresh_hint`, in seconds. */
  readonly refreshHintSec?: number;
}

/**
 * Trust bundles per trust domain (go-spiffe's `x509bundle.Source`). Static PEM, SPIFFE bundle
 * documents, federation endpoints and the Workload API all implement it.
 */
export interface BundleSource {
  /** The bundle of a trust domain, or undefined when this source has none. */
  getBundleFor(trustDomain: string): X509Bundle | undefined;
  /** Every trust domain this source has a bundle for (to build a TLS `ca` list). */
  trustDomains(): string[];
  /** Tells when bundles changed (or an update failed); returns an unsubscribe function. */
  subscribe?(listener: (event: SourceEvent) => void): () => void;
}

/** This workload's own X.509-SVID. */
export interface X509Svid {
  readonly id: SpiffeId;
  /** Leaf first, then intermediates. */
  readonly certificates: readonly X509Certificate[];
  readonly privateKey: KeyObject;
  /** The chain as PEM (leaf first) and the key as PKCS#8 PEM, ready for `node:tls` options. */
  readonly certChainPem: string;
  readonly privateKeyPem: string;
  /** Workload API hint, when the agent sent one. */
  readonly hint?: string;
}

/** This workload's own SVID, possibly rotating (go-spiffe's `x509svid.Source`). */
export interface X509Source {
  /** The current SVID. Throws when none is available yet. */
  getX509Svid(): X509Svid;
  /** Tells when the SVID rotated (or an update failed); returns an unsubscribe function. */
  subscribe?(listener: (event: SourceEvent) => void): () => void;
}
