import type { JwksTelemetry } from '../telemetry/jwks-telemetry.js';
import type { JwksFetchError } from './jwks-errors.js';

/** Timings and limits of a {@link JwksStore}. Every field is optional. */
export interface JwksStoreOptions {
  fetch?: typeof fetch | undefined;
  /** Allow plain-HTTP JWKS URLs beyond loopback. Default false. */
  allowInsecureHttp?: boolean | undefined;
  /** TTL when the response has no `Cache-Control: max-age`. Default 600. */
  ttlDefaultSec?: number | undefined;
  /** Lower clamp of the TTL (also for `no-cache`). Default 300. */
  ttlMinSec?: number | undefined;
  /** Upper clamp of the TTL. Default 86400. */
  ttlMaxSec?: number | undefined;
  /** How long past its TTL the last good set is still served while fetches fail. Default 3600, at most 86400. */
  staleIfErrorSec?: number | undefined;
  /** Unknown-kid refetches are spaced by this much, outside the rotation budget. Default 30. */
  cooldownSec?: number | undefined;
  /** Extra unknown-kid refetches allowed inside the cooldown, per minute. Default 1. */
  rotationBudgetPerMin?: number | undefined;
  /** After a failed fetch, no new fetch is tried for this long. Default 5. */
  failureBackoffSec?: number | undefined;
  /** Total fetch timeout. Default 5000. */
  timeoutMs?: number | undefined;
  /** Body cap. Default 512 KiB. */
  maxBodyBytes?: number | undefined;
  /** Kids remembered as missing (for the cooldown). Default 1000. */
  negativeCacheSize?: number | undefined;
  /** Clock in epoch milliseconds. Default `Date.now`. */
  now?: (() => number) | undefined;
  /** Jitter source in [0, 1). Default `Math.random`. */
  random?: (() => number) | undefined;
  /** Called after each fetch, e.g. for a metric or a warning when stale keys are served. */
  onRefresh?: ((outcome: JwksRefreshOutcome) => void) | undefined;
  /** @internal Spans, metrics and events of fetches (set by the guard). */
  telemetry?: JwksTelemetry | undefined;
  /** @internal The issuer the keys belong to, for telemetry. */
  issuer?: string | undefined;
}

/** What one fetch did. `serving` tells which keys requests get afterwards. */
export type JwksRefreshOutcome =
  | {
      readonly ok: true;
      readonly keyCount: number;
      readonly dropped: number;
      readonly ttlSec: number;
    }
  | { readonly ok: false; readonly error: JwksFetchError; readonly serving: 'stale' | 'none' };

/** Keys that a successful refresh no longer lists (or lists with other key material). */
export interface RemovedKeys {
  readonly kids: string[];
  /** Removed keys that had no `kid`. */
  readonly withoutKid: number;
}

/** Readiness view of a store. */
export interface JwksStatus {
  /** `fresh` within TTL; `stale` past TTL but still served; `failed`/`empty`: no usable keys. */
  readonly state: 'empty' | 'fresh' | 'stale' | 'failed';
  /** Epoch ms of the last successful fetch. */
  readonly lastFetch: number | undefined;
  /** The last fetch error, when the last fetch failed. */
  readonly lastError: { readonly code: string; readonly message: string } | undefined;
  /** Keys in the usable set (0 when none is usable). */
  readonly keyCount: number;
}

/** {@link JwksStoreOptions} with every default applied. */
export interface JwksSettings {
  readonly ttlDefaultSec: number;
  readonly ttlMinSec: number;
  readonly ttlMaxSec: number;
  readonly staleIfErrorSec: number;
  readonly cooldownSec: number;
  readonly rotationBudgetPerMin: number;
  readonly failureBackoffSec: number;
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  readonly negativeCacheSize: number;
  readonly now: () => number;
  readonly random: () => number;
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);

/** Applies the defaults; `staleIfErrorSec` is capped at 24 h. */
export function jwksSettings(o: JwksStoreOptions): JwksSettings {
  const ttlMinSec = Math.max(o.ttlMinSec ?? 300, 0);
  return {
    ttlDefaultSec: o.ttlDefaultSec ?? 600,
    ttlMinSec,
    ttlMaxSec: Math.max(o.ttlMaxSec ?? 86_400, ttlMinSec),
    staleIfErrorSec: clamp(o.staleIfErrorSec ?? 3600, 0, 86_400),
    cooldownSec: Math.max(o.cooldownSec ?? 30, 0),
    rotationBudgetPerMin: Math.max(o.rotationBudgetPerMin ?? 1, 0),
    failureBackoffSec: Math.max(o.failureBackoffSec ?? 5, 0),
    timeoutMs: Math.max(o.timeoutMs ?? 5000, 1),
    maxBodyBytes: Math.max(o.maxBodyBytes ?? 512 * 1024, 1),
    negativeCacheSize: Math.max(o.negativeCacheSize ?? 1000, 1),
    now: o.now ?? (() => Date.now()),
    random: o.random ?? Math.random,
  };
}

/** TTL of a fetched set: `Cache-Control` max-age (or the default), clamped to [min, max]. */
export function ttlFor(s: JwksSettings, maxAgeSec: number | undefined): number {
  return clamp(maxAgeSec ?? s.ttlDefaultSec, s.ttlMinSec, s.ttlMaxSec);
}
