import type { Socket } from 'node:net';
import type { Server, TLSSocket } from 'node:tls';
import type { MeterProvider } from '@opentelemetry/api';
import type { BundleSource, X509Source } from '../tls/sources.js';
import * as A from './attributes.js';
import { observeCertificates } from './certificates.js';
import { meshlessEvents, SEVERITY, type LoggerProviderLike } from './events.js';
import { createMetrics, meshlessMeter } from './metrics.js';

/** Options of {@link instrumentTlsServer}. */
export interface InstrumentTlsServerOptions {
  /** The listener's own SVID: its time remaining is observed with role `server`. */
  svid?: X509Source;
  /**
   * Trust bundles to observe (role `ca`). Leave out when a guard uses the same bundles: the guard
   * already observes them.
   */
  bundles?: BundleSource;
  /** Default: the global meter provider (registered before this call). */
  meterProvider?: MeterProvider;
  /** Default: the global logger provider. */
  loggerProvider?: LoggerProviderLike;
  /** Near-expiry threshold for `meshless.certificate.near_expiry`. Default 7 days. */
  nearExpirySec?: number;
}

/** Options of {@link observeCertificateExpiry}. */
export interface CertificateExpiryOptions {
  /** The own SVID (its leaf). */
  svid?: X509Source;
  /** The role the SVID plays: `server` (a listener) or `client` (outbound mTLS). Default `client`. */
  role?: 'server' | 'client';
  /** Trust bundles (role `ca`); leave out when a guard already observes the same bundles. */
  bundles?: BundleSource;
  /** Default: the global meter provider (registered before this call). */
  meterProvider?: MeterProvider;
  /** Default: the global logger provider. */
  loggerProvider?: LoggerProviderLike;
  /** Near-expiry threshold. Default 7 days (never more than a third of the lifetime). */
  nearExpirySec?: number;
}

/**
 * Observes certificates in `meshless.certificate.time_remaining` and emits
 * `meshless.certificate.near_expiry` / `.expired`, e.g. for the SVID an outbound mTLS client uses
 * (the guard observes its trust bundles itself, {@link instrumentTlsServer} a listener's SVID).
 *
 * @example
 * ```ts
 * const expiry = observeCertificateExpiry({ svid: x509Source, role: 'client' });
 * // on shutdown: expiry.close();
 * ```
 */
export function observeCertificateExpiry(
  options: CertificateExpiryOptions,
): TlsServerInstrumentation {
  const meter = meshlessMeter(options.meterProvider);
  const stop = observeCertificates(
    meter ? createMetrics(meter) : undefined,
    meshlessEvents(options.loggerProvider),
    {
      svid: options.svid,
      svidRole: options.role ?? 'client',
      bundles: options.bundles,
      nearExpirySec: options.nearExpirySec,
    },
  );
  return { close: stop };
}

/** A running instrumentation; `close()` removes the listeners and the gauge callback. */
export interface TlsServerInstrumentation {
  close(): void;
}

/** `TLSv1.3` → `1.3` (semconv `tls.protocol.version`). */
function protocolVersion(socket: TLSSocket): string | undefined {
  const protocol = socket.getProtocol?.();
  return protocol?.startsWith('TLSv') ? protocol.slice(4) : undefined;
}

function peerAddress(socket: TLSSocket): string | undefined {
  return socket.remoteAddress ?? (socket as unknown as { _parent?: Socket })._parent?.remoteAddress;
}

/** A stable, low-cardinality code for a failed handshake (Node / OpenSSL error code). */
export function handshakeErrorType(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? code : '_OTHER';
}

/**
 * Counts the TLS handshakes of a `node:tls` / `node:https` server as `meshless.tls.handshakes`
 * (`tls.protocol.version`, `tls.resumed`; `error.type` for failures reported by `tlsClientError`),
 * emits `meshless.tls.handshake.failure` for each failure, and observes the listener's own SVID
 * (and `bundles` when given) in `meshless.certificate.time_remaining`. A STRICT listener refuses
 * bad client certificates during the handshake, before any request or span exists: this is where
 * those refusals show.
 *
 * @example
 * ```ts
 * const server = https.createServer(mtlsServerOptions({ svid, bundles }, 'STRICT'), app);
 * instrumentTlsServer(server, { svid });
 * ```
 */
export function instrumentTlsServer(
  server: Server,
  options: InstrumentTlsServerOptions = {},
): TlsServerInstrumentation {
  const meter = meshlessMeter(options.meterProvider);
  const instruments = meter ? createMetrics(meter) : undefined;
  const events = meshlessEvents(options.loggerProvider);

  const onSecure = (socket: TLSSocket): void => {
    if (!instruments) return;
    const version = protocolVersion(socket);
    instruments.tlsHandshakes.add(1, {
      ...(version ? { [A.ATTR_TLS_PROTOCOL_VERSION]: version } : {}),
      [A.ATTR_TLS_RESUMED]: socket.isSessionReused(),
    });
  };
  const onClientError = (error: Error, socket: TLSSocket): void => {
    // A chain that fails verification is destroyed by Node without an error: `tlsClientError`
    // then reports a hang-up, and the verification code (`CERT_HAS_EXPIRED`, …) is on the socket.
    const verifyCode = socket.authorizationError as unknown;
    const errorType = handshakeErrorType(
      typeof verifyCode === 'string' ? { code: verifyCode } : error,
    );
    instruments?.tlsHandshakes.add(1, { [A.ATTR_ERROR_TYPE]: errorType });
    events?.emit(A.EVENT_TLS_HANDSHAKE_FAILURE, SEVERITY.WARN, () => ({
      [A.ATTR_ERROR_TYPE]: errorType,
      ...(peerAddress(socket) ? { [A.ATTR_NETWORK_PEER_ADDRESS]: peerAddress(socket) } : {}),
    }));
  };
  // Node forgets the peer address of a socket it destroyed during the handshake: read it (and
  // so cache it on the raw socket) when the connection arrives.
  const onConnection = (raw: Socket): void => void raw.remoteAddress;
  server.on('connection', onConnection);
  server.on('secureConnection', onSecure);
  server.on('tlsClientError', onClientError);
  const stopCertificates = observeCertificates(instruments, events, {
    svid: options.svid,
    svidRole: 'server',
    bundles: options.bundles,
    nearExpirySec: options.nearExpirySec,
  });
  return {
    close() {
      server.off('connection', onConnection);
      server.off('secureConnection', onSecure);
      server.off('tlsClientError', onClientError);
      stopCertificates();
    },
  };
}
