import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { runDemo } from './demo.js';
import { formatSpanTree } from './span-tree.js';

// The real OpenTelemetry SDK, one tracer provider per service (so each span names its service).
// Spans are collected in memory and printed as a tree after each call's decision lines.
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
let total = 0;
const { ok, outcomes } = await runDemo({
  tracerProviderFor,
  afterScenario: () => {
    // SimpleSpanProcessor exports each span when it ends, before the response is sent
    const finished = spans.getFinishedSpans();
    total += finished.length;
    console.log(`  spans (${finished.length}):`);
    for (const line of formatSpanTree(finished, '    ')) console.log(line);
    spans.reset();
  },
});
console.log(`\n── ${total} spans recorded ──`);
await Promise.all([...providers.values()].map((p) => p.shutdown()));

console.log('\n── outcomes ──');
for (const o of outcomes) {
  const want = `${o.expected.status}${o.expected.reason ? ` ${o.expected.reason}` : ''}`;
  const got = `${o.actual.status}${o.actual.reason ? ` ${o.actual.reason}` : ''}`;
  console.log(`${o.ok ? '✔' : '✘'} ${o.name}: expected ${want}, got ${got}`);
}
console.log(ok ? '\nall outcomes as expected' : '\nUNEXPECTED OUTCOMES');
process.exitCode = ok ? 0 : 1;
