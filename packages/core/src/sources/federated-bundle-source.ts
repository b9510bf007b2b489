import { ConfigError, MeshlessError } from '../errors.js';
import { parseTrustDomain } from '../identity/spiffe-id.js';
import type { BundleSource, SourceEvent } from '../tls/sources.js';
import { sameBundle } from './bundle-equality.js';
import { downloadBundleDocument } from './bundle-download.js';
import { createListeners } from './listeners.js';
import { BundleError } from './source-errors.js';
import { parseSpiffeBundle, type SpiffeBundle } from './spiffe-bundle.js';

/** Options of {@link createFederatedBundleSource}. */
export interface FederatedBundleSourceOptions {
  /** The foreign trust domain the endpoint serves (explicit: a bundle does not name its domain). */
  trustDomain: string;
  /** The bundle endpoint, `https:` without userinfo (SPIFFE Federation §5.2.1.1). */
  endpointUrl: string | URL;
  /** `fetch` doing Web PKI TLS (`https_web`). Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Refresh interval when the document has no `spiffe_refresh_hint`. Default 300 s. */
  refreshHintSec?: number;
  /** Lower clamp of the refresh interval; also the retry interval while no bundle is known. Default 30 s. */
  minRefreshSec?: number;
  /** Upper clamp of the refresh interval. Default 3600 s. */
  maxRefreshSec?: number;
  /** Limit for one fetch, headers and body. Default 10 s. */
  timeoutMs?: number;
  /** Largest accepted document. Default 1 MiB. */
  maxBodyBytes?: number;
  /** A bundle known up front (document JSON or parsed), served until the first fetch replaces it. */
  initialBundle?: string | SpiffeBundle;
}

/** A {@link BundleSource} for one foreign trust domain, refreshed from its bundle endpoint. */
export interface FederatedBundleSource extends BundleSource {
  /** `updated` when a fetched bundle changed; `error` when a fetch failed (last good bundle kept). */
  subscribe(listener: (event: SourceEvent) => void): () => void;
  /**
   * Settles after the first fetch: resolves when a bundle is available (fetched, or
   * `initialBundle` if the fetch failed), rejects with the fetch error otherwise. Fetching goes
   * on in the background either way.
   */
  readonly ready: Promise<void>;
  /** Fetches now (joining a fetch under way); rejects with the error a failed fetch reports. */
  refresh(): Promise<void>;
  /** Stops refreshing, aborts a fetch under way and drops the subscribers. */
  close(): void;
}

function seconds(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new ConfigError(`${name} must be a positive number`);
  return value;
}

function endpoint(value: string | URL): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw new ConfigError('endpointUrl: not a URL', { cause });
  }
  if (url.protocol !== 'https:') throw new ConfigError('endpointUrl: must be an https: URL');
  if (url.username !== '' || url.password !== '')
    throw new ConfigError('endpointUrl: must not contain userinfo');
  return url;
}

/**
 * Fetches a foreign trust domain's SPIFFE bundle from its bundle endpoint (SPIFFE Federation,
 * `https_web` profile: TLS with Web PKI by the injected `fetch`) and keeps it fresh: it refetches
 * after the bundle's `spiffe_refresh_hint` (clamped to `minRefreshSec`…`maxRefreshSec`, default
 * 5 min without a hint). A failed fetch (network, timeout, non-200, redirect, oversized or invalid
 * document) keeps the last good bundle, reports `{ type: 'error' }` and retries at the next
 * interval, as the spec asks. A document whose `spiffe_sequence` is lower than the current one is
 * ignored and reported as `ERR_BUNDLE_STALE_SEQUENCE` (a rollback). An unchanged document emits
 * nothing. Timers do not keep the process alive.
 *
 * @throws {ConfigError} for invalid options (also an invalid `initialBundle`, with its cause).
 * @example
 * ```ts
 * const partner = createFederatedBundleSource({
 *   trustDomain: 'partner.example',
 *   endpointUrl: 'https://spire.partner.example/bundle',
 * });
 * await partner.ready;
 * const guard = createGuard({ trustBundles: combineBundleSources(local, partner), ... });
 * ```
 */
