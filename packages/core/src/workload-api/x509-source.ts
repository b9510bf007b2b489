import type {
  BundleSource,
  SourceEvent,
  X509Bundle,
  X509Source,
  X509Svid,
} from '../tls/sources.js';
import {
  createWorkloadApiClient,
  type WorkloadApiClient,
  type WorkloadApiClientOptions,
} from './client.js';
import { WorkloadApiError } from './errors.js';
import { rethrowLater } from './rpc.js';
import type { WorkloadApiWatch } from './watch.js';
import type { X509Context } from './x509-context.js';

/** Default wait for the first X.509 context. */
export const DEFAULT_SOURCE_TIMEOUT_MS = 30_000;

/** Chooses the SVID a source serves as its own identity (e.g. by `hint`). */
export type X509SvidPicker = (svids: readonly X509Svid[]) => X509Svid | undefined;

/** Options of {@link createWorkloadX509Source}. */
export interface WorkloadX509SourceOptions extends WorkloadApiClientOptions {
  /**
   * Watch through this client instead of creating one (then `address`, `backoff`,
   * `callTimeoutMs` and `channelOptions` are ignored, and `close()` leaves the client open).
   */
  client?: WorkloadApiClient;
  /**
   * How long to wait for the first X.509 context before rejecting with
   * `ERR_WORKLOAD_API_TIMEOUT`. Default 30 000 ms; `Infinity` waits as long as it takes.
   * Meanwhile, failures such as an absent agent (Unavailable) or a workload not registered yet
   * (PermissionDenied) are retried with backoff.
   */
  timeoutMs?: number;
  /** Chooses the default SVID among the agent's. Default: the first one, as the spec says. */
  picker?: X509SvidPicker;
  /** Aborting it closes the source (and rejects a pending creation). */
  signal?: AbortSignal;
}

/**
 * An {@link X509Source} and {@link BundleSource} fed by the Workload API (go-spiffe's
 * `workloadapi.X509Source`): it keeps the latest X.509 context, rotating SVIDs and bundles as the
 * agent streams them.
 */
export interface WorkloadX509Source extends X509Source, BundleSource {
  /**
   * The default SVID (the picker's choice, else the first).
   *
   * @throws {WorkloadApiError} `ERR_WORKLOAD_API_CLOSED` after `close()`,
   *   `ERR_WORKLOAD_API_NO_SVID` when the picker chose none.
   */
  getX509Svid(): X509Svid;
  /** Every SVID of the latest context, in the agent's order. */
  getX509Svids(): readonly X509Svid[];
  /** The latest X.509 context as received. */
  getX509Context(): X509Context;
  /** The bundle of a trust domain (own or federated); undefined when absent or closed. */
  getBundleFor(trustDomain: string): X509Bundle | undefined;
  /** Trust domains with a bundle in the latest context; empty after `close()`. */
  trustDomains(): string[];
  /**
   * `{ type: 'updated' }` after each new context, `{ type: 'error' }` for each watch error
   * (`error.willRetry` tells whether the watch goes on). A listener subscribed twice (e.g. as
   * both SVID and bundle source) is called once per event.
   */
  subscribe(listener: (event: SourceEvent) => void): () => void;
  /** True after `close()`. */
  readonly closed: boolean;
  /** Stops watching, closes the client it created, drops the listeners. Idempotent. */
  close(): void;
}

/**
 * Connects to the Workload API and resolves once the first X.509 context has arrived. Every
 * later message replaces the whole state: a trust domain missing from an update is removed.
 *
 * @throws {WorkloadApiError} (rejects) `ERR_WORKLOAD_API_ADDRESS_*` for a bad address,
 *   `ERR_WORKLOAD_API_TIMEOUT` when no context came in time (the last watch error is the
 *   `cause`), `ERR_WORKLOAD_API_RPC` when the watch stopped for good (e.g. InvalidArgument),
 *   `ERR_WORKLOAD_API_CLOSED` when the signal aborted first.
 * @example
 * ```ts
 * const source = await createWorkloadX509Source({ address: 'unix:///run/spire/agent.sock' });
 * const server = https.createServer(mtlsServerOptions({ svid: source, bundles: source }));
 * keepServerInSync(server, { svid: source, bundles: source });
 * // on shutdown:
 * source.close();
 * ```
 */
