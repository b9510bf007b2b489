import { createHash } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { TokenFailure } from './jwt-verifier.js';

/** The RFC 8705 §3.1 confirmation member: base64url SHA-256 of the client certificate (DER). */
export const X5T_S256 = 'x5t#S256';

/** What a token's `cnf` claim asks of the presenter. */
export type TokenConfirmation =
  /** No `cnf`: a plain bearer token. */
  | { readonly kind: 'none' }
  /** Bound to the mTLS client certificate with this thumbprint (RFC 8705). */
  | { readonly kind: 'x5t#S256'; readonly thumbprint: string }
  /** A `cnf` this verifier cannot satisfy (`jkt` without DPoP, malformed): always refused. */
  | { readonly kind: 'unsupported'; readonly detail: string };

const NONE: TokenConfirmation = { kind: 'none' };
/** 32 bytes in unpadded base64url. */
const SHA256_B64URL = /^[A-Za-z0-9_-]{43}$/;
const FINGERPRINT256 = /^[0-9A-Fa-f]{2}(?::?[0-9A-Fa-f]{2}){31}$/;

/**
 * The RFC 8705 `x5t#S256` thumbprint of a certificate: base64url (no padding) of SHA-256 over
 * its DER encoding (`tlsSocket.getPeerCertificate().raw`, `X509Certificate.raw`).
 *
 * @example
 * ```ts
 * const thumbprint = certificateThumbprint(socket.getPeerCertificate().raw);
 * ```
 */
export function certificateThumbprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('base64url');
}

/**
 * The `x5t#S256` thumbprint from a SHA-256 fingerprint in hex, with or without colons (as Node's
 * `fingerprint256` and `PeerIdentity.fingerprint256` print it), so a caller that already holds
 * the fingerprint need not hash the certificate again.
 *
 * @throws {TypeError} when `fingerprint256` is not 32 hex bytes.
 */
export function thumbprintFromFingerprint256(fingerprint256: string): string {
  if (!FINGERPRINT256.test(fingerprint256))
    throw new TypeError('fingerprint256 must be 32 hex bytes');
  return Buffer.from(fingerprint256.replaceAll(':', ''), 'hex').toString('base64url');
}

/** Reads the `cnf` claim (RFC 7800) of a verified payload. Never throws. */
export function readConfirmation(payload: JWTPayload): TokenConfirmation {
  if (!Object.hasOwn(payload, 'cnf')) return NONE;
  const cnf = payload['cnf'];
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf))
    return { kind: 'unsupported', detail: 'token cnf claim is not an object' };
  const members = Object.keys(cnf);
  // Fail closed: every member must be satisfied, and only x5t#S256 can be (no DPoP `jkt`).
  if (members.length !== 1 || members[0] !== X5T_S256)
    return {
      kind: 'unsupported',
      detail: 'token is bound by a confirmation method other than x5t#S256',
    };
  const thumbprint = (cnf as Record<string, unknown>)[X5T_S256];
  if (typeof thumbprint !== 'string' || !SHA256_B64URL.test(thumbprint))
    return { kind: 'unsupported', detail: 'token cnf x5t#S256 is not a SHA-256 thumbprint' };
  return { kind: 'x5t#S256', thumbprint };
}

/**
 * Checks a token's confirmation against the client certificate of the same request (its
 * `x5t#S256` thumbprint, or undefined without one). A bound token from any other presenter, or a
 * `cnf` that cannot be satisfied, is refused with `jwt_cnf_mismatch`.
 */
export function checkConfirmation(
  confirmation: TokenConfirmation,
  peerThumbprint: string | undefined,
): TokenFailure | undefined {
  switch (confirmation.kind) {
    case 'none':
      return undefined;
    case 'unsupported':
      return { reason: 'jwt_cnf_mismatch', detail: confirmation.detail };
    case 'x5t#S256':
      if (peerThumbprint === undefined)
        return {
          reason: 'jwt_cnf_mismatch',
          detail: 'token is bound to a client certificate, and the request has none',
        };
      if (peerThumbprint !== confirmation.thumbprint)
        return {
          reason: 'jwt_cnf_mismatch',
          detail: 'token is bound to another client certificate',
        };
      return undefined;
  }
}