export function createFederatedBundleSource(
  options: FederatedBundleSourceOptions,
): FederatedBundleSource {
  let td: string;
  try {
    td = parseTrustDomain(options.trustDomain).name;
  } catch (cause) {
    if (!(cause instanceof MeshlessError)) throw cause;
    throw new ConfigError('trustDomain: invalid trust domain', { cause });
  }
  const url = endpoint(options.endpointUrl);
  const fetchFn = options.fetch ?? globalThis.fetch;
  const defaultHint = seconds('refreshHintSec', options.refreshHintSec, 300);
  const minSec = seconds('minRefreshSec', options.minRefreshSec, 30);
  const maxSec = Math.max(minSec, seconds('maxRefreshSec', options.maxRefreshSec, 3600));
  const timeoutMs = seconds('timeoutMs', options.timeoutMs, 10_000);
  const maxBytes = seconds('maxBodyBytes', options.maxBodyBytes, 1024 * 1024);
  const label = `bundle endpoint of ${td} (${url.origin}${url.pathname})`;

  let current: SpiffeBundle | undefined;
  if (options.initialBundle !== undefined) {
    try {
      current =
        typeof options.initialBundle === 'string'
          ? parseSpiffeBundle(td, options.initialBundle)
          : options.initialBundle;
    } catch (cause) {
      throw new ConfigError('initialBundle: invalid SPIFFE bundle', { cause });
    }
    if (current.trustDomain !== td)
      throw new ConfigError(`initialBundle: bundle of ${current.trustDomain}, expected ${td}`);
  }

  const listeners = createListeners();
  const closer = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;

  const nextDelayMs = (): number => {
    if (current === undefined) return minSec * 1000;
    const hint = current.refreshHintSec ?? defaultHint;
    return Math.min(maxSec, Math.max(minSec, hint)) * 1000;
  };

  async function fetchOnce(): Promise<void> {
    const body = await downloadBundleDocument({
      url,
      fetch: fetchFn,
      timeoutMs,
      maxBytes,
      signal: closer.signal,
      label,
    });
    let next: SpiffeBundle;
    try {
      next = parseSpiffeBundle(td, body);
    } catch (error) {
      if (!(error instanceof BundleError)) throw error;
      throw new BundleError(error.code, `${label}: ${error.message}`, { cause: error });
    }
    if (closer.signal.aborted) throw closer.signal.reason;
    if (
      current?.sequence !== undefined &&
      next.sequence !== undefined &&
      next.sequence < current.sequence
    )
      throw new BundleError(
        'ERR_BUNDLE_STALE_SEQUENCE',
        `${label}: spiffe_sequence ${next.sequence} is lower than the current ${current.sequence}; ignored`,
      );
    const changed = !sameBundle(current, next);
    current = next;
    if (changed) listeners.emit({ type: 'updated' });
  }

  function attempt(): Promise<void> {
    if (closer.signal.aborted) return Promise.reject(closer.signal.reason as Error);
    inFlight ??= fetchOnce()
      .catch((error: unknown) => {
        const err = error instanceof Error ? error : new Error(String(error));
        if (!closer.signal.aborted) listeners.emit({ type: 'error', error: err });
        throw err;
      })
      .finally(() => {
        inFlight = undefined;
        clearTimeout(timer);
        if (!closer.signal.aborted)
          timer = setTimeout(() => void attempt().catch(() => undefined), nextDelayMs()).unref();
      });
    return inFlight;
  }

  const ready = attempt().catch((error: unknown) => {
    if (current === undefined) throw error;
  });
  ready.catch(() => undefined); // awaiting `ready` is optional: never an unhandled rejection

  return {
    getBundleFor: (name) => (name === td ? current : undefined),
    trustDomains: () => (current === undefined ? [] : [td]),
    subscribe: (listener) => listeners.subscribe(listener),
    ready,
    refresh: () => attempt(),
    close() {
      closer.abort(new BundleError('ERR_BUNDLE_SOURCE_CLOSED', `${label}: source closed`));
      clearTimeout(timer);
      listeners.clear();
    },
  };
}
