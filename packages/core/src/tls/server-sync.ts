import type { Server, TLSSocket } from 'node:tls';
import { PeerIdentityResolver, type PeerIdentityKind } from '../identity/peer-identity.js';
import { rememberServerAnchors } from './context-anchors.js';
import { secureContextOptions, type MtlsServerSources } from './server-options.js';
import { snapshotBundles } from './trust-bundles.js';

/** Options of {@link keepServerInSync}. */
export interface ServerSyncOptions extends MtlsServerSources {
  /** Called when new material cannot be applied; the server keeps the previous one. */
  onError?: (error: Error) => void;
  /** Same as the guard's `mtls.identityFrom`, so DNS/CN peers are judged the same way. */
  identityFrom?: readonly PeerIdentityKind[];
}

/** A running synchronization; `close()` stops it (the server keeps its current material). */
export interface ServerSync {
  /** Applies the sources now (also done automatically on every source update). */
  refresh(): void;
  close(): void;
}

/**
 * Keeps a running TLS server's certificate and trust in step with its sources: on every SVID or
 * bundle update it calls `server.setSecureContext` (which affects new connections only), and it
 * closes the open connections whose peer the new bundles no longer trust — a client whose CA was
 * removed is cut off at once, not when its keep-alive connection happens to end.
 */
export function keepServerInSync(server: Server, options: ServerSyncOptions): ServerSync {
  const sockets = new Set<TLSSocket>();
  let version = 1;
  let bundles = snapshotBundles(options.bundles, version);
  const resolver = new PeerIdentityResolver(() => bundles, {
    ...(options.identityFrom ? { identityFrom: options.identityFrom } : {}),
  });
  const onSecure = (socket: TLSSocket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  server.on('secureConnection', onSecure);

  rememberServerAnchors(server);
  const refresh = (): void => {
    try {
      // Connections made under the current context keep its anchors (see handshakeAnchors).
      rememberServerAnchors(server);
      server.setSecureContext(secureContextOptions(options));
    } catch (error) {
      options.onError?.(error as Error);
      return;
    }
    bundles = snapshotBundles(options.bundles, ++version);
    for (const socket of sockets) {
      if (socket.destroyed) continue;
      const peer = resolver.resolve({ socket });
      // A peer whose chain the new bundles no longer trust (its CA was removed) is disconnected;
      // other failures are answered per request by the guard.
      if (peer.kind === 'fail' && peer.reason === 'mtls_untrusted_domain') socket.destroy();
    }
  };
  const onEvent = (event: { type: string; error?: Error }): void => {
    if (event.type === 'updated') refresh();
    else if (event.error) options.onError?.(event.error);
  };
  const unsubscribe = [options.svid.subscribe?.(onEvent), options.bundles.subscribe?.(onEvent)];
  return {
    refresh,
    close: () => {
      server.off('secureConnection', onSecure);
      for (const u of unsubscribe) u?.();
    },
  };
}
