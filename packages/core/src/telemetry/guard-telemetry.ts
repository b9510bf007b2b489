import {
  trace,
  type Attributes,
  type MeterProvider,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import type { Decision } from '../guard/decision.js';
import type { RequestFacts } from '../guard/request-facts.js';
import type { BundleSource } from '../tls/sources.js';
import { VERSION } from '../version.js';
import * as A from './attributes.js';
import { observeCertificates, type CertificateObservation } from './certificates.js';
import { meshlessEvents, SEVERITY, type EventEmitter, type LoggerProviderLike } from './events.js';
import { createJwksTelemetry, type JwksTelemetry } from './jwks-telemetry.js';
import {
  createMetrics,
  meshlessMeter,
  secondsSince,
  SCOPE_NAME,
  type MeshlessMetrics,
} from './metrics.js';

/** The guard's `telemetry` option. */
export interface TelemetryOptions {
  /** Default: the global tracer provider. */
  tracerProvider?: TracerProvider;
  /**
   * Default: the global meter provider, which must be registered before `createGuard` (the
   * metrics API has no proxy). With none, nothing is measured.
   */
  meterProvider?: MeterProvider;
  /** Default: the global logger provider (`@opentelemetry/api` ≥ 1.10; none on 1.9). */
  loggerProvider?: LoggerProviderLike;
  /** Near-expiry threshold of `meshless.certificate.near_expiry` for trust-bundle CAs. Default 7 days. */
  nearExpirySec?: number;
}

/** How one authentication stage ended. */
export interface AuthnOutcome {
  readonly result: 'success' | 'failure' | 'none';
  readonly reason?: string | undefined;
  readonly errorType?: string | undefined;
  readonly trustDomain?: string | undefined;
  readonly issuer?: string | undefined;
  readonly cached?: boolean | undefined;
}

/** The guard's tracer, instruments and event emitter, created once per guard. */
export class GuardTelemetry {
  readonly tracer: Tracer;
  readonly jwks: JwksTelemetry;
  /** False when nothing measures or logs: callers skip building outcomes. */
  readonly on: boolean;
  readonly #metrics: MeshlessMetrics | undefined;
  readonly #events: EventEmitter | undefined;
  readonly #options: TelemetryOptions;

  constructor(options: TelemetryOptions = {}) {
    this.#options = options;
    this.tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(
      SCOPE_NAME,
      VERSION,
    );
    const meter = meshlessMeter(options.meterProvider);
    this.#metrics = meter ? createMetrics(meter) : undefined;
    this.#events = meshlessEvents(options.loggerProvider);
    this.on = this.#metrics !== undefined || this.#events !== undefined;
    this.jwks = createJwksTelemetry(this.tracer, this.#metrics, this.#events);
  }

  /** A start time for a duration (`performance.now()`), 0 when nothing measures. */
  start(): number {
    return this.#metrics ? performance.now() : 0;
  }

  /** Observes the trust-bundle CAs (time remaining, expiry events). Returns a stop function. */
  observeBundles(bundles: BundleSource): CertificateObservation {
    // The guard's own subscription calls `recheck` on updates: one subscriber per guard.
    return observeCertificates(this.#metrics, this.#events, {
      bundles,
      nearExpirySec: this.#options.nearExpirySec,
      subscribe: false,
    });
  }

  /** Records `meshless.authn.duration` and, on failure, a `meshless.authn.failure` event. */
  authn(
    method: 'mtls' | 'jwt',
    startedAt: number,
    o: AuthnOutcome,
    peerAddress: string | undefined,
    span: Span,
  ): void {
    // Without metrics a success records nothing: no attributes built on every request.
    if (!this.#metrics && o.result !== 'failure') return;
    const common: Attributes = {
      [A.ATTR_AUTHN_METHOD]: method,
      [A.ATTR_AUTHN_RESULT]: o.result,
      ...(o.reason ? { [A.ATTR_AUTHN_FAILURE_REASON]: o.reason } : {}),
      ...(o.errorType ? { [A.ATTR_ERROR_TYPE]: o.errorType } : {}),
    };
    this.#metrics?.authnDuration.record(secondsSince(startedAt), {
      ...common,
      ...(o.trustDomain ? { [A.ATTR_TRUST_DOMAIN]: o.trustDomain } : {}),
    });
    if (o.result !== 'failure') return;
    this.#events?.emit(
      A.EVENT_AUTHN_FAILURE,
      o.errorType ? SEVERITY.ERROR : SEVERITY.WARN,
      () => ({
        ...common,
        ...(o.issuer ? { [A.ATTR_JWT_ISSUER]: o.issuer } : {}),
        ...(o.cached !== undefined ? { [A.ATTR_AUTHN_CACHED]: o.cached } : {}),
        ...(peerAddress ? { [A.ATTR_NETWORK_PEER_ADDRESS]: peerAddress } : {}),
      }),
      span,
    );
  }

  /**
   * Records `meshless.authz.duration` for every decision, and a `meshless.authz.decision` event
   * for a denial (WARN; ERROR when no decision could be made), an AUDIT match or a dry-run
   * would-deny (INFO when allowed).
   */
  decision(
    decision: Decision,
    action: string | undefined,
    startedAt: number,
    facts: Pick<RequestFacts, 'method' | 'sourceIp'> | undefined,
    span: Span,
  ): void {
    const notable =
      !decision.allow || decision.audit === true || decision.dryRun?.wouldDeny === true;
    if (!this.#metrics && !notable) return;
    const internal = decision.reason === 'internal_error';
    const common: Attributes = {
      [A.ATTR_AUTHZ_DECISION]: decision.allow ? 'allow' : 'deny',
      [A.ATTR_AUTHZ_REASON]: decision.reason,
      ...(internal ? {} : { [A.ATTR_AUTHZ_MODE]: 'enforce' }),
      ...(decision.policy ? { [A.ATTR_AUTHZ_POLICY]: decision.policy } : {}),
      ...(decision.audit ? { [A.ATTR_AUTHZ_AUDIT]: true } : {}),
      ...(decision.dryRun?.wouldDeny ? { [A.ATTR_AUTHZ_DRY_RUN_WOULD_DENY]: true } : {}),
      // As on the span: error.type only when the guard itself failed (jwks_unavailable is on authn).
      ...(internal ? { [A.ATTR_ERROR_TYPE]: 'internal_error' } : {}),
    };
    this.#metrics?.authzDuration.record(secondsSince(startedAt), common);
    if (!notable) return;
    // `facts` may be unusable on the internal-error path: read defensively.
    const method = facts?.method;
    const peerAddress = facts?.sourceIp;
    this.#events?.emit(
      A.EVENT_AUTHZ_DECISION,
      decision.allow ? SEVERITY.INFO : decision.status === 503 ? SEVERITY.ERROR : SEVERITY.WARN,
      () => ({
        ...common,
        ...(decision.rule !== undefined ? { [A.ATTR_AUTHZ_RULE]: decision.rule } : {}),
        ...(action ? { [A.ATTR_AUTHZ_ACTION]: action } : {}),
        ...(decision.dryRun?.policy
          ? { [A.ATTR_AUTHZ_DRY_RUN_POLICY]: decision.dryRun.policy }
          : {}),
        ...(decision.principal ? { [A.ATTR_PRINCIPAL_ID]: decision.principal } : {}),
        ...(typeof method === 'string' ? { [A.ATTR_HTTP_REQUEST_METHOD]: method } : {}),
        ...(typeof peerAddress === 'string' ? { [A.ATTR_NETWORK_PEER_ADDRESS]: peerAddress } : {}),
      }),
      span,
    );
  }
}
