/**
 * Fixtures of the telemetry suite (`describeTelemetrySuite`): the policies, a guard wrapper that
 * runs every check under a parent span (so that "siblings under the active context" can be
 * asserted), and `observe`: one raw request over real mTLS, reduced to the span tree, the log
 * events and the metric increments it produced.
 */
import { connect } from 'node:tls';
import type { Guard, GuardOptions } from '@meshless/core';
import type { Svid, TestCa } from '@meshless/testing';
import { sendRaw, type RawRequest } from './authz-e2e-client.js';
import type { AdapterServer, ConformanceTls } from './svid-rule-suite.js';
import {
  countsOf,
  delta,
  keyOf,
  type Counts,
  type Otel,
  type SpanLike,
} from './telemetry-harness.js';
import { NAMESPACE, TRUST_DOMAIN, type LocalIssuer } from './token-fixtures.js';

export const SCOPE = '@meshless/core';
export const PARENT = 'conformance.request';
export const CHECKOUT = `spiffe://${TRUST_DOMAIN}/ns/${NAMESPACE}/sa/checkout`;
export const FRONTEND = `spiffe://${TRUST_DOMAIN}/ns/web/sa/frontend`;
export const CLAIM = 'claim-value-7c1e94';
export const SUBJECT = 'telemetry-subject-3b8f';
export const METRICS = [
  'meshless.authn.duration',
  'meshless.authz.duration',
  'meshless.jwks.fetch.duration',
  'meshless.tls.handshakes',
] as const;

export const AUTHN = 'meshless.authn.duration';
export const AUTHZ = 'meshless.authz.duration';
export const JWKS = 'meshless.jwks.fetch.duration';
export const HANDSHAKES = 'meshless.tls.handshakes';
/** The socket peer address of every request (the servers listen on 127.0.0.1). */
export const PEER = '127.0.0.1';
/** Log severities (`SeverityNumber` of `@opentelemetry/api-logs`). */
export const INFO = { severityNumber: 9, severityText: 'INFO' };
export const WARN = { severityNumber: 13, severityText: 'WARN' };
export const SEV_ERROR = { severityNumber: 17, severityText: 'ERROR' };

export interface TelemetryFixtures {
  ca: TestCa;
  server: Svid;
  peers: Record<'checkout' | 'frontend' | 'stranger', Svid>;
  local: LocalIssuer;
  outageIssuer: LocalIssuer;
}

/** Per-adapter expectations. */
export interface TelemetrySuiteOptions {
  /**
   * `http.route` the adapter puts on `authz.decision` for the suite's catch-all route (Fastify
   * routes before `onRequest`: `/*`); leave out when it has none (Express: the global middleware
   * runs before the router).
   */
  httpRoute?: string;
}

/** What the suite's scenario files share (fixtures and telemetry are set in `beforeAll`). */
export interface TelemetryContext {
  readonly f: TelemetryFixtures;
  readonly otel: Otel;
  /** Exported spans and logs of every scenario, as text, for the secrets check. */
  readonly dump: string[];
  /** Every token sent. */
  readonly tokens: string[];
  readonly tlsOptions: () => ConformanceTls;
  readonly guardOptions: (issuer: LocalIssuer, extra?: Partial<GuardOptions>) => GuardOptions;
  readonly startWith: (
    guard: Guard,
    tls?: ConformanceTls,
  ) => Promise<{ running: AdapterServer; port: number }>;
  /** A token of `issuer` (ES256), expiring `expOffset` seconds from now. */
  readonly token: (issuer: LocalIssuer, expOffset?: number) => string;
  readonly request: (
    path: string,
    peer: 'checkout' | 'frontend' | 'none',
    bearer?: string,
  ) => RawRequest;
  readonly tlsAttributes: (peer?: Svid) => Record<string, unknown>;
  readonly mtlsSuccess: (principal: string, peer: Svid) => Record<string, unknown>;
  readonly mtlsMetric: Record<string, unknown>;
  /** `authz.decision` attributes plus the adapter's `http.route`, when it reports one. */
  readonly routed: (attributes: Record<string, unknown>) => Record<string, unknown>;
  /** The tree of our spans, their kind, and status (Unset unless listed). */
  readonly expectTree: (o: Observed, names: string[], status?: Record<string, number>) => void;
}

/** SpanKind / SpanStatusCode / SeverityNumber values of `@opentelemetry/api`. */
export const INTERNAL = 0;
export const CLIENT_KIND = 2;
export const UNSET = 0;
export const ERROR = 2;

/**
 * Allow `/items*` with a token of `issuer` (rule 0), `/audited*` and `/shadow*` for checkout
 * (rule 1); DENY `/admin*` (rule 1 of deny-admin); AUDIT `/audited*`; a dry-run DENY of `/shadow*`.
 */
export function policies(issuer: string): string {
  return `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-items, namespace: ${NAMESPACE}}
spec:
  action: ALLOW
  rules:
    - from: [{source: {requestPrincipals: ["${issuer}/*"]}}]
      to: [{operation: {paths: ["/items*", "/admin*"]}}]
    - from: [{source: {principals: ["${TRUST_DOMAIN}/ns/${NAMESPACE}/sa/checkout"]}}]
      to: [{operation: {paths: ["/audited*", "/shadow*"]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin, namespace: ${NAMESPACE}}
spec:
  action: DENY
  rules:
    - to: [{operation: {paths: ["/never"]}}]
    - to: [{operation: {paths: ["/admin*"]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: audit-audited, namespace: ${NAMESPACE}}
spec:
  action: AUDIT
  rules:
    - to: [{operation: {paths: ["/audited*"]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: shadow-deny
  namespace: ${NAMESPACE}
  annotations: {istio.io/dry-run: "true"}
spec:
  action: DENY
  rules:
    - to: [{operation: {paths: ["/shadow*"]}}]
`;
}

