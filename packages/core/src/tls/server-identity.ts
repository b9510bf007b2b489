import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, PeerCertificate } from 'node:tls';
import { MeshlessError } from '../errors.js';
import { findChainToRoots } from '../identity/chain-binding.js';
import type { SpiffeIdMatcher } from '../identity/matchers.js';
import type { SpiffeId } from '../identity/spiffe-id.js';
import { checkSvidLeaf, SvidRuleError } from '../identity/svid-rules.js';
import type { BundleSource } from './sources.js';

/** Why a server's certificate was refused by {@link checkServerSpiffeId}. */
export type ServerIdentityErrorCode =
  'ERR_TLS_SERVER_SVID_INVALID' | 'ERR_TLS_SERVER_UNTRUSTED' | 'ERR_TLS_SERVER_NOT_AUTHORIZED';

/** A server certificate that is not an acceptable SVID for this client. */
export class ServerIdentityError extends MeshlessError {
  declare readonly code: ServerIdentityErrorCode;
  constructor(code: ServerIdentityErrorCode, message: string) {
    super(code, message);
  }
}

/**
 * Checks a server's certificate chain the way a SPIFFE client must (Node's hostname check ignores
 * URI SANs): the leaf is a valid X.509-SVID, the chain ends at a root of the leaf's own trust
 * domain, and `authorize` accepts its SPIFFE ID. Use it as `checkServerIdentity`.
 *
 * @returns the server's SPIFFE ID, or an error to fail the handshake.
 */
export function checkServerSpiffeId(
  cert: PeerCertificate | DetailedPeerCertificate,
  bundles: BundleSource,
  authorize: SpiffeIdMatcher,
): SpiffeId | ServerIdentityError {
  if (!cert || !cert.raw)
    return new ServerIdentityError('ERR_TLS_SERVER_SVID_INVALID', 'server sent no certificate');
  const leaf = new X509Certificate(cert.raw);
  let id: SpiffeId;
  try {
    id = checkSvidLeaf(leaf).spiffeId;
  } catch (error) {
    if (!(error instanceof SvidRuleError)) throw error;
    return new ServerIdentityError(
      'ERR_TLS_SERVER_SVID_INVALID',
      `server certificate: ${error.message}`,
    );
  }
  const intermediates: X509Certificate[] = [];
  const seen = new Set([cert.fingerprint256]);
  for (
    let c: DetailedPeerCertificate | undefined = (cert as DetailedPeerCertificate)
      .issuerCertificate;
    c && c.raw && !seen.has(c.fingerprint256);
    c = c.issuerCertificate
  ) {
    seen.add(c.fingerprint256);
    if (c.issuerCertificate !== c) intermediates.push(new X509Certificate(c.raw));
  }
  const roots = bundles.getBundleFor(id.trustDomain.name)?.authorities ?? [];
  if (!findChainToRoots(leaf, intermediates, roots))
    return new ServerIdentityError(
      'ERR_TLS_SERVER_UNTRUSTED',
      `server certificate does not chain to a root of trust domain ${id.trustDomain.name}`,
    );
  const refusal = authorize(id);
  if (refusal !== undefined)
    return new ServerIdentityError(
      'ERR_TLS_SERVER_NOT_AUTHORIZED',
      `server ${id.toString()} is not authorized: ${refusal}`,
    );
  return id;
}