export async function createWorkloadX509Source(
  options: WorkloadX509SourceOptions = {},
): Promise<WorkloadX509Source> {
  const { client: shared, timeoutMs, picker, signal, ...clientOptions } = options;
  const wait = timeoutMs ?? DEFAULT_SOURCE_TIMEOUT_MS;
  if (!(wait > 0)) throw new RangeError('timeoutMs must be a positive number of milliseconds');
  if (signal?.aborted)
    throw new WorkloadApiError('ERR_WORKLOAD_API_CLOSED', 'aborted before the first update', {
      cause: signal.reason,
    });
  const client = shared ?? createWorkloadApiClient(clientOptions);

  const listeners = new Map<(event: SourceEvent) => void, number>();
  let context: X509Context | undefined;
  let svid: X509Svid | undefined;
  let closed = false;
  let lastError: WorkloadApiError | undefined;
  let ready!: () => void;
  let fail!: (error: WorkloadApiError) => void;
  const first = new Promise<void>((resolve, reject) => {
    ready = resolve;
    fail = reject;
  });

  const emit = (event: SourceEvent): void => {
    for (const listener of [...listeners.keys()]) {
      try {
        listener(event);
      } catch (error) {
        rethrowLater(error);
      }
    }
  };

  const watch: WorkloadApiWatch = client.watchX509Context(
    (next) => {
      if (closed) return;
      context = next;
      svid = picker ? picker(next.svids) : next.svids[0];
      emit({ type: 'updated' });
      ready();
    },
    (error) => {
      if (closed) return;
      lastError = error;
      emit({ type: 'error', error });
    },
  );

  const close = (): void => {
    if (closed) return;
    closed = true;
    signal?.removeEventListener('abort', close);
    watch.cancel();
    if (!shared) client.close();
    listeners.clear();
    context = undefined;
    svid = undefined;
    fail(new WorkloadApiError('ERR_WORKLOAD_API_CLOSED', 'the X.509 source was closed'));
  };
  signal?.addEventListener('abort', close, { once: true });
  void watch.done.then((error) => {
    if (error) fail(error);
    else if (!closed) close();
  });

  let timer: NodeJS.Timeout | undefined;
  if (Number.isFinite(wait)) {
    timer = setTimeout(() => {
      fail(
        new WorkloadApiError(
          'ERR_WORKLOAD_API_TIMEOUT',
          `no X.509 context from the Workload API within ${wait} ms`,
          lastError === undefined ? undefined : { cause: lastError },
        ),
      );
    }, wait);
  }
  try {
    await first;
  } catch (error) {
    close();
    throw error;
  } finally {
    clearTimeout(timer);
  }

  const current = (): X509Context => {
    if (closed || context === undefined)
      throw new WorkloadApiError('ERR_WORKLOAD_API_CLOSED', 'the X.509 source is closed');
    return context;
  };

  return {
    getX509Svid: () => {
      current();
      if (svid === undefined)
        throw new WorkloadApiError(
          'ERR_WORKLOAD_API_NO_SVID',
          'the picker chose no SVID from the latest X.509 context',
        );
      return svid;
    },
    getX509Svids: () => current().svids,
    getX509Context: current,
    getBundleFor: (trustDomain) => (closed ? undefined : context?.bundles.get(trustDomain)),
    trustDomains: () => (closed || context === undefined ? [] : [...context.bundles.keys()]),
    subscribe: (listener) => {
      if (closed) return () => {};
      listeners.set(listener, (listeners.get(listener) ?? 0) + 1);
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        const count = listeners.get(listener);
        if (count === undefined) return;
        if (count <= 1) listeners.delete(listener);
        else listeners.set(listener, count - 1);
      };
    },
    get closed() {
      return closed;
    },
    close,
  };
}
