import type { X509Certificate } from 'node:crypto';
import type { Attributes, ObservableResult } from '@opentelemetry/api';
import type { BundleSource, X509Source } from '../tls/sources.js';
import * as A from './attributes.js';
import { SEVERITY, type EventEmitter } from './events.js';
import type { MeshlessMetrics } from './metrics.js';

/** Which certificate: the own SVID on a listener / for outbound calls, or a trust anchor. */
export type CertificateRole = 'server' | 'client' | 'ca';

/** What {@link observeCertificates} watches. */
export interface CertificateWatch {
  /** Trust bundles: every CA of every trust domain, role `ca`. */
  bundles?: BundleSource | undefined;
  /** The own SVID (its leaf), with the role it plays. */
  svid?: X509Source | undefined;
  svidRole?: 'server' | 'client' | undefined;
  /** Near-expiry threshold. Default 7 days (and never more than a third of the lifetime). */
  nearExpirySec?: number | undefined;
  /** How often expiry events are checked besides source updates. Default 60 000 ms. */
  checkIntervalMs?: number | undefined;
  /** Clock in epoch ms, for tests. Default `Date.now`. */
  now?: (() => number) | undefined;
  /**
   * Subscribe to the sources' updates to re-check at once (default true). The guard passes
   * false: it already subscribes to its bundle source and calls the returned `recheck`.
   */
  subscribe?: boolean | undefined;
}

/** Stops observing; `recheck()` re-evaluates expiry events now (after a source update). */
export type CertificateObservation = (() => void) & { readonly recheck: () => void };

interface Watched {
  readonly cert: X509Certificate;
  readonly role: CertificateRole;
  readonly trustDomain: string | undefined;
}

const WEEK_SEC = 7 * 24 * 3600;

/** Node's `subject` (`CN=a\nO=b`) as the one-line form semconv uses (`CN=a, O=b`). */
function subjectOf(cert: X509Certificate): string {
  return cert.subject.split('\n').join(', ');
}

/** Attributes that identify a certificate without any key material or PEM. */
export function certificateAttributes(w: Watched): Attributes {
  return {
    [A.ATTR_CERT_ROLE]: w.role,
    ...(w.trustDomain ? { [A.ATTR_TRUST_DOMAIN]: w.trustDomain } : {}),
    [A.ATTR_CERT_SUBJECT]: subjectOf(w.cert),
    [A.ATTR_CERT_SERIAL]: w.cert.serialNumber,
  };
}

function collect(watch: CertificateWatch): Watched[] {
  const out: Watched[] = [];
  const bundles = watch.bundles;
  if (bundles)
    for (const td of bundles.trustDomains())
      for (const cert of bundles.getBundleFor(td)?.authorities ?? [])
        out.push({ cert, role: 'ca', trustDomain: td });
  if (watch.svid) {
    try {
      const svid = watch.svid.getX509Svid();
      const leaf = svid.certificates[0];
      if (leaf)
        out.push({
          cert: leaf,
          role: watch.svidRole ?? 'server',
          trustDomain: svid.id.trustDomain.name,
        });
    } catch {
      // No SVID yet: nothing to observe.
    }
  }
  return out;
}

/**
 * Observes the time left on certificates as `meshless.certificate.time_remaining` (s, negative
 * once expired) and emits `meshless.certificate.near_expiry` / `meshless.certificate.expired`
 * once per certificate and state: when watching starts, on every source update and every
 * `checkIntervalMs` (an unref'd timer). Returns a function that stops both.
 */
export function observeCertificates(
  instruments: MeshlessMetrics | undefined,
  events: EventEmitter | undefined,
  watch: CertificateWatch,
): CertificateObservation {
  const now = watch.now ?? Date.now;
  const near = watch.nearExpirySec ?? WEEK_SEC;
  const remainingSec = (cert: X509Certificate) => (Date.parse(cert.validTo) - now()) / 1000;

  const observe = (result: ObservableResult): void => {
    for (const w of collect(watch)) result.observe(remainingSec(w.cert), certificateAttributes(w));
  };
  instruments?.certificateTimeRemaining.addCallback(observe);

  const reported = new Map<string, 'near' | 'expired'>();
  const check = (): void => {
    if (!events) return;
    for (const w of collect(watch)) {
      const left = remainingSec(w.cert);
      const lifetimeSec = (Date.parse(w.cert.validTo) - Date.parse(w.cert.validFrom)) / 1000;
      const state =
        left <= 0 ? 'expired' : left <= Math.min(near, lifetimeSec / 3) ? 'near' : undefined;
      const key = `${w.role} ${w.cert.fingerprint256}`;
      if (state === undefined || reported.get(key) === state) continue;
      reported.set(key, state);
      events.emit(
        state === 'expired' ? A.EVENT_CERT_EXPIRED : A.EVENT_CERT_NEAR_EXPIRY,
        state === 'expired' ? SEVERITY.ERROR : SEVERITY.WARN,
        () => ({
          ...certificateAttributes(w),
          [A.ATTR_CERT_NOT_AFTER]: new Date(Date.parse(w.cert.validTo)).toISOString(),
          [A.ATTR_CERT_TIME_REMAINING]: Math.round(left),
        }),
      );
    }
  };
  check();
  const timer = events ? setInterval(check, watch.checkIntervalMs ?? 60_000) : undefined;
  timer?.unref();
  const onEvent = (e: { type: string }) => {
    if (e.type === 'updated') check();
  };
  const unsubscribe =
    events && watch.subscribe !== false
      ? [watch.bundles?.subscribe?.(onEvent), watch.svid?.subscribe?.(onEvent)]
      : [];
  const stop = () => {
    instruments?.certificateTimeRemaining.removeCallback(observe);
    if (timer) clearInterval(timer);
    for (const u of unsubscribe) u?.();
  };
  return Object.assign(stop, { recheck: check });
}