/** `guard` whose every check runs with a fresh `conformance.request` span active. */
export function underParentSpan(guard: Guard, otel: Otel): Guard {
  const tracer = otel.tracerProvider.getTracer('conformance');
  const wrapper: Pick<Guard, 'check'> = {
    check: async (facts) => {
      const span = tracer.startSpan(PARENT);
      try {
        return await otel.withSpan(span, () => guard.check(facts));
      } finally {
        span.end();
      }
    },
  };
  // The adapters accept a built Guard and only call `check` on it.
  return wrapper as Guard;
}

/** One node of the observed tree: `name<parent-name`, the parent being `conformance.request`, a meshless span, or `?`. */
export function treeOf(spans: SpanLike[]): string[] {
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
  return spans
    .filter((s) => s.instrumentationScope.name === SCOPE)
    .map((s) => {
      const parent = s.parentSpanContext ? byId.get(s.parentSpanContext.spanId) : undefined;
      return `${s.name}<${parent?.name ?? '?'}`;
    })
    .sort();
}

export interface Observed {
  status: number;
  reason: string | undefined;
  /** Our spans by name (each name at most once per request in these scenarios). */
  span: Record<string, SpanLike>;
  tree: string[];
  /** Every exported span, ours and the parent, shared one trace. */
  oneTrace: boolean;
  events: {
    eventName: string | undefined;
    severityNumber: number | undefined;
    severityText: string | undefined;
    attributes: Record<string, unknown>;
  }[];
  /** `eventName@span` of each event: the span it is correlated with (same span id), or `?`. */
  eventSpans: string[];
  /** Metric increments by name, then by attribute set (keyOf). */
  metrics: Record<string, Counts>;
}

/** Counts of every metric of {@link METRICS}, now. */
export async function snapshot(otel: Otel): Promise<Record<string, Counts>> {
  const all = await otel.metrics();
  return Object.fromEntries(METRICS.map((name) => [name, countsOf(all.get(name))]));
}

export function metricDelta(
  before: Record<string, Counts>,
  after: Record<string, Counts>,
): Record<string, Counts> {
  const out: Record<string, Counts> = {};
  for (const name of METRICS) {
    const d = delta(before[name] ?? {}, after[name] ?? {});
    if (Object.keys(d).length > 0) out[name] = d;
  }
  return out;
}

/** Expected increments: `[metric, attributes, count]`, in the `Observed.metrics` shape. */
export function expectedMetrics(
  rows: [string, Record<string, unknown>, number][],
): Record<string, Counts> {
  const out: Record<string, Counts> = {};
  for (const [name, attributes, count] of rows) (out[name] ??= {})[keyOf(attributes)] = count;
  return out;
}

/** The exported telemetry as text (spans, logs), appended to `dump` for the secrets check. */
export function dumpOf(otel: Otel): string {
  return JSON.stringify({
    spans: otel.spans().map((s) => ({
      name: s.name,
      attributes: s.attributes,
      status: s.status,
      events: s.events,
    })),
    logs: otel.logs().map((r) => ({
      eventName: r.eventName,
      body: r.body,
      attributes: r.attributes,
      severityText: r.severityText,
    })),
  });
}

/** Sends one request on a fresh connection and returns what it produced. */
export async function observe(
  otel: Otel,
  port: number,
  caPem: string,
  request: RawRequest,
  dump: string[],
  settle?: () => Promise<void>,
): Promise<Observed> {
  otel.reset();
  const before = await snapshot(otel);
  const res = await sendRaw(port, caPem, request);
  await settle?.();
  let reason: string | undefined;
  try {
    reason = (JSON.parse(res.text) as { reason?: string }).reason;
  } catch {
    reason = undefined;
  }
  const spans = otel.spans();
  const ours = spans.filter((s) => s.instrumentationScope.name === SCOPE);
  dump.push(dumpOf(otel));
  return {
    status: res.status,
    reason,
    span: Object.fromEntries(ours.map((s) => [s.name, s])),
    tree: treeOf(spans),
    oneTrace: new Set(spans.map((s) => s.spanContext().traceId)).size === 1,
    eventSpans: otel.logs().map((r) => {
      const span = ours.find((x) => x.spanContext().spanId === r.spanContext?.spanId);
      return `${r.eventName ?? ''}@${span?.name ?? '?'}`;
    }),
    events: otel.logs().map((r) => ({
      eventName: r.eventName,
      severityNumber: r.severityNumber,
      severityText: r.severityText,
      attributes: { ...r.attributes },
    })),
    metrics: metricDelta(before, await snapshot(otel)),
  };
}

/** A TLS handshake with `client` (or none) that settles on close or error, never rejects. */
export function handshake(
  port: number,
  caPem: string,
  client?: { chainPem: string; keyPem: string },
): Promise<void> {
  return new Promise<void>((resolve) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ca: caPem,
      ...(client ? { cert: client.chainPem, key: client.keyPem } : {}),
    });
    socket.setTimeout(5_000, () => socket.destroy());
    socket.on('secureConnect', () =>
      socket.write('GET /items/1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'),
    );
    socket.on('data', () => socket.end());
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
  });
}
