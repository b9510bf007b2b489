import type { TLSSocket } from 'node:tls';
import { parsePemCertificates } from './trust-bundles.js';

/**
 * The roots OpenSSL verified a connection against are those of the secure context in force at
 * its handshake, not the server's current `ca` (`setSecureContext` affects new connections only).
 * Anchors are remembered per secure context object; Node keeps the context of a server-side
 * socket at `_tlsOptions.secureContext` and the server's current one at `_sharedCreds` (internal
 * fields: when they are missing, the anchors are unknown and the caller must not infer).
 */
const anchorsByContext = new WeakMap<object, ReadonlySet<string>>();

interface ServerInternals {
  ca?: unknown;
  _sharedCreds?: object;
}

function fingerprintsOf(ca: unknown): ReadonlySet<string> {
  const list = Array.isArray(ca) ? (ca as unknown[]) : ca === undefined || ca === null ? [] : [ca];
  const pems = list.map((c) => (Buffer.isBuffer(c) ? c.toString() : String(c)));
  return new Set(pems.flatMap((p) => parsePemCertificates(p)).map((c) => c.fingerprint256));
}

/**
 * Records the anchors of a server's current secure context. Call it before
 * `server.setSecureContext` (as {@link keepServerInSync} does) so connections made under the old
 * context keep their own anchors.
 */
export function rememberServerAnchors(server: object): void {
  const s = server as ServerInternals;
  const ctx = s._sharedCreds;
  if (ctx && !anchorsByContext.has(ctx)) anchorsByContext.set(ctx, fingerprintsOf(s.ca));
}

/** Fingerprints of the roots this socket's handshake was verified against, when known. */
export function handshakeAnchors(socket: TLSSocket): ReadonlySet<string> | undefined {
  const ctx = (socket as unknown as { _tlsOptions?: { secureContext?: object } })._tlsOptions
    ?.secureContext;
  const server = (socket as unknown as { server?: ServerInternals }).server;
  if (!ctx || !server) return undefined;
  const known = anchorsByContext.get(ctx);
  if (known) return known;
  // The socket's context is still the server's current one: its `ca` is what OpenSSL used.
  if (server._sharedCreds !== ctx) return undefined;
  rememberServerAnchors(server);
  return anchorsByContext.get(ctx);
}
