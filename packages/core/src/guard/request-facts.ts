import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

/**
 * Everything the guard needs to know about one request, framework-free. Adapters build it; any
 * other framework (or a test) can too.
 */
export interface RequestFacts {
  /** HTTP method exactly as on the wire (a lower-case method is refused with 400, as in Istio). */
  method: string;
  /** Raw request-target as on the wire: query, `%XX`, `#` and `\` kept. */
  path: string;
  /** `Host` / `:authority` as sent (port included when sent). */
  host: string;
  /**
   * Lower-case header names; repeated headers as arrays. Built by `factsFromIncomingMessage`, it
   * has no prototype (a header named `__proto__` is just a header): use `Object.hasOwn`, not
   * `headers.hasOwnProperty`.
   */
  headers: Record<string, string | string[] | undefined>;
  /** Socket peer address as Node reports it. */
  sourceIp: string;
  /** Local port the connection arrived on. */
  destinationPort: number;
  /**
   * The request-target the framework will route on, when the adapter cannot make it route on the
   * normalized one (Fastify routes before hooks run; Express mounted below a prefix). When given
   * and different from the normalized target, the request is refused with 400
   * `request_invalid_path`, so routing never disagrees with the decision.
   */
  routedUrl?: string;
  /**
   * The route template the framework matched (`/items/:id`), when it routes before the guard
   * runs (Fastify): recorded as `http.route` on `authz.decision`. Telemetry only.
   */
  route?: string;
  destinationIp?: string;
  sni?: string;
  /** The connection; when given, the peer identity comes from it (cached per socket). */
  socket?: TLSSocket;
  /** Otherwise: the client's leaf (DER or parsed), verified by the guard against `trustBundles`. */
  peerCertificate?: X509Certificate | Uint8Array;
  /** Intermediates the client sent with `peerCertificate` (leaf's issuer first), when any. */
  peerIntermediates?: readonly (X509Certificate | Uint8Array)[];
}
