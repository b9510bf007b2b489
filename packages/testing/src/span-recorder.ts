import { AssertionError } from 'node:assert';
import { isDeepStrictEqual } from 'node:util';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-node';

/** Options of {@link createSpanRecorder}. */
export interface CreateSpanRecorderOptions {
  /**
   * Register the provider as the global tracer provider (plus context manager and W3C propagator),
   * so `trace.getTracer()` reaches it. `shutdown()` then disables the globals again. Only one
   * registered recorder can be live at a time. Default false.
   */
  register?: boolean;
  /**
   * When `register` is false: install a global AsyncLocalStorage context manager if none is
   * installed yet (never removed), so `startActiveSpan`/`context.with` parent spans correctly.
   * Default true.
   */
  contextManager?: boolean;
}

/** The real OpenTelemetry SDK wired to an in-memory exporter. */
export interface SpanRecorder {
  /** Pass this as a `tracerProvider` option, or call `provider.getTracer(name)`. */
  readonly provider: NodeTracerProvider;
  /** Finished spans, in end order. */
  spans(): ReadableSpan[];
  /** Finished spans with exactly this name. */
  byName(name: string): ReadableSpan[];
  /** Forgets the recorded spans. */
  reset(): void;
  /** Shuts the provider down (and unregisters the globals when `register` was true). */
  shutdown(): Promise<void>;
}

/** Expected fields for {@link assertSpan}; only the given fields are checked. */
export interface ExpectedSpan {
  /** Span name. */
  name?: string;
  /** Span kind. */
  kind?: SpanKind;
  /** Status code. */
  status?: SpanStatusCode;
  /** Each given attribute must deep-equal; a value of `undefined` requires the attribute to be absent. */
  attributes?: Record<string, unknown>;
  /** The span must be a child of this span (same trace, parent span id). */
  parent?: ReadableSpan;
}

/**
 * Creates a span recorder: `new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new
 * InMemorySpanExporter())] })`. Spans are exported synchronously when they end.
 *
 * @example
 * const rec = createSpanRecorder();
 * rec.provider.getTracer('t').startSpan('x').end();
 * assertSpan(rec.byName('x')[0]!, { kind: SpanKind.INTERNAL });
 */
export function createSpanRecorder(options: CreateSpanRecorderOptions = {}): SpanRecorder {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const register = options.register ?? false;
  if (register) {
    provider.register();
  } else if (options.contextManager ?? true) {
    const manager = new AsyncLocalStorageContextManager().enable();
    // false (and nothing changed) when a context manager is already installed; else it stays.
    if (!context.setGlobalContextManager(manager)) manager.disable();
  }
  return {
    provider,
    spans: () => [...exporter.getFinishedSpans()],
    byName: (name) => exporter.getFinishedSpans().filter((s) => s.name === name),
    reset: () => exporter.reset(),
    async shutdown() {
      await provider.shutdown();
      if (register) {
        trace.disable();
        context.disable();
        propagation.disable();
      }
    },
  };
}

function fail(span: ReadableSpan, field: string, expected: unknown, actual: unknown): never {
  throw new AssertionError({
    message: `span "${span.name}": ${field} mismatch: expected ${String(
      JSON.stringify(expected),
    )}, got ${String(JSON.stringify(actual))}`,
    expected,
    actual,
    operator: 'deepStrictEqual',
  });
}

function kindName(kind: SpanKind): string {
  return SpanKind[kind] ?? String(kind);
}

function statusName(code: SpanStatusCode): string {
  return SpanStatusCode[code] ?? String(code);
}

/**
 * Asserts fields of a finished span. Throws a `node:assert` `AssertionError` whose message names
 * the first mismatched field (`name`, `kind`, `status`, `attributes.<key>`, `parent`).
 */
export function assertSpan(span: ReadableSpan, expected: ExpectedSpan): void {
  if (expected.name !== undefined && span.name !== expected.name) {
    fail(span, 'name', expected.name, span.name);
  }
  if (expected.kind !== undefined && kindName(span.kind) !== kindName(expected.kind)) {
    fail(span, 'kind', kindName(expected.kind), kindName(span.kind));
  }
  if (
    expected.status !== undefined &&
    statusName(span.status.code) !== statusName(expected.status)
  ) {
    fail(span, 'status', statusName(expected.status), statusName(span.status.code));
  }
  for (const [key, value] of Object.entries(expected.attributes ?? {})) {
    const actual = span.attributes[key];
    if (value === undefined ? key in span.attributes : !isDeepStrictEqual(actual, value)) {
      fail(span, `attributes.${key}`, value, actual);
    }
  }
  if (expected.parent !== undefined) {
    const want = expected.parent.spanContext();
    const got = span.parentSpanContext;
    if (got?.spanId !== want.spanId || got.traceId !== want.traceId) {
      fail(
        span,
        'parent',
        { name: expected.parent.name, spanId: want.spanId, traceId: want.traceId },
        got === undefined ? null : { spanId: got.spanId, traceId: got.traceId },
      );
    }
  }
}
