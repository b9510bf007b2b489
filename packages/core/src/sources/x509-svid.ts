import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { KeyUsageFlags } from '../identity/certificate-facts.js';
import { certificateFacts, checkSvidLeaf, SvidRuleError } from '../identity/svid-rules.js';
import type { SpiffeId } from '../identity/spiffe-id.js';
import type { X509Svid } from '../tls/sources.js';
import { pemBlocks, PemFormatError, type PemBlock } from './pem-blocks.js';
import { SvidError, type SvidErrorCode } from './source-errors.js';

/** Input of {@link parseX509Svid}. */
export interface ParseX509SvidInput {
  /** PEM certificates, leaf first, then intermediates (a trailing root is tolerated). */
  certChainPem: string;
  /** Unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) of the leaf's key. */
  privateKeyPem: string;
  /** Workload API hint, carried through to {@link X509Svid.hint}. */
  hint?: string;
}

/** EC curves Go's `crypto/tls` and Node both use for SVIDs (OpenSSL names). */
const EC_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);

function fail(code: SvidErrorCode, message: string, cause?: unknown): never {
  throw new SvidError(code, message, cause === undefined ? undefined : { cause });
}

function blocksOf(text: string, what: 'certificate' | 'key'): PemBlock[] {
  try {
    return pemBlocks(text);
  } catch (error) {
    if (!(error instanceof PemFormatError)) throw error;
    return fail(
      what === 'certificate' ? 'ERR_SVID_CERTIFICATE_INVALID' : 'ERR_SVID_KEY_FORMAT',
      `${what} PEM: ${error.message}`,
    );
  }
}

function parseCertificates(pem: string): X509Certificate[] {
  const blocks = blocksOf(pem, 'certificate');
  if (blocks.length === 0) fail('ERR_SVID_NO_CERTIFICATE', 'no certificate found in the chain PEM');
  return blocks.map((block, i) => {
    if (block.type !== 'CERTIFICATE')
      fail(
        'ERR_SVID_CERTIFICATE_INVALID',
        `chain PEM block ${i} is a ${block.type}, expected CERTIFICATE`,
      );
    try {
      return new X509Certificate(block.der);
    } catch (cause) {
      return fail('ERR_SVID_CERTIFICATE_INVALID', `certificate ${i} could not be parsed`, cause);
    }
  });
}

/** B4/B5: the first PEM block is an unencrypted PKCS#8 RSA, ECDSA (P-256/384/521) or Ed25519 key. */
function parsePrivateKey(pem: string): KeyObject {
  const block = blocksOf(pem, 'key')[0];
  if (block === undefined) fail('ERR_SVID_KEY_MISSING', 'no private key found in the key PEM');
  if (block.type !== 'PRIVATE KEY')
    fail(
      'ERR_SVID_KEY_FORMAT',
      `expected an unencrypted PKCS#8 "PRIVATE KEY" PEM block, got "${block.type}"`,
    );
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: block.der, format: 'der', type: 'pkcs8' });
  } catch (cause) {
    return fail('ERR_SVID_KEY_FORMAT', 'the PKCS#8 private key could not be parsed', cause);
  }
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === undefined || !EC_CURVES.has(curve))
      fail(
        'ERR_SVID_KEY_TYPE',
        `unsupported EC curve ${curve ?? '(unknown)'}; use P-256, P-384 or P-521`,
      );
  } else if (type !== 'rsa' && type !== 'ed25519') {
    fail(
      'ERR_SVID_KEY_TYPE',
      `unsupported private key type ${type ?? '(unknown)'}; use RSA, ECDSA or Ed25519`,
    );
  }
  return key;
}

/** B3: every certificate after the leaf is a CA with keyCertSign (KeyUsage present). */
function checkSigningCertificate(cert: X509Certificate, index: number): void {
  let isCa = false;
  let keyUsage: number | undefined;
  try {
    ({ isCa, keyUsage } = certificateFacts(cert));
  } catch (cause) {
    fail('ERR_SVID_SIGNING_CERT_INVALID', `certificate ${index} could not be parsed`, cause);
  }
  if (!isCa)
    fail('ERR_SVID_SIGNING_CERT_INVALID', `signing certificate ${index} must have the CA flag set`);
  if (keyUsage === undefined || (keyUsage & KeyUsageFlags.keyCertSign) === 0)
    fail(
      'ERR_SVID_SIGNING_CERT_INVALID',
      `signing certificate ${index} must have the keyCertSign key usage`,
    );
}

/**
 * Parses this workload's own X.509-SVID from PEM and applies x509-svid-rules.md part B (go-spiffe's
 * `x509svid.Parse`): at least one certificate (B1); the leaf is a valid SVID: one URI SAN with a
 * workload SPIFFE ID, not a CA, digitalSignature without keyCertSign/cRLSign, no unknown critical
 * extension (B2); every following certificate is a CA with keyCertSign (B3) and signed the one
 * before it (chain order: leaf first); the key is an unencrypted PKCS#8 `PRIVATE KEY` (SEC1
 * `EC PRIVATE KEY` and PKCS#1 are refused, as in Go) of type RSA, ECDSA P-256/384/521 or Ed25519
 * (B5) that matches the leaf (B4). Validity dates are not checked (neither does Go): peers do.
 *
 * The returned chain and key are re-encoded (PEM from DER, PKCS#8 PEM), ready for `node:tls`.
 *
 * @throws {SvidError} with an `ERR_SVID_*` code naming the rule.
 * @example
 * ```ts
 * const svid = parseX509Svid({
 *   certChainPem: readFileSync('/run/spire/svid.pem', 'utf8'),
 *   privateKeyPem: readFileSync('/run/spire/svid_key.pem', 'utf8'),
 * });
 * svid.id.toString(); // 'spiffe://example.org/ns/payments/sa/checkout'
 * tls.createSecureContext({ cert: svid.certChainPem, key: svid.privateKeyPem });
 * ```
 */
export function parseX509Svid(input: ParseX509SvidInput): X509Svid {
  const certificates = parseCertificates(input.certChainPem);
  const privateKey = parsePrivateKey(input.privateKeyPem);
  const leaf = certificates[0] as X509Certificate;

  let id: SpiffeId;
  try {
    id = checkSvidLeaf(leaf).spiffeId;
  } catch (error) {
    if (!(error instanceof SvidRuleError)) throw error;
    return fail('ERR_SVID_LEAF_INVALID', `leaf certificate: ${error.message}`, error);
  }
  certificates.slice(1).forEach((cert, i) => checkSigningCertificate(cert, i + 1));
  for (let i = 0; i + 1 < certificates.length; i++) {
    const child = certificates[i] as X509Certificate;
    const parent = certificates[i + 1] as X509Certificate;
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey))
      fail(
        'ERR_SVID_CHAIN_ORDER',
        `certificate ${i} is not signed by certificate ${i + 1}; put the leaf first, then its issuers in order`,
      );
  }
  if (!leaf.checkPrivateKey(privateKey))
    fail('ERR_SVID_KEY_MISMATCH', 'the private key does not match the leaf certificate');

  const svid: X509Svid = {
    id,
    certificates: Object.freeze([...certificates]),
    privateKey,
    certChainPem: certificates.map((c) => c.toString()).join(''),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    ...(input.hint !== undefined ? { hint: input.hint } : {}),
  };
  return Object.freeze(svid);
}
