import type { X509Certificate } from 'node:crypto';
import { MeshlessError } from '../errors.js';
import { KeyUsageFlags, readCertificateFacts, type CertificateFacts } from './certificate-facts.js';
import { parseSpiffeId, type SpiffeId } from './spiffe-id.js';

/** Stable reasons a presented client certificate does not yield an identity. */
export type PeerFailureReason =
  'mtls_unverified' | 'mtls_svid_invalid' | 'mtls_untrusted_domain' | 'mtls_cert_expired';

/** A rule of the X.509-SVID profile or of chain binding failed. */
export class SvidRuleError extends MeshlessError {
  declare readonly code: PeerFailureReason;
}

export function reject(reason: PeerFailureReason, detail: string): never {
  throw new SvidRuleError(reason, detail);
}

/** What the leaf rules establish; the trust anchor is checked separately. */
export interface SvidLeaf {
  readonly spiffeId: SpiffeId;
  readonly trustDomain: string;
}

/** Parses a certificate's DER, mapping a parse failure to `mtls_svid_invalid`. */
export function certificateFacts(cert: X509Certificate): CertificateFacts {
  try {
    return readCertificateFacts(cert.raw);
  } catch {
    return reject('mtls_svid_invalid', 'certificate could not be parsed');
  }
}

/**
 * The X.509-SVID leaf rules (x509-svid-rules.md part A): no unknown critical extension, exactly
 * one URI SAN read from the DER, a valid SPIFFE ID with a path, not a CA, digitalSignature and
 * neither keyCertSign nor cRLSign. EKU is not checked (go-spiffe accepts any; OpenSSL already
 * refuses a client certificate whose EKU lacks clientAuth).
 *
 * @throws {SvidRuleError}
 */
export function checkSvidLeaf(leaf: X509Certificate): SvidLeaf {
  const facts = certificateFacts(leaf);
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
  return { spiffeId, trustDomain: spiffeId.trustDomain.name };
}
