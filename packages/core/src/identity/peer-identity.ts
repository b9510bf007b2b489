import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { Lru } from '../internal/lru.js';
import { handshakeAnchors } from '../tls/context-anchors.js';
import type { TrustBundleSet } from '../tls/trust-bundles.js';
import { KeyUsageFlags } from './certificate-facts.js';
import { findChainToRoots } from './chain-binding.js';
import type { SpiffeId } from './spiffe-id.js';
import {
  certificateFacts,
  checkSvidLeaf,
  SvidRuleError,
  type PeerFailureReason,
  type SvidLeaf,
} from './svid-rules.js';

export type { PeerFailureReason } from './svid-rules.js';

/** Where a peer identity comes from: an X.509-SVID, or (opt-in) a DNS SAN or the subject CN. */
export type PeerIdentityKind = 'spiffe' | 'dns' | 'cn';

/** A peer whose certificate passed every check. */
export interface PeerIdentity {
  readonly kind: PeerIdentityKind;
  /** `spiffe://td/path`, or `dns:<name>` / `cn:<name>` for the opt-in fallbacks. */
  readonly id: string;
  /** Set for SPIFFE identities. */
  readonly spiffeId?: SpiffeId;
  /** The SPIFFE trust domain; absent for DNS and CN identities. */
  readonly trustDomain?: string;
  /** SHA-256 fingerprint of the leaf, colon-separated hex as Node prints it. */
  readonly fingerprint256: string;
  /** Validity of the whole chain (leaf to root), in ms since the epoch; checked on every request. */
  readonly notBefore: number;
  readonly notAfter: number;
}

/** Outcome of resolving the peer of one request. */
export type PeerResult =
  | { readonly kind: 'none' }
  | { readonly kind: 'ok'; readonly identity: PeerIdentity; readonly cached: boolean }
  | {
      readonly kind: 'fail';
      readonly reason: PeerFailureReason;
      readonly detail: string;
      readonly cached: boolean;
    };

/** No peer identity (shared: results are read, never changed). */
const NONE: PeerResult = Object.freeze({ kind: 'none' });

/** Where the guard reads the peer from: a TLS socket, or a client chain handed over by the caller. */
export interface PeerSource {
  socket?: TLSSocket | undefined;
  /** The client's leaf (DER or parsed), when there is no socket. */
  peerCertificate?: X509Certificate | Uint8Array | undefined;
  /** Intermediates the client sent with `peerCertificate`, leaf's issuer first. */
  peerIntermediates?: readonly (X509Certificate | Uint8Array)[] | undefined;
}

type Verdict = { identity: PeerIdentity } | { reason: PeerFailureReason; detail: string };
type LeafVerdict = { leaf: SvidLeaf } | { reason: PeerFailureReason; detail: string };
interface Cached {
  version: number;
  verdict: Verdict;
  /** The result handed out on cache hits while the identity is valid (one object, not one per request). */
  hit?: PeerResult;
}

/** Node 24 shows the server only the client's leaf (nodejs/node#65579); Node 20 shows the chain. */
/** The client chain as Node reports it: DER and fingerprints, nothing parsed yet. */
interface RawChain {
  /** Leaf first; self-issued certificates left out (anchors come only from the bundle). */
  readonly der: Buffer[];
  readonly fingerprints: string[];
}

function peerChain(socket: TLSSocket): RawChain | undefined {
  // Read the detailed chain before anything calls getPeerX509Certificate(): on Node 20 that call
  // drops the chain.
  const detailed = socket.getPeerCertificate(true) as DetailedPeerCertificate | undefined;
  if (!detailed || !detailed.raw) return undefined;
  const chain: RawChain = { der: [detailed.raw], fingerprints: [detailed.fingerprint256] };
  const seen = new Set([detailed.fingerprint256]);
  for (
    let c: DetailedPeerCertificate | undefined = detailed.issuerCertificate;
    c && c.raw && !seen.has(c.fingerprint256);
    c = c.issuerCertificate
  ) {
    seen.add(c.fingerprint256);
    if (c.issuerCertificate === c) continue;
    chain.der.push(c.raw);
    chain.fingerprints.push(c.fingerprint256);
  }
  return chain;
}

function toCertificate(value: X509Certificate | Uint8Array): X509Certificate {
  return value instanceof X509Certificate ? value : new X509Certificate(value);
}

/**
 * Resolves the SPIFFE identity of the peer. The leaf must pass the X.509-SVID rules, and its chain
 * must end at a root of the leaf's **own** trust domain (Node's TLS layer accepts a leaf of domain
 * B signed by A's root when both are in `ca`).
 *
 * Over a socket, OpenSSL has verified the chain (`socket.authorized`); the guard then binds it to
 * the trust domain: through the intermediates when Node shows them, and otherwise (Node 24 shows
 * the server only the leaf) by requiring that every root the connection's handshake was verified
 * against belongs to the leaf's trust domain — else (or when those roots are unknown) it refuses
 * rather than guess. In that case the intermediates' expiry cannot be seen: OpenSSL checked it at
 * the handshake, and the leaf's is checked on every request.
 *
 * Leaf checks are cached per certificate fingerprint (bounded), verdicts per socket; both drop
 * when the bundle set changes. Validity is checked on every call.
 */
