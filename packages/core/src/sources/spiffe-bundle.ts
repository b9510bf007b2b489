import { createPublicKey, X509Certificate, type JsonWebKey } from 'node:crypto';
import type { JSONWebKeySet, JWK } from 'jose';
import { parseTrustDomain } from '../identity/spiffe-id.js';
import type { X509Bundle } from '../tls/sources.js';
import { BundleError, type BundleErrorCode } from './source-errors.js';
import { parseStrictJson, StrictJsonError } from './strict-json.js';

/**
 * A parsed SPIFFE bundle (SPIFFE Trust Domain and Bundle §4): the X.509 authorities of a trust
 * domain (it is an {@link X509Bundle}, so a {@link BundleSource} can hand it out as is) plus its
 * JWT-SVID authorities.
 */
export interface SpiffeBundle extends X509Bundle {
  /**
   * JWT-SVID signing keys as a JWKS that jose accepts as is
   * (`createLocalJWKSet(bundle.jwtAuthorities)`): public members, `kid` and `alg` only; the
   * bundle's `use: "jwt-svid"` is dropped, since jose refuses any `use` but `sig`.
   */
  readonly jwtAuthorities: JSONWebKeySet;
}

/** Public members per key type; anything else (`use`, `key_ops`, `x5c`, ...) is dropped. */
const PUBLIC_MEMBERS: Record<string, readonly string[]> = {
  RSA: ['n', 'e'],
  EC: ['crv', 'x', 'y'],
  OKP: ['crv', 'x'],
};
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function fail(code: BundleErrorCode, message: string, cause?: unknown): never {
  throw new BundleError(code, message, cause === undefined ? undefined : { cause });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalCount(doc: Record<string, unknown>, member: string): number | undefined {
  if (!Object.hasOwn(doc, member)) return undefined;
  const value = doc[member];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    fail('ERR_BUNDLE_FIELD', `${member} must be a non-negative integer`);
  return value;
}

/** The key-type members of a JWK, or undefined for a key type a bundle does not carry. */
function publicJwk(entry: Record<string, unknown>, i: number): JWK | undefined {
  const members = typeof entry.kty === 'string' ? PUBLIC_MEMBERS[entry.kty] : undefined;
  if (members === undefined) return undefined; // TB §4.2.1: unknown kty → ignore the element
  if (PRIVATE_MEMBERS.some((m) => Object.hasOwn(entry, m)))
    fail('ERR_BUNDLE_FIELD', `keys[${i}] contains private key material`);
  const jwk: Record<string, unknown> = { kty: entry.kty };
  for (const m of members) {
    if (typeof entry[m] !== 'string')
      fail('ERR_BUNDLE_AUTHORITY_INVALID', `keys[${i}].${m} must be a string`);
    jwk[m] = entry[m];
  }
  try {
    createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch (cause) {
    fail(
      'ERR_BUNDLE_AUTHORITY_INVALID',
      `keys[${i}] is not a valid ${String(entry.kty)} public key`,
      cause,
    );
  }
  return jwk;
}

function x509Authority(entry: Record<string, unknown>, i: number): X509Certificate | undefined {
  const jwk = publicJwk(entry, i);
  if (jwk === undefined || !Object.hasOwn(entry, 'x5c')) return undefined; // X509-SVID §6.2: ignore
  const x5c = entry.x5c;
  if (!Array.isArray(x5c) || x5c.length === 0)
    fail('ERR_BUNDLE_AUTHORITY_INVALID', `keys[${i}].x5c must be a non-empty array`);
  const first: unknown = x5c[0];
  if (typeof first !== 'string' || first.length % 4 !== 0 || !BASE64.test(first))
    fail('ERR_BUNDLE_AUTHORITY_INVALID', `keys[${i}].x5c[0] must be base64 DER`);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Buffer.from(first, 'base64'));
  } catch (cause) {
    return fail('ERR_BUNDLE_AUTHORITY_INVALID', `keys[${i}].x5c[0] is not a certificate`, cause);
  }
  const jwkKey = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  if (!jwkKey.equals(cert.publicKey))
    fail(
      'ERR_BUNDLE_AUTHORITY_INVALID',
      `keys[${i}]: the JWK key and the x5c certificate's key differ`,
    );
  return cert;
}

function jwtAuthority(entry: Record<string, unknown>, i: number): JWK | undefined {
  const jwk = publicJwk(entry, i);
  if (jwk === undefined) return undefined;
  if (typeof entry.kid !== 'string' || entry.kid === '')
    fail('ERR_BUNDLE_FIELD', `keys[${i}]: a jwt-svid key must have a kid`);
  return { ...jwk, kid: entry.kid, ...(typeof entry.alg === 'string' ? { alg: entry.alg } : {}) };
}

