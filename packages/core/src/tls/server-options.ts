import type { SecureContextOptions, TlsOptions } from 'node:tls';
import type { MtlsMode } from '../guard/options.js';
import type { BundleSource, X509Source } from './sources.js';

/** Sources a TLS listener takes its own SVID and its trust from. */
export interface MtlsServerSources {
  /** This workload's SVID (served as the server certificate). */
  svid: X509Source;
  /** Trust bundles of every trust domain whose clients are accepted. */
  bundles: BundleSource;
}

/** The PEM roots of every trust domain of a bundle source (what OpenSSL verifies client chains against). */
export function bundleRootsPem(bundles: BundleSource): string[] {
  return bundles
    .trustDomains()
    .flatMap((td) => bundles.getBundleFor(td)?.authorities ?? [])
    .map((cert) => cert.toString());
}

/** Key, certificate chain and CA list for `tls.createSecureContext` / `server.setSecureContext`. */
export function secureContextOptions(sources: MtlsServerSources): SecureContextOptions {
  const svid = sources.svid.getX509Svid();
  return { key: svid.privateKeyPem, cert: svid.certChainPem, ca: bundleRootsPem(sources.bundles) };
}

/**
 * `node:tls` / `node:https` server options for a listener, from its sources.
 *
 * - `STRICT`: a client certificate is required and must verify against the bundles; the
 *   handshake fails otherwise.
 * - `PERMISSIVE`: a client certificate is requested but not required (the guard decides, and
 *   explains refusals as 403s); pair it with {@link createPermissiveServer} to also accept
 *   plaintext on the same port.
 * - `DISABLE`: no client certificate is requested.
 *
 * @example
 * ```ts
 * const server = https.createServer(mtlsServerOptions({ svid, bundles }, 'STRICT'), app);
 * keepServerInSync(server, { svid, bundles });
 * ```
 */
export function mtlsServerOptions(
  sources: MtlsServerSources,
  mode: MtlsMode = 'STRICT',
): TlsOptions {
  const base = secureContextOptions(sources);
  if (mode === 'DISABLE') return { key: base.key, cert: base.cert };
  return { ...base, requestCert: true, rejectUnauthorized: mode === 'STRICT' };
}
