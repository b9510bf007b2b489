/**
 * The cost of telemetry, in process: `guard.check` on a request with a verified (cached) token and
 * an AuthorizationPolicy on `requestPrincipals` — three spans per check (`authn.mtls`,
 * `authn.jwt`, `authz.decision`) — with no OpenTelemetry SDK registered (the API's no-ops), and
 * with an SDK recording every span (always-on sampling, each span ended into an exporter that
 * drops it, so export cost is not counted), and with SDKs for spans, metrics (two histogram points
 * per check, exported once a minute) and log events (none for an allowed request). Best of 5
 * rounds, interleaved.
 */
import type { MeterProvider as ApiMeterProvider, TracerProvider } from '@opentelemetry/api';
import {
  LoggerProvider,
  SimpleLogRecordProcessor,
  type LogRecordExporter,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { createGuard, type Guard, type RequestFacts } from '@meshless/core';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export interface TelemetryMicroRow {
  label: string;
  /** ns per `guard.check` (best round). */
  ns: number;
  /** Spans recorded per check (0 without an SDK). */
  spansPerCheck: number;
}

export interface TelemetryMicro {
  rows: TelemetryMicroRow[];
  checks: number;
}

const CHECKS = 50_000;
const ROUNDS = 5;

/** Counts what reaches it and keeps nothing. */
class CountingExporter implements SpanExporter {
  count = 0;
  export(spans: ReadableSpan[], done: (result: { code: 0 }) => void): void {
    this.count += spans.length;
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Counts log records and keeps nothing. */
class CountingLogExporter implements LogRecordExporter {
  count = 0;
  export(records: ReadableLogRecord[], done: (result: { code: 0 }) => void): void {
    this.count += records.length;
    done({ code: 0 });
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export async function measureTelemetry(): Promise<TelemetryMicro> {
  const issuer = 'https://issuer.telemetry.example';
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k', alg: 'ES256' }] };
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'k' })
    .setIssuer(issuer)
    .setSubject('checkout')
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(privateKey);
  const policies = [
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'RequestAuthentication',
      metadata: { name: 'jwt', namespace: 'bench' },
      spec: { jwtRules: [{ issuer, jwks: JSON.stringify(jwks) }] },
    },
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'allow', namespace: 'bench' },
      spec: { rules: [{ from: [{ source: { requestPrincipals: [`${issuer}/checkout`] } }] }] },
    },
  ];
  const facts = (): RequestFacts => ({
    method: 'GET',
    path: '/orders/42',
    host: 'orders.example',
    headers: { host: 'orders.example', authorization: `Bearer ${token}` },
    sourceIp: '10.0.0.1',
    destinationPort: 8080,
  });
  const build = (telemetry?: {
    tracerProvider: TracerProvider;
    meterProvider?: ApiMeterProvider;
    loggerProvider?: LoggerProvider;
  }): Promise<Guard> =>
    createGuard({
      workload: { namespace: 'bench', trustDomain: 'example.org' },
      mtls: { mode: 'DISABLE' },
      policies,
      onPolicyLint: () => {},
      ...(telemetry ? { telemetry } : {}),
    });

  const exporter = new CountingExporter();
  const provider = new BasicTracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const allExporter = new CountingExporter();
  const allTracer = new BasicTracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new SimpleSpanProcessor(allExporter)],
  });
  const meterProvider = new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
        exportIntervalMillis: 60_000,
      }),
    ],
  });
  const loggerProvider = new LoggerProvider({
    processors: [new SimpleLogRecordProcessor({ exporter: new CountingLogExporter() })],
  });
  const variants: { label: string; guard: Guard; exporter?: CountingExporter }[] = [
    { label: 'no SDK registered (API no-ops)', guard: await build() },
    {
      label: 'SDK recording every span',
      guard: await build({ tracerProvider: provider }),
      exporter,
    },
    {
      label: 'SDKs: every span, metrics, log events',
      guard: await build({ tracerProvider: allTracer, meterProvider, loggerProvider }),
      exporter: allExporter,
    },
  ];
  for (const v of variants) {
    // Warm-up: the token is cached from its second use on; JIT.
    for (let i = 0; i < CHECKS; i++) {
      const d = await v.guard.check(facts());
      if (!d.allow) throw new Error(`telemetry micro-benchmark: ${d.reason}`);
    }
  }
  const best = new Map<string, number>();
  const spans = new Map<string, number>();
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const before = v.exporter?.count ?? 0;
      const start = process.hrtime.bigint();
      for (let i = 0; i < CHECKS; i++) await v.guard.check(facts());
      const ns = Number(process.hrtime.bigint() - start) / CHECKS;
      best.set(v.label, Math.min(best.get(v.label) ?? Infinity, ns));
      spans.set(v.label, ((v.exporter?.count ?? 0) - before) / CHECKS);
    }
  }
  await Promise.all([
    provider.shutdown(),
    allTracer.shutdown(),
    meterProvider.shutdown(),
    loggerProvider.shutdown(),
  ]);
  return {
    rows: variants.map((v) => ({
      label: v.label,
      ns: best.get(v.label) as number,
      spansPerCheck: spans.get(v.label) as number,
    })),
    checks: CHECKS,
  };
}
