import type { Attributes } from '@opentelemetry/api';
import type { TLSSocket } from 'node:tls';
import * as A from './attributes.js';

/** Per connection: protocol and cipher do not change for the life of a TLS socket. */
const bySocket = new WeakMap<TLSSocket, Attributes>();

/**
 * OpenTelemetry `tls.*` connection attributes of a server-side TLS socket (semantic conventions,
 * development): `tls.protocol.name` / `.version` (`tls`, `1.3`), `tls.cipher` (IANA name),
 * `tls.resumed`, `tls.next_protocol` (ALPN). Computed once per socket; nothing secret.
 */
export function tlsConnectionAttributes(socket: TLSSocket): Attributes {
  let attrs = bySocket.get(socket);
  if (attrs) return attrs;
  try {
    attrs = readAttributes(socket);
  } catch {
    attrs = {}; // a socket torn down mid-request: telemetry must never turn into a denial
  }
  bySocket.set(socket, attrs);
  return attrs;
}

function readAttributes(socket: TLSSocket): Attributes {
  const attrs: Attributes = {};
  const protocol = socket.getProtocol?.();
  const match = typeof protocol === 'string' ? /^TLSv(\d(?:\.\d)?)$/.exec(protocol) : null;
  if (match) {
    attrs[A.ATTR_TLS_PROTOCOL_NAME] = 'tls';
    attrs[A.ATTR_TLS_PROTOCOL_VERSION] = match[1];
  }
  const cipher = socket.getCipher?.();
  if (cipher?.standardName) attrs[A.ATTR_TLS_CIPHER] = cipher.standardName;
  attrs[A.ATTR_TLS_RESUMED] = socket.isSessionReused?.() === true;
  if (typeof socket.alpnProtocol === 'string')
    attrs[A.ATTR_TLS_NEXT_PROTOCOL] = socket.alpnProtocol;
  return attrs;
}

/** `tls.client.hash.sha256` of a verified client certificate (upper-case hex, no colons). */
export function tlsClientCertificateAttributes(fingerprint256: string): Attributes {
  return { [A.ATTR_TLS_CLIENT_HASH_SHA256]: fingerprint256.replaceAll(':', '').toUpperCase() };
}
