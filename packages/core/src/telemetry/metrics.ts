import {
  createNoopMeter,
  metrics,
  type Counter,
  type Histogram,
  type Meter,
  type MeterProvider,
  type ObservableGauge,
} from '@opentelemetry/api';
import { VERSION } from '../version.js';
import * as A from './attributes.js';

/** Instrumentation scope of every meshless meter, logger and tracer. */
export const SCOPE_NAME = '@meshless/core';

/** Advisory buckets (seconds) of the duration histograms: 100 µs to 1 s. */
export const DURATION_BUCKETS_SEC = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];
/** A JWKS download is a network call: 5 ms to 10 s. */
const FETCH_BUCKETS_SEC = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The instruments of one meter, created once. */
export interface MeshlessMetrics {
  readonly authnDuration: Histogram;
  readonly authzDuration: Histogram;
  readonly jwksFetchDuration: Histogram;
  readonly tlsHandshakes: Counter;
  readonly certificateTimeRemaining: ObservableGauge;
}

/**
 * The meter of `provider` (default: the global one), or undefined when it is the no-op meter (no
 * SDK registered): callers then skip measuring altogether. The global meter provider has no
 * proxy, so it must be registered before the guard (or listener) is created.
 */
export function meshlessMeter(provider?: MeterProvider): Meter | undefined {
  const meter = (provider ?? metrics.getMeterProvider()).getMeter(SCOPE_NAME, VERSION);
  return meter === createNoopMeter() ? undefined : meter;
}

const cache = new WeakMap<Meter, MeshlessMetrics>();

/** Creates (once per meter) every meshless instrument. */
export function createMetrics(meter: Meter): MeshlessMetrics {
  const known = cache.get(meter);
  if (known) return known;
  const created: MeshlessMetrics = {
    authnDuration: meter.createHistogram(A.METRIC_AUTHN_DURATION, {
      description: 'Duration of peer (mTLS) and token (JWT) authentication.',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_SEC },
    }),
    authzDuration: meter.createHistogram(A.METRIC_AUTHZ_DURATION, {
      description: 'Duration of authorization decisions; its count is the number of decisions.',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_SEC },
    }),
    jwksFetchDuration: meter.createHistogram(A.METRIC_JWKS_FETCH_DURATION, {
      description: 'Duration of JWKS downloads.',
      unit: 's',
      advice: { explicitBucketBoundaries: FETCH_BUCKETS_SEC },
    }),
    tlsHandshakes: meter.createCounter(A.METRIC_TLS_HANDSHAKES, {
      description: 'TLS handshakes of instrumented listeners; failures carry error.type.',
      unit: '{handshake}',
    }),
    certificateTimeRemaining: meter.createObservableGauge(A.METRIC_CERT_TIME_REMAINING, {
      description: 'Time until a certificate expires (negative once expired).',
      unit: 's',
    }),
  };
  cache.set(meter, created);
  return created;
}

/** Seconds since `startMs` (a `performance.now()` reading). */
export function secondsSince(startMs: number): number {
  return (performance.now() - startMs) / 1000;
}
