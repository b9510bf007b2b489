import type { X509Certificate } from 'node:crypto';
import { Lru } from '../internal/lru.js';
import { KeyUsageFlags, type CertificateFacts } from './certificate-facts.js';
import { certificateFacts } from './svid-rules.js';

/** A path from the leaf to a root of the leaf's own trust domain, and when it is valid. */
export interface ChainPath {
  readonly root: X509Certificate;
  /** Latest notBefore and earliest notAfter over every certificate of the path, in ms. */
  readonly notBefore: number;
  readonly notAfter: number;
}

const MAX_DEPTH = 8;
const caFactsCache = new Lru<string, CertificateFacts | null>(512);

function caFacts(cert: X509Certificate): CertificateFacts | null {
  const fp = cert.fingerprint256;
  let facts = caFactsCache.get(fp);
  if (facts === undefined) {
    try {
      facts = certificateFacts(cert);
    } catch {
      facts = null;
    }
    caFactsCache.set(fp, facts);
  }
  return facts;
}

/**
 * A signing CA: cA set, keyCertSign when KeyUsage is present, path length large enough. A
 * peer-sent intermediate must also carry no critical extension this verifier does not process
 * (e.g. name constraints); configured roots are trusted as they are.
 */
function canSign(cert: X509Certificate, intermediatesBelow: number, isAnchor: boolean): boolean {
  const facts = caFacts(cert);
  if (!facts || !facts.isCa) return false;
  if (!isAnchor && facts.unknownCritical.length > 0) return false;
  if (facts.keyUsage !== undefined && (facts.keyUsage & KeyUsageFlags.keyCertSign) === 0)
    return false;
  return facts.pathLen === undefined || intermediatesBelow <= facts.pathLen;
}

function issued(child: X509Certificate, parent: X509Certificate): boolean {
  return child.checkIssued(parent) && child.verify(parent.publicKey);
}

function bounds(certs: X509Certificate[]): { notBefore: number; notAfter: number } {
  let notBefore = -Infinity;
  let notAfter = Infinity;
  for (const c of certs) {
    notBefore = Math.max(notBefore, Date.parse(c.validFrom));
    notAfter = Math.min(notAfter, Date.parse(c.validTo));
  }
  return { notBefore, notAfter };
}

/**
 * Finds a path from `leaf` through the peer-sent `intermediates` to one of `roots`: signatures,
 * CA flags, keyCertSign and path lengths are checked; anchors come only from `roots` (a
 * self-signed certificate sent by the peer is never an anchor). Validity is returned as bounds so
 * the caller can check it on every request. Without `verifiedByTls`, a peer-sent intermediate with
 * a critical extension this walk does not process (e.g. name constraints) is refused.
 */
export function findChainToRoots(
  leaf: X509Certificate,
  intermediates: readonly X509Certificate[],
  roots: readonly X509Certificate[],
  options: { verifiedByTls?: boolean } = {},
): ChainPath | undefined {
  // OpenSSL already enforced the intermediates' critical extensions (e.g. name constraints).
  const checkCritical = options.verifiedByTls !== true;
  const walk = (cert: X509Certificate, path: X509Certificate[]): ChainPath | undefined => {
    const below = path.length - 1; // intermediates between this certificate's issuer and the leaf
    for (const root of roots) {
      if (issued(cert, root) && canSign(root, below, true))
        return { root, ...bounds([...path, root]) };
    }
    if (path.length > MAX_DEPTH) return undefined;
    for (const ca of intermediates) {
      if (path.includes(ca) || ca.checkIssued(ca)) continue;
      if (issued(cert, ca) && canSign(ca, below, !checkCritical)) {
        const found = walk(ca, [...path, ca]);
        if (found) return found;
      }
    }
    return undefined;
  };
  return walk(leaf, [leaf]);
}
