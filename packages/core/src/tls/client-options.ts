import { Agent, type AgentOptions, type RequestOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import type { SpiffeIdMatcher } from '../identity/matchers.js';
import { checkServerSpiffeId } from './server-identity.js';
import { bundleRootsPem } from './server-options.js';
import type { BundleSource, X509Source } from './sources.js';

/** What an mTLS client needs: its own SVID, the bundles, and which servers it may talk to. */
export interface MtlsClientSources {
  svid: X509Source;
  bundles: BundleSource;
  /** Which server SPIFFE IDs are acceptable, e.g. `matchId(parseSpiffeId('spiffe://example.org/ns/payments/sa/payment-processor'))`. */
  authorize: SpiffeIdMatcher;
}

/** The TLS options of an outbound mTLS connection (a subset of `tls.ConnectionOptions`). */
export interface MtlsConnectOptions {
  key: string;
  cert: string;
  ca: string[];
  checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined;
}

/**
 * `tls.connect` options for an outbound mTLS call: the current SVID as client certificate, the
 * bundles as CA list, and a `checkServerIdentity` that authorizes the server by SPIFFE ID (see
 * {@link checkServerSpiffeId}). Also the `connect` options of an undici `Agent`, for `fetch`.
 *
 * @example
 * ```ts
 * import { Agent, fetch } from 'undici';
 * const dispatcher = new Agent({ connect: mtlsClientOptions({ svid, bundles, authorize }) });
 * await fetch('https://payment-processor:8443/v1/charges', { dispatcher, method: 'POST' });
 * ```
 */
export function mtlsClientOptions(sources: MtlsClientSources): MtlsConnectOptions {
  const svid = sources.svid.getX509Svid();
  return {
    key: svid.privateKeyPem,
    cert: svid.certChainPem,
    ca: bundleRootsPem(sources.bundles),
    checkServerIdentity: (_host, cert) => {
      const result = checkServerSpiffeId(cert, sources.bundles, sources.authorize);
      return result instanceof Error ? result : undefined;
    },
  };
}

const kGeneration = Symbol('meshless.generation');

/**
 * An `https.Agent` for outbound mTLS: every new connection uses the current SVID and bundles, the
 * server is authorized by SPIFFE ID, and after an SVID or bundle update pooled connections made
 * with the old material are closed as soon as they are idle.
 *
 * @example
 * ```ts
 * const agent = createMtlsAgent({ svid, bundles, authorize: matchId(paymentProcessorId) }, { keepAlive: true });
 * https.request('https://payment-processor:8443/v1/charges', { agent, method: 'POST' });
 * ```
 */
export function createMtlsAgent(
  sources: MtlsClientSources,
  options: AgentOptions = {},
): Agent & { close(): void } {
  let generation = 0;
  class MtlsAgent extends Agent {
    // Returning the socket synchronously: the Agent then does not wait for the callback.
    override createConnection(connectOptions: RequestOptions): Duplex {
      const socket = connect({
        ...(connectOptions as ConnectionOptions),
        ...mtlsClientOptions(sources),
      });
      (socket as unknown as Record<symbol, number>)[kGeneration] = generation;
      return socket;
    }
  }
  const agent = new MtlsAgent(options);
  agent.on('free', (socket: Duplex) => {
    if ((socket as unknown as Record<symbol, number>)[kGeneration] !== generation) socket.destroy();
  });
  const bump = (event: { type: string }): void => {
    if (event.type !== 'updated') return;
    generation++;
    for (const list of Object.values(agent.freeSockets)) for (const s of list ?? []) s.destroy();
  };
  const unsubscribe = [sources.svid.subscribe?.(bump), sources.bundles.subscribe?.(bump)];
  return Object.assign(agent, {
    close: () => {
      for (const u of unsubscribe) u?.();
      agent.destroy();
    },
  });
}
