import { MeshlessError } from '../errors.js';

/** Why an own X.509-SVID (certificate chain + private key) was refused (x509-svid-rules.md part B). */
export type SvidErrorCode =
  | 'ERR_SVID_NO_CERTIFICATE'
  | 'ERR_SVID_CERTIFICATE_INVALID'
  | 'ERR_SVID_LEAF_INVALID'
  | 'ERR_SVID_SIGNING_CERT_INVALID'
  | 'ERR_SVID_CHAIN_ORDER'
  | 'ERR_SVID_KEY_MISSING'
  | 'ERR_SVID_KEY_FORMAT'
  | 'ERR_SVID_KEY_TYPE'
  | 'ERR_SVID_KEY_MISMATCH'
  | 'ERR_SVID_FILE';

/**
 * Thrown by {@link parseX509Svid} and {@link createFileX509Source} (and reported to subscribers
 * when a rotated SVID is refused). Messages name the rule and the file, never key or certificate
 * bytes.
 *
 * @example
 * ```ts
 * try {
 *   parseX509Svid({ certChainPem, privateKeyPem });
 * } catch (error) {
 *   if (error instanceof SvidError && error.code === 'ERR_SVID_KEY_MISMATCH') rotateAgain();
 * }
 * ```
 */
export class SvidError extends MeshlessError {
  declare readonly code: SvidErrorCode;
  constructor(code: SvidErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Why a trust bundle (PEM file, SPIFFE bundle document, bundle endpoint) was refused. */
export type BundleErrorCode =
  | 'ERR_BUNDLE_PARSE'
  | 'ERR_BUNDLE_KEYS_MISSING'
  | 'ERR_BUNDLE_FIELD'
  | 'ERR_BUNDLE_AUTHORITY_INVALID'
  | 'ERR_BUNDLE_DUPLICATE_TRUST_DOMAIN'
  | 'ERR_BUNDLE_NO_CERTIFICATE'
  | 'ERR_BUNDLE_FILE'
  | 'ERR_BUNDLE_FETCH'
  | 'ERR_BUNDLE_HTTP_STATUS'
  | 'ERR_BUNDLE_REDIRECT'
  | 'ERR_BUNDLE_TIMEOUT'
  | 'ERR_BUNDLE_TOO_LARGE'
  | 'ERR_BUNDLE_STALE_SEQUENCE'
  | 'ERR_BUNDLE_SOURCE_CLOSED';

/**
 * Thrown by {@link parseSpiffeBundle} and the bundle sources, and reported to subscribers when a
 * refresh fails (the last good bundle stays in use).
 *
 * @example
 * ```ts
 * source.subscribe((event) => {
 *   if (event.type === 'error' && event.error instanceof BundleError) log.warn(event.error.code);
 * });
 * ```
 */
export class BundleError extends MeshlessError {
  declare readonly code: BundleErrorCode;
  constructor(code: BundleErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
