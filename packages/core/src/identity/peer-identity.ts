import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { MeshlessError } from '../errors.js';
import { Lru } from '../internal/lru.js';
import type { TrustBundleSet } from '../tls/trust-bundles.js';
import { KeyUsageFlags, readCertificateFacts } from './certificate-facts.js';
import { parseSpiffeId, type SpiffeId } from './spiffe-id.js';

/** A peer whose X.509-SVID passed every check. */
export interface PeerIdentity {
  readonly spiffeId: SpiffeId;
  /** The SPIFFE ID as a string (`spiffe://td/path`). */
  readonly id: string;
  readonly trustDomain: string;
  /** SHA-256 fingerprint of the leaf, colon-separated hex as Node prints it. */
  readonly fingerprint256: string;
  /** Validity, in ms since the epoch; checked on every request, not only at the handshake. */
  readonly notBefore: number;
  readonly notAfter: number;
}

/** Stable reasons a presented client certificate does not yield an identity. */
export type PeerFailureReason =
  'mtls_unverified' | 'mtls_svid_invalid' | 'mtls_untrusted_domain' | 'mtls_cert_expired';

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

/** Where the guard reads the peer from: a TLS socket, or a client leaf handed over by the caller. */
export interface PeerSource {
  socket?: TLSSocket | undefined;
  peerCertificate?: X509Certificate | Uint8Array | undefined;
}

class SvidRuleError extends MeshlessError {
  declare readonly code: PeerFailureReason;
}

type Verdict = { identity: PeerIdentity } | { reason: PeerFailureReason; detail: string };
interface Cached {
  version: number;
  verdict: Verdict;
}

/**
 * Resolves the SPIFFE identity of the peer, applying the X.509-SVID rules (exactly one URI SAN, a
 * valid non-root SPIFFE ID, not a CA, digitalSignature and no keyCertSign/cRLSign) and binding the
 * trust domain to its own bundle (a leaf of domain B signed by A's root is refused, which Node's
 * TLS layer accepts). Verdicts are cached per certificate fingerprint (bounded) and per socket, and
 * dropped when the bundle set changes. Expiry is checked on every call.
 */
export class PeerIdentityResolver {
  readonly #bundles: () => TrustBundleSet;
  readonly #byFingerprint = new Lru<string, Cached>(1024);
  readonly #bySocket = new WeakMap<object, Cached>();

  constructor(bundles: () => TrustBundleSet) {
    this.#bundles = bundles;
  }

  resolve(source: PeerSource, now: number = Date.now()): PeerResult {
    const bundles = this.#bundles();
    const socket = source.socket;
    if (socket) {
      const hit = this.#bySocket.get(socket);
      if (hit && hit.version === bundles.version) return finish(hit.verdict, now, true);
      if (socket.encrypted !== true) return { kind: 'none' };
      const leaf = socket.getPeerX509Certificate?.();
      if (!leaf) return { kind: 'none' };
      // Never take an identity from a certificate the TLS layer did not verify: users often run
      // with rejectUnauthorized: false.
      const verdict: Verdict =
        socket.authorized === true
          ? this.#verifyLeaf(leaf, bundles)
          : {
              reason: 'mtls_unverified',
              detail: `TLS verification failed: ${String(socket.authorizationError ?? 'unknown')}`,
            };
      this.#bySocket.set(socket, { version: bundles.version, verdict });
      return finish(verdict, now, false);
    }
    if (source.peerCertificate) {
      let leaf: X509Certificate;
      try {
        leaf =
          source.peerCertificate instanceof X509Certificate
            ? source.peerCertificate
            : new X509Certificate(source.peerCertificate);
      } catch {
        return {
          kind: 'fail',
          reason: 'mtls_svid_invalid',
          detail: 'peer certificate is not valid DER',
          cached: false,
        };
      }
      return finish(this.#verifyLeaf(leaf, bundles), now, false);
    }
    return { kind: 'none' };
  }

  #verifyLeaf(leaf: X509Certificate, bundles: TrustBundleSet): Verdict {
    const fingerprint = leaf.fingerprint256;
    const hit = this.#byFingerprint.get(fingerprint);
    if (hit && hit.version === bundles.version) return hit.verdict;
    let verdict: Verdict;
    try {
      verdict = { identity: verifySvid(leaf, bundles, fingerprint) };
    } catch (error) {
      if (!(error instanceof SvidRuleError)) throw error;
      verdict = { reason: error.code, detail: error.message };
    }
    this.#byFingerprint.set(fingerprint, { version: bundles.version, verdict });
    return verdict;
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
      detail: 'peer certificate is outside its validity period',
      cached,
    };
  return { kind: 'ok', identity, cached };
}

function reject(reason: PeerFailureReason, detail: string): never {
  throw new SvidRuleError(reason, detail);
}

/** The X.509-SVID peer rules (x509-svid-rules.md part A), for a leaf already parsed. */
function verifySvid(
  leaf: X509Certificate,
  bundles: TrustBundleSet,
  fingerprint256: string,
): PeerIdentity {
  let facts;
  try {
    facts = readCertificateFacts(leaf.raw);
  } catch {
    reject('mtls_svid_invalid', 'certificate could not be parsed');
  }
  if (facts.unknownCritical.length > 0)
    reject('mtls_svid_invalid', 'leaf certificate has an unknown critical extension');
  if (facts.uris.length !== 1)
    reject('mtls_svid_invalid', `expected exactly one URI SAN, found ${facts.uris.length}`);
  let spiffeId: SpiffeId;
  try {
    spiffeId = parseSpiffeId(facts.uris[0] as string);
  } catch (error) {
    reject(
      'mtls_svid_invalid',
      `URI SAN is not a valid SPIFFE ID (${(error as MeshlessError).code})`,
    );
  }
  if (spiffeId.isTrustDomainId)
    reject('mtls_svid_invalid', 'SPIFFE ID of a workload must have a path');
  if (facts.isCa) reject('mtls_svid_invalid', 'leaf certificate must not be a CA');
  const ku = facts.keyUsage;
  if (ku === undefined || (ku & KeyUsageFlags.digitalSignature) === 0)
    reject('mtls_svid_invalid', 'leaf certificate must have the digitalSignature key usage');
  if ((ku & (KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)) !== 0)
    reject('mtls_svid_invalid', 'leaf certificate must not have keyCertSign or cRLSign');
  const td = spiffeId.trustDomain.name;
  const roots = bundles.get(td);
  if (!roots || roots.length === 0)
    reject('mtls_untrusted_domain', `no trust bundle for trust domain ${td}`);
  // The chain must end at a root of the leaf's own trust domain (a root that is itself valid).
  const root = roots.find((r) => leaf.checkIssued(r) && leaf.verify(r.publicKey));
  if (!root)
    reject('mtls_untrusted_domain', `certificate is not issued by a root of trust domain ${td}`);
  return {
    spiffeId,
    id: spiffeId.toString(),
    trustDomain: td,
    fingerprint256,
    // The identity is valid while both the leaf and its root are.
    notBefore: Math.max(Date.parse(leaf.validFrom), Date.parse(root.validFrom)),
    notAfter: Math.min(Date.parse(leaf.validTo), Date.parse(root.validTo)),
  };
}
