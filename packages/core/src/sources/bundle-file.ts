import { X509Certificate } from 'node:crypto';
import type { X509Bundle } from '../tls/sources.js';
import { pemBlocks, PemFormatError } from './pem-blocks.js';
import { BundleError } from './source-errors.js';
import { parseSpiffeBundle, type SpiffeBundle } from './spiffe-bundle.js';

/**
 * Parses a trust bundle file's content for `trustDomain`: PEM CA certificates, or a SPIFFE bundle
 * document when the content starts with `{`. A PEM bundle must hold at least one certificate and
 * nothing but certificates; duplicates are kept once.
 *
 * @internal
 * @throws {BundleError} `ERR_BUNDLE_NO_CERTIFICATE`, `ERR_BUNDLE_AUTHORITY_INVALID`, or a SPIFFE
 *   bundle document's `ERR_BUNDLE_*` code.
 * @example
 * ```ts
 * parseBundleFile('example.org', readFileSync('/etc/tls/ca.crt')).authorities.length;
 * ```
 */
export function parseBundleFile(trustDomain: string, content: Buffer): X509Bundle | SpiffeBundle {
  const text = content.toString('utf8');
  if (text.trimStart().startsWith('{')) return parseSpiffeBundle(trustDomain, content);
  let blocks;
  try {
    blocks = pemBlocks(text);
  } catch (error) {
    if (!(error instanceof PemFormatError)) throw error;
    throw new BundleError('ERR_BUNDLE_AUTHORITY_INVALID', `trust bundle PEM: ${error.message}`);
  }
  if (blocks.length === 0)
    throw new BundleError(
      'ERR_BUNDLE_NO_CERTIFICATE',
      'no certificate found in the trust bundle PEM',
    );
  const authorities = new Map<string, X509Certificate>();
  blocks.forEach((block, i) => {
    if (block.type !== 'CERTIFICATE')
      throw new BundleError(
        'ERR_BUNDLE_AUTHORITY_INVALID',
        `trust bundle PEM block ${i} is a ${block.type}, expected CERTIFICATE`,
      );
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block.der);
    } catch (cause) {
      throw new BundleError(
        'ERR_BUNDLE_AUTHORITY_INVALID',
        `trust bundle certificate ${i} could not be parsed`,
        { cause },
      );
    }
    authorities.set(cert.fingerprint256, cert);
  });
  return Object.freeze({ trustDomain, authorities: Object.freeze([...authorities.values()]) });
}
