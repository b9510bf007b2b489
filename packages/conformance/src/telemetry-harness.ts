/**
 * In-memory OpenTelemetry outputs for the telemetry suite, built from the real SDK modules the
 * adapter's test file passes in (`@opentelemetry/api`, `sdk-trace-*`, `sdk-metrics`, `sdk-logs`
 * are devDependencies of the adapters; this source-only package does not depend on them). The
 * types below are the few members the suite uses, so any SDK 2.x / logs 0.2xx+ fits.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { TelemetryOptions } from '@meshless/core';

type TracerProvider = NonNullable<TelemetryOptions['tracerProvider']>;
type MeterProvider = NonNullable<TelemetryOptions['meterProvider']>;
type LoggerProvider = NonNullable<TelemetryOptions['loggerProvider']>;

/** What the suite reads of a finished span (`ReadableSpan`). */
export interface SpanLike {
  name: string;
  kind: number;
  spanContext(): { traceId: string; spanId: string };
  parentSpanContext?: { spanId: string } | undefined;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string | undefined };
  events: unknown[];
  instrumentationScope: { name: string };
}

/** What the suite reads of an exported log record (`ReadableLogRecord`). */
export interface LogLike {
  eventName?: string | undefined;
  severityNumber?: number | undefined;
  severityText?: string | undefined;
  body?: unknown;
  attributes: Record<string, unknown>;
  spanContext?: { spanId: string } | undefined;
}

interface MetricLike {
  descriptor: { name: string; unit: string };
  dataPoints: { attributes: Record<string, unknown>; value: unknown }[];
}

interface CollectionLike {
  resourceMetrics: { scopeMetrics: { metrics: MetricLike[] }[] };
}

interface ReaderLike {
  collect(): Promise<CollectionLike>;
}

interface ShutdownLike {
  shutdown(): Promise<void>;
}

/** The SDK modules, as `import * as x from '…'` in the adapter's test file. */
export interface TelemetrySdk {
  api: {
    ROOT_CONTEXT: unknown;
    context: { setGlobalContextManager(manager: never): boolean; disable(): void };
    trace: {
      setSpan(ctx: never, span: never): unknown;
    };
  };
  trace: {
    BasicTracerProvider: new (config: { spanProcessors: never[] }) => TracerProvider & ShutdownLike;
    InMemorySpanExporter: new () => { getFinishedSpans(): unknown[]; reset(): void };
    SimpleSpanProcessor: new (exporter: never) => unknown;
  };
  metrics: {
    MetricReader: abstract new () => ReaderLike;
    MeterProvider: new (options: { readers: never[] }) => MeterProvider & ShutdownLike;
  };
  logs: {
    LoggerProvider: new (options: { processors: never[] }) => LoggerProvider & ShutdownLike;
    InMemoryLogRecordExporter: new () => { getFinishedLogRecords(): unknown[]; reset(): void };
    SimpleLogRecordProcessor: new (options: { exporter: never }) => unknown;
  };
}

/** Real providers with in-memory exporters, and readers for the assertions. */
export interface Otel {
  readonly tracerProvider: TracerProvider & ShutdownLike;
  readonly meterProvider: MeterProvider & ShutdownLike;
  readonly loggerProvider: LoggerProvider & ShutdownLike;
  spans(): SpanLike[];
  logs(): LogLike[];
  /** Every metric collected now, by name. */
  metrics(): Promise<Map<string, MetricLike>>;
  /** Forgets the spans and log records exported so far (metrics are cumulative: use deltas). */
  reset(): void;
  /** Runs `fn` with `span` active (for the sibling assertions). */
  withSpan<T>(span: unknown, fn: () => T): T;
  shutdown(): Promise<void>;
  /** Uninstalls the context manager. */
  uninstall(): void;
}

export function createOtel(sdk: TelemetrySdk): Otel {
  const als = new AsyncLocalStorage<unknown>();
  // Context propagation across awaits (what @opentelemetry/context-async-hooks does).
  const manager = {
    active: () => als.getStore() ?? sdk.api.ROOT_CONTEXT,
    with: (ctx: unknown, fn: (...a: unknown[]) => unknown, thisArg?: unknown, ...args: unknown[]) =>
      als.run(ctx, () => fn.call(thisArg, ...args)),
    bind: <T>(_ctx: unknown, target: T): T => target,
    enable() {
      return this;
    },
    disable() {
      als.disable();
      return this;
    },
  };
  sdk.api.context.setGlobalContextManager(manager as never);

  const spanExporter = new sdk.trace.InMemorySpanExporter();
  const logExporter = new sdk.logs.InMemoryLogRecordExporter();
  class Reader extends sdk.metrics.MetricReader {
    protected async onForceFlush(): Promise<void> {}
    protected async onShutdown(): Promise<void> {}
  }
  const reader = new Reader();
  const tracerProvider = new sdk.trace.BasicTracerProvider({
    spanProcessors: [new sdk.trace.SimpleSpanProcessor(spanExporter as never) as never],
  });
  const meterProvider = new sdk.metrics.MeterProvider({ readers: [reader as never] });
  const loggerProvider = new sdk.logs.LoggerProvider({
    processors: [
      new sdk.logs.SimpleLogRecordProcessor({ exporter: logExporter as never }) as never,
    ],
  });
  return {
    tracerProvider,
    meterProvider,
    loggerProvider,
    spans: () => spanExporter.getFinishedSpans() as SpanLike[],
    logs: () => logExporter.getFinishedLogRecords() as LogLike[],
    metrics: async () => {
      const { resourceMetrics } = await reader.collect();
      const out = new Map<string, MetricLike>();
      for (const scope of resourceMetrics.scopeMetrics)
        for (const m of scope.metrics) out.set(m.descriptor.name, m);
      return out;
    },
    reset: () => {
      spanExporter.reset();
      logExporter.reset();
    },
    withSpan: (span, fn) =>
      als.run(sdk.api.trace.setSpan(sdk.api.ROOT_CONTEXT as never, span as never), fn),
    shutdown: async () => {
      await Promise.all([
        tracerProvider.shutdown(),
        meterProvider.shutdown(),
        loggerProvider.shutdown(),
      ]);
    },
    uninstall: () => sdk.api.context.disable(),
  };
}

/** A metric's points as `attributes (JSON, sorted keys) → count` (histogram count or sum of a counter). */
export type Counts = Record<string, number>;

export function keyOf(attributes: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(attributes).sort()));
}

export function countsOf(metric: MetricLike | undefined): Counts {
  const out: Counts = {};
  for (const p of metric?.dataPoints ?? []) {
    const v = p.value as number | { count: number };
    out[keyOf(p.attributes)] = typeof v === 'number' ? v : v.count;
  }
  return out;
}

/** `after - before`, without the zero entries. */
export function delta(before: Counts, after: Counts): Counts {
  const out: Counts = {};
  for (const [key, value] of Object.entries(after)) {
    const d = value - (before[key] ?? 0);
    if (d !== 0) out[key] = d;
  }
  return out;
}