/**
 * Parses a SPIFFE bundle document (a JWKS with `spiffe_sequence` and `spiffe_refresh_hint`) for
 * `trustDomain` (a bundle does not name its trust domain: the caller binds it). Rules
 * (x509-svid-rules.md part C): `keys` must be present (`[]` is a valid bundle that trusts
 * nothing); `use: "x509-svid"` entries give their CA from `x5c[0]` (further certificates are
 * ignored, as the X509-SVID spec says; Go rejects them), and must match the JWK's own key;
 * `use: "jwt-svid"` entries need a `kid`; an entry with another or no `use`, an unknown `kty`, or
 * an x509-svid entry without `x5c` is ignored; private key material, a duplicate `kid`, a
 * duplicate JSON member or a bad sequence/hint are errors. Duplicate CAs are kept once.
 *
 * @throws {BundleError} `ERR_BUNDLE_*`; {SpiffeIdError} for an invalid trust domain name.
 * @example
 * ```ts
 * const bundle = parseSpiffeBundle('partner.example', await (await fetch(url)).text());
 * bundle.authorities;                        // X509Certificate[]
 * createLocalJWKSet(bundle.jwtAuthorities);  // jose key set for JWT-SVIDs
 * ```
 */
export function parseSpiffeBundle(
  trustDomain: string,
  document: string | Uint8Array,
): SpiffeBundle {
  const td = parseTrustDomain(trustDomain).name;
  let doc: unknown;
  try {
    doc = parseStrictJson(document);
  } catch (error) {
    if (!(error instanceof StrictJsonError)) throw error;
    return fail('ERR_BUNDLE_PARSE', `SPIFFE bundle for ${td}: ${error.message}`);
  }
  return spiffeBundleFromJson(td, doc);
}

/**
 * {@link parseSpiffeBundle} on an already parsed (strict) JSON value, for a validated trust
 * domain name.
 *
 * @internal
 */
export function spiffeBundleFromJson(td: string, doc: unknown): SpiffeBundle {
  if (!isObject(doc)) fail('ERR_BUNDLE_PARSE', `SPIFFE bundle for ${td}: not a JSON object`);
  if (!Object.hasOwn(doc, 'keys'))
    fail('ERR_BUNDLE_KEYS_MISSING', `SPIFFE bundle for ${td}: "keys" is missing`);
  if (!Array.isArray(doc.keys))
    fail('ERR_BUNDLE_FIELD', `SPIFFE bundle for ${td}: "keys" must be an array`);
  const sequence = optionalCount(doc, 'spiffe_sequence');
  const refreshHintSec = optionalCount(doc, 'spiffe_refresh_hint');

  const authorities = new Map<string, X509Certificate>();
  const jwtKeys = new Map<string, JWK>();
  (doc.keys as unknown[]).forEach((entry, i) => {
    if (!isObject(entry)) fail('ERR_BUNDLE_FIELD', `keys[${i}] must be an object`);
    if (entry.use === 'x509-svid') {
      const cert = x509Authority(entry, i);
      if (cert) authorities.set(cert.fingerprint256, cert);
    } else if (entry.use === 'jwt-svid') {
      const jwk = jwtAuthority(entry, i);
      if (jwk?.kid === undefined) return;
      if (jwtKeys.has(jwk.kid)) fail('ERR_BUNDLE_FIELD', `keys[${i}]: duplicate jwt-svid kid`);
      jwtKeys.set(jwk.kid, Object.freeze(jwk));
    }
  });

  const bundle: SpiffeBundle = {
    trustDomain: td,
    authorities: Object.freeze([...authorities.values()]),
    jwtAuthorities: Object.freeze({ keys: Object.freeze([...jwtKeys.values()]) as JWK[] }),
    ...(sequence !== undefined ? { sequence } : {}),
    ...(refreshHintSec !== undefined ? { refreshHintSec } : {}),
  };
  return Object.freeze(bundle);
}

/**
 * Serializes a bundle as a SPIFFE bundle document (JSON): one `use: "x509-svid"` JWK with `x5c`
 * per authority, one `use: "jwt-svid"` JWK per JWT authority, then `spiffe_sequence` and
 * `spiffe_refresh_hint` when set. {@link parseSpiffeBundle} reads it back to an equal bundle.
 *
 * @example
 * ```ts
 * res.setHeader('content-type', 'application/json');
 * res.end(serializeSpiffeBundle({ trustDomain: 'example.org', authorities: [root], sequence: 7 }));
 * ```
 */
export function serializeSpiffeBundle(
  bundle: X509Bundle & { jwtAuthorities?: JSONWebKeySet },
): string {
  const keys: Record<string, unknown>[] = bundle.authorities.map((cert) => ({
    ...cert.publicKey.export({ format: 'jwk' }),
    use: 'x509-svid',
    x5c: [cert.raw.toString('base64')],
  }));
  for (const jwk of bundle.jwtAuthorities?.keys ?? []) keys.push({ ...jwk, use: 'jwt-svid' });
  return JSON.stringify({
    keys,
    ...(bundle.sequence !== undefined ? { spiffe_sequence: bundle.sequence } : {}),
    ...(bundle.refreshHintSec !== undefined ? { spiffe_refresh_hint: bundle.refreshHintSec } : {}),
  });
}
