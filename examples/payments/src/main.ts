import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  ConsoleSpanExporter,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { runDemo } from './demo.js';

// The real OpenTelemetry SDK, one tracer provider per service (so each span names its service).
// Spans are collected while the demo runs and printed at the end with the console exporter, so
// they do not interleave with the decision lines.
const spans = new InMemorySpanExporter();
const providers = new Map<string, NodeTracerProvider>();
const tracerProviderFor = (service: string): NodeTracerProvider => {
  let provider = providers.get(service);
  if (!provider) {
    provider = new NodeTracerProvider({
      resource: resourceFromAttributes({
        'service.name': service,
        'service.namespace': 'payments',
      }),
      spanProcessors: [new SimpleSpanProcessor(spans)],
    });
    providers.set(service, provider);
  }
  return provider;
};

console.log(
  'meshless demo: checkout (Express) and payment-processor (Fastify), mTLS + tokens + Istio policies',
);
const { ok, outcomes } = await runDemo({ tracerProviderFor });

console.log(`\n── spans (${spans.getFinishedSpans().length}), console exporter ──`);
await new Promise<void>((resolve) =>
  new ConsoleSpanExporter().export(spans.getFinishedSpans(), () => resolve()),
);
await Promise.all([...providers.values()].map((p) => p.shutdown()));

console.log('\n── outcomes ──');
for (const o of outcomes) {
  const want = `${o.expected.status}${o.expected.reason ? ` ${o.expected.reason}` : ''}`;
  const got = `${o.actual.status}${o.actual.reason ? ` ${o.actual.reason}` : ''}`;
  console.log(`${o.ok ? '✔' : '✘'} ${o.name}: expected ${want}, got ${got}`);
}
console.log(ok ? '\nall outcomes as expected' : '\nUNEXPECTED OUTCOMES');
process.exitCode = ok ? 0 : 1;
