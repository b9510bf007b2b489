import { createPrivateKey, X509Certificate } from 'node:crypto';
import { parseX509Svid as parseOwnSvid } from '../sources/x509-svid.js';
import { MeshlessError } from '../errors.js';
import { parseSpiffeId, parseTrustDomain, type SpiffeId } from '../identity/spiffe-id.js';
import type { X509Bundle, X509Svid } from '../tls/sources.js';
import { splitDerSequence } from './der.js';
import { WorkloadApiError } from './errors.js';
import type { X509SvidMessage, X509SvidResponseMessage } from './proto.js';

/**
 * One `FetchX509SVID` message, parsed. Every message is the full state: a trust domain missing
 * from `bundles` has been removed.
 */
export interface X509Context {
  /** Every SVID in the agent's order; the first one is the default identity. */
  readonly svids: readonly X509Svid[];
  /**
   * X.509 bundles by trust domain name: the bundles of the SVIDs' trust domains and the
   * federated ones. When the agent sends both for one trust domain, the SVID's bundle wins.
   */
  readonly bundles: ReadonlyMap<string, X509Bundle>;
  /** DER CRLs as the agent sent them (not interpreted). */
  readonly crls: readonly Buffer[];
}

function invalid(message: string, cause?: unknown): never {
  throw new WorkloadApiError(
    'ERR_WORKLOAD_API_INVALID_RESPONSE',
    message,
    cause === undefined ? undefined : { cause },
  );
}

function reason(error: unknown): string {
  return error instanceof MeshlessError ? error.code : 'parse error';
}

function parseCertificates(der: Uint8Array, what: string): X509Certificate[] {
  return splitDerSequence(der, what).map((part, i) => {
    try {
      return new X509Certificate(part);
    } catch (cause) {
      return invalid(`${what}: certificate ${i} cannot be parsed`, cause);
    }
  });
}

function toPem(certs: readonly X509Certificate[]): string {
  return certs
    .map((c) => (c.toString().endsWith('\n') ? c.toString() : `${c.toString()}\n`))
    .join('');
}

/**
 * Parses one `X509SVID` message: the SPIFFE ID, the DER chain (leaf first), the PKCS#8 key and
 * the hint. The leaf must follow the X.509-SVID rules, carry the announced SPIFFE ID and match
 * the private key.
 *
 * @throws {WorkloadApiError} `ERR_WORKLOAD_API_INVALID_RESPONSE`.
 */
export function parseX509Svid(message: X509SvidMessage): X509Svid {
  let id: SpiffeId;
  try {
    id = parseSpiffeId(message.spiffe_id);
  } catch (cause) {
    return invalid(`X509SVID has an invalid spiffe_id (${reason(cause)})`, cause);
  }
  const certificates = parseCertificates(message.x509_svid, 'x509_svid');
  if (certificates.length === 0) return invalid(`X509SVID ${id.toString()} has an empty x509_svid`);
  let privateKeyPem: string;
  try {
    privateKeyPem = createPrivateKey({ key: message.x509_svid_key, format: 'der', type: 'pkcs8' })
      .export({ type: 'pkcs8', format: 'pem' })
      .toString();
  } catch (cause) {
    return invalid(`X509SVID ${id.toString()}: x509_svid_key is not a PKCS#8 DER key`, cause);
  }
  // The same own-SVID rules as for files (x509-svid-rules.md part B): leaf, chain order, CAs, key.
  let svid: X509Svid;
  try {
    svid = parseOwnSvid({
      certChainPem: toPem(certificates),
      privateKeyPem,
      ...(message.hint === '' ? {} : { hint: message.hint }),
    });
  } catch (cause) {
    return invalid(
      `X509SVID ${id.toString()}: ${(cause as Error).message} (${reason(cause)})`,
      cause,
    );
  }
  if (!svid.id.equals(id))
    invalid(`X509SVID ${id.toString()}: the leaf certificate is for ${svid.id.toString()}`);
  return svid;
}

/**
 * Parses the bundle of one trust domain: `key` is a trust domain ID (`spiffe://example.org`) or
 * name, `der` the concatenated DER roots (possibly empty: trust nothing for that domain).
 *
 * @throws {WorkloadApiError} `ERR_WORKLOAD_API_INVALID_RESPONSE`.
 */
export function parseX509Bundle(key: string, der: Uint8Array): X509Bundle {
  let trustDomain: string;
  try {
    trustDomain = parseTrustDomain(key).name;
  } catch (cause) {
    return invalid(`bundle key is not a trust domain (${reason(cause)})`, cause);
  }
  return { trustDomain, authorities: parseCertificates(der, `bundle of ${trustDomain}`) };
}

/**
 * Parses a map of bundles keyed by trust domain ID (`X509BundlesResponse.bundles`,
 * `X509SVIDResponse.federated_bundles`).
 *
 * @throws {WorkloadApiError} `ERR_WORKLOAD_API_INVALID_RESPONSE`.
 */
export function parseX509BundleMap(bundles: Record<string, Uint8Array>): Map<string, X509Bundle> {
  const map = new Map<string, X509Bundle>();
  for (const [key, der] of Object.entries(bundles)) {
    const bundle = parseX509Bundle(key, der);
    map.set(bundle.trustDomain, bundle);
  }
  return map;
}

/**
 * Parses a whole `X509SVIDResponse`. A message without SVIDs is refused (go-spiffe does the
 * same; SPIRE answers PermissionDenied instead of sending one).
 *
 * @throws {WorkloadApiError} `ERR_WORKLOAD_API_INVALID_RESPONSE`.
 */
export function parseX509Context(message: X509SvidResponseMessage): X509Context {
  if (message.svids.length === 0) invalid('X509SVIDResponse holds no SVID');
  const svids = message.svids.map(parseX509Svid);
  const bundles = new Map<string, X509Bundle>();
  message.svids.forEach((m, i) => {
    const td = (svids[i] as X509Svid).id.trustDomain.name;
    if (!bundles.has(td)) bundles.set(td, parseX509Bundle(td, m.bundle));
  });
  for (const [td, bundle] of parseX509BundleMap(message.federated_bundles)) {
    if (!bundles.has(td)) bundles.set(td, bundle);
  }
  return { svids, bundles, crls: message.crl };
}
