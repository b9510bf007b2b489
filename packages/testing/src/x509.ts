/**
 * Internal: the single place that loads `@peculiar/x509`.
 *
 * `@peculiar/x509` 2.x uses tsyringe, which needs the `reflect-metadata` polyfill loaded first
 * (else: "tsyringe requires a reflect polyfill"), and it needs a WebCrypto provider.
 *
 * @internal
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

export { x509 };

/**
 * Returns the URI SANs of a DER certificate, read from the DER (never from Node's text rendering).
 *
 * @internal
 */
export function uriSansFromDer(der: Uint8Array): string[] {
  const cert = new x509.X509Certificate(der);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  if (san === null) return [];
  return san.names.items.filter((n) => n.type === 'url').map((n) => n.value);
}