export class PeerIdentityResolver {
  readonly #bundles: () => TrustBundleSet;
  readonly #leaves = new Lru<string, LeafVerdict>(1024);
  readonly #byChain = new Lru<string, Cached>(1024);
  readonly #bySocket = new WeakMap<object, Cached>();

  readonly #identityFrom: readonly PeerIdentityKind[];

  /**
   * @param bundles The current bundle set.
   * @param options.identityFrom Identity sources in precedence order; default `['spiffe']`. With
   *   `'dns'` / `'cn'`, a verified certificate with **no** URI SAN yields `dns:<first DNS SAN>` or
   *   `cn:<subject CN>`; a certificate with a URI SAN is always judged as an X.509-SVID.
   */
  constructor(
    bundles: () => TrustBundleSet,
    options: { identityFrom?: readonly PeerIdentityKind[] } = {},
  ) {
    this.#bundles = bundles;
    this.#identityFrom = options.identityFrom ?? ['spiffe'];
  }

  /** The opt-in DNS / CN identity of a verified non-SPIFFE certificate, chained to any configured root. */
  #fallback(
    leaf: X509Certificate,
    fingerprint256: string,
    intermediates: readonly X509Certificate[],
    bundles: TrustBundleSet,
    serverAnchors: ReadonlySet<string> | undefined,
    verifiedByTls: boolean,
  ): Verdict | undefined {
    if (this.#identityFrom.every((k) => k === 'spiffe')) return undefined;
    let facts;
    try {
      facts = certificateFacts(leaf);
    } catch {
      return undefined;
    }
    if (facts.uris.length > 0 || facts.isCa || facts.unknownCritical.length > 0) return undefined;
    const ku = facts.keyUsage;
    // Same key usage rules as for an SVID leaf, except that a missing KeyUsage is tolerated.
    if (
      ku !== undefined &&
      ((ku & KeyUsageFlags.digitalSignature) === 0 ||
        (ku & (KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)) !== 0)
    )
      return undefined;
    let id: string | undefined;
    let kind: PeerIdentityKind | undefined;
    for (const k of this.#identityFrom) {
      if (k === 'dns' && facts.dnsNames[0]) [id, kind] = [`dns:${facts.dnsNames[0]}`, k];
      else if (k === 'cn' && facts.commonName) [id, kind] = [`cn:${facts.commonName}`, k];
      if (id !== undefined) break;
    }
    if (id === undefined || kind === undefined) return undefined;
    const tds = bundles.trustDomains();
    const roots = tds.flatMap((td) => bundles.get(td) ?? []);
    const path = findChainToRoots(leaf, intermediates, roots, { verifiedByTls });
    const allowed =
      path !== undefined ||
      (intermediates.length === 0 &&
        serverAnchors !== undefined &&
        serverAnchors.size > 0 &&
        [...serverAnchors].every((fp) => tds.some((td) => bundles.fingerprints(td).has(fp))));
    if (!allowed)
      return {
        reason: 'mtls_untrusted_domain',
        detail: 'certificate does not chain to a configured root',
      };
    return {
      identity: {
        kind,
        id,
        fingerprint256,
        notBefore: path ? path.notBefore : Date.parse(leaf.validFrom),
        notAfter: path ? path.notAfter : Date.parse(leaf.validTo),
      },
    };
  }

  resolve(source: PeerSource, now?: number): PeerResult {
    const socket = source.socket;
    // No TLS connection and no certificate: nothing to verify (plain HTTP, a cheap answer).
    if (!socket && !source.peerCertificate) return NONE;
    return this.#resolve(source, now ?? Date.now());
  }

  #resolve(source: PeerSource, now: number): PeerResult {
    const bundles = this.#bundles();
    const socket = source.socket;
    if (socket) {
      const hit = this.#bySocket.get(socket);
      if (hit && hit.version === bundles.version) {
        if (hit.hit && 'identity' in hit.verdict) {
          const { notBefore, notAfter } = hit.verdict.identity;
          if (now >= notBefore && now <= notAfter) return hit.hit;
        }
        const result = finish(hit.verdict, now, true);
        if (result.kind === 'ok') hit.hit = result;
        return result;
      }
      if (socket.encrypted !== true) return NONE;
      const chain = peerChain(socket);
      if (!chain) return NONE;
      // Never take an identity from a certificate the TLS layer did not verify: users often run
      // with rejectUnauthorized: false.
      let verdict: Verdict;
      if (socket.authorized === true) {
        const anchors = handshakeAnchors(socket);
        // A known chain under the same anchors is not parsed or walked again (new connections of
        // a known client cost only Node's chain read).
        const key = `${chain.fingerprints.join('|')}@${this.#anchorsKey(anchors)}`;
        verdict = this.#cachedVerdict(key, bundles, () => {
          const [leaf, ...intermediates] = chain.der.map((der) => new X509Certificate(der));
          return this.#verify(leaf as X509Certificate, intermediates, bundles, anchors, true);
        });
      } else {
        verdict = {
          reason: 'mtls_unverified',
          detail: `TLS verification failed: ${String(socket.authorizationError ?? 'unknown')}`,
        };
      }
      this.#bySocket.set(socket, { version: bundles.version, verdict });
      return finish(verdict, now, false);
    }
    if (source.peerCertificate) {
      let leaf: X509Certificate;
      let intermediates: X509Certificate[];
      try {
        leaf = toCertificate(source.peerCertificate);
        intermediates = (source.peerIntermediates ?? []).map(toCertificate);
      } catch {
        return {
          kind: 'fail',
          reason: 'mtls_svid_invalid',
          detail: 'peer certificate is not valid DER',
          cached: false,
        };
      }
      const key = `${[leaf, ...intermediates].map((c) => c.fingerprint256).join('|')}@-`;
      const hit = this.#byChain.get(key);
      const verdict = this.#cachedVerdict(key, bundles, () =>
        this.#verify(leaf, intermediates, bundles, undefined, false),
      );
      return finish(verdict, now, hit !== undefined && hit.version === bundles.version);
    }
    return NONE;
  }

  readonly #anchorIds = new WeakMap<ReadonlySet<string>, number>();
  #nextAnchorId = 1;

  /** A short key for a set of handshake anchors (`-` when unknown). */
  #anchorsKey(anchors: ReadonlySet<string> | undefined): string {
    if (!anchors) return '-';
    let id = this.#anchorIds.get(anchors);
    if (id === undefined) this.#anchorIds.set(anchors, (id = this.#nextAnchorId++));
    return String(id);
  }

  /** The verdict for a chain under given anchors, computed once per bundle version. */
  #cachedVerdict(key: string, bundles: TrustBundleSet, compute: () => Verdict): Verdict {
    const hit = this.#byChain.get(key);
    if (hit && hit.version === bundles.version) return hit.verdict;
    const verdict = compute();
    this.#byChain.set(key, { version: bundles.version, verdict });
    return verdict;
  }

  #checkLeaf(leaf: X509Certificate, fingerprint: string): LeafVerdict {
    let verdict = this.#leaves.get(fingerprint);
    if (!verdict) {
      try {
        verdict = { leaf: checkSvidLeaf(leaf) };
      } catch (error) {
        if (!(error instanceof SvidRuleError)) throw error;
        verdict = { reason: error.code, detail: error.message };
      }
      this.#leaves.set(fingerprint, verdict);
    }
    return verdict;
  }

  #verify(
    leaf: X509Certificate,
    intermediates: readonly X509Certificate[],
    bundles: TrustBundleSet,
    serverAnchors: ReadonlySet<string> | undefined,
    verifiedByTls: boolean,
  ): Verdict {
    const fingerprint256 = leaf.fingerprint256;
    const checked = this.#checkLeaf(leaf, fingerprint256);
    if ('reason' in checked)
      return (
        this.#fallback(
          leaf,
          fingerprint256,
          intermediates,
          bundles,
          serverAnchors,
          verifiedByTls,
        ) ?? checked
      );
    const { spiffeId, trustDomain } = checked.leaf;
    const roots = bundles.get(trustDomain);
    if (!roots || roots.length === 0)
      return {
        reason: 'mtls_untrusted_domain',
        detail: `no trust bundle for trust domain ${trustDomain}`,
      };
    const identity = (notBefore: number, notAfter: number): Verdict => ({
      identity: {
        kind: 'spiffe',
        spiffeId,
        id: spiffeId.toString(),
        trustDomain,
        fingerprint256,
        notBefore,
        notAfter,
      },
    });
    const path = findChainToRoots(leaf, intermediates, roots, { verifiedByTls });
    if (path) return identity(path.notBefore, path.notAfter);
    if (intermediates.length === 0 && serverAnchors !== undefined) {
      // Only the leaf is visible, and OpenSSL verified its chain to one of the server's roots: the
      // binding holds when all of them belong to the leaf's trust domain.
      const own = bundles.fingerprints(trustDomain);
      if (serverAnchors.size > 0 && [...serverAnchors].every((fp) => own.has(fp)))
        return identity(Date.parse(leaf.validFrom), Date.parse(leaf.validTo));
      return {
        reason: 'mtls_untrusted_domain',
        detail:
          serverAnchors.size === 0
            ? `chain to a root of trust domain ${trustDomain} cannot be shown: the TLS server has no ca list`
            : `chain to a root of trust domain ${trustDomain} cannot be shown: the TLS server also trusts roots of other trust domains`,
      };
    }
    return {
      reason: 'mtls_untrusted_domain',
      detail: `certificate does not chain to a root of trust domain ${trustDomain}`,
    };
  }
}

function finish(verdict: Verdict, now: number, cached: boolean): PeerResult {
  if ('reason' in verdict)
    return { kind: 'fail', reason: verdict.reason, detail: verdict.detail, cached };
  const { identity } = verdict;
  if (now < identity.notBefore || now > identity.notAfter)
    return {
      kind: 'fail',
      reason: 'mtls_cert_expired',
      detail: 'peer certificate chain is outside its validity period',
      cached,
    };
  return { kind: 'ok', identity, cached };
}
