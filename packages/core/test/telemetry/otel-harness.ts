import { AsyncLocalStorage } from 'node:async_hooks';
import { createGuard, type Guard } from '../../src/guard/guard.js';
import type { GuardOptions } from '../../src/guard/options.js';
import type { RequestFacts } from '../../src/guard/request-facts.js';
import { context, ROOT_CONTEXT, type Context, type ContextManager } from '@opentelemetry/api';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import {
  MeterProvider,
  MetricReader,
  type DataPoint,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';

/** Context propagation across awaits (what `@opentelemetry/context-async-hooks` does). */
class AlsContextManager implements ContextManager {
  readonly #als = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.#als.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.#als.run(ctx, () => fn.call(thisArg, ...args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#als.disable();
    return this;
  }
}

/** Installs the context manager for this test file; returns the uninstaller. */
export function installContextManager(): () => void {
  context.setGlobalContextManager(new AlsContextManager());
  return () => context.disable();
}

class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** A flattened data point: its attributes and value (a number, or a histogram's count and sum). */
export interface Point {
  attributes: Record<string, unknown>;
  value: unknown;
}

/** Real SDK providers with in-memory outputs: spans, metrics (collected on demand) and log records. */
export interface Otel {
  readonly tracerProvider: BasicTracerProvider;
  readonly meterProvider: MeterProvider;
  readonly loggerProvider: LoggerProvider;
  spans(): ReadableSpan[];
  logs(): ReadableLogRecord[];
  /** Every metric collected now, by name. */
  metrics(): Promise<Map<string, MetricData>>;
  /** The data points of one metric (empty when it has none), histogram values as `{count, sum}`. */
  points(name: string): Promise<Point[]>;
  /** Everything exported so far as one string, to look for secrets. */
  everything(): Promise<string>;
  shutdown(): Promise<void>;
}

function flatten(point: DataPoint<unknown>): Point {
  const v = point.value as { count?: number; sum?: number } | number;
  return {
    attributes: { ...point.attributes },
    value: typeof v === 'number' ? v : { count: v.count, sum: v.sum },
  };
}

export function createOtel(): Otel {
  const spanExporter = new InMemorySpanExporter();
  const logExporter = new InMemoryLogRecordExporter();
  const reader = new TestReader();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(spanExporter)],
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const loggerProvider = new LoggerProvider({
    processors: [new SimpleLogRecordProcessor({ exporter: logExporter })],
  });
  const metrics = async () => {
    const { resourceMetrics } = await reader.collect();
    const out = new Map<string, MetricData>();
    for (const scope of resourceMetrics.scopeMetrics)
      for (const m of scope.metrics) out.set(m.descriptor.name, m);
    return out;
  };
  return {
    tracerProvider,
    meterProvider,
    loggerProvider,
    spans: () => spanExporter.getFinishedSpans(),
    logs: () => logExporter.getFinishedLogRecords(),
    metrics,
    points: async (name) =>
      ((await metrics()).get(name)?.dataPoints ?? []).map((p) => flatten(p as DataPoint<unknown>)),
    everything: async () => {
      const m = [...(await metrics()).values()].map((x) => x.dataPoints.map((p) => p.attributes));
      const l = logExporter.getFinishedLogRecords().map((r) => ({
        eventName: r.eventName,
        body: r.body,
        attributes: r.attributes,
        severityText: r.severityText,
      }));
      const s = spanExporter.getFinishedSpans().map((x) => ({
        name: x.name,
        attributes: x.attributes,
        status: x.status,
        events: x.events,
      }));
      return JSON.stringify({ m, l, s });
    },
    shutdown: async () => {
      await Promise.all([
        tracerProvider.shutdown(),
        meterProvider.shutdown(),
        loggerProvider.shutdown(),
      ]);
    },
  };
}

/** Sorts points by their attributes, for order-independent exact comparisons. */
export function sorted(points: Point[]): Point[] {
  return [...points].sort((a, b) =>
    JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes)),
  );
}

/** Log records reduced to what the assertions compare. */
export function events(records: ReadableLogRecord[]) {
  return records.map((r) => ({
    eventName: r.eventName,
    severityNumber: r.severityNumber,
    severityText: r.severityText,
    attributes: { ...r.attributes },
  }));
}

/** A request without identity or token, for the telemetry tests; override what a case needs. */
export function requestFacts(overrides: Partial<RequestFacts> = {}): RequestFacts {
  return {
    method: 'GET',
    path: '/',
    host: 'payments.example',
    headers: {},
    sourceIp: '10.1.2.3',
    destinationPort: 8080,
    ...overrides,
  };
}

/** What the telemetry tests' guards share: trust, one token issuer, the policies under test. */
export interface TelemetryGuardFixture {
  readonly otel: Otel;
  readonly rootPem: string;
  readonly issuer: string;
  readonly jwksUri: string;
  readonly policies: string;
}

/** A PERMISSIVE guard of workload payments/example.org recording into `fixture.otel`. */
export function telemetryGuard(
  fixture: TelemetryGuardFixture,
  extra: Partial<GuardOptions> = {},
): Promise<Guard> {
  const { otel } = fixture;
  return createGuard({
    workload: { namespace: 'payments', trustDomain: 'example.org' },
    mtls: { mode: 'PERMISSIVE' },
    trustBundles: { 'example.org': fixture.rootPem },
    policies: fixture.policies,
    jwt: { issuers: [{ issuer: fixture.issuer, jwksUri: fixture.jwksUri }] },
    telemetry: {
      tracerProvider: otel.tracerProvider,
      meterProvider: otel.meterProvider,
      loggerProvider: otel.loggerProvider,
    },
    onPolicyLint: () => {},
    ...extra,
  });
}
