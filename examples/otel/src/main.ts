import { runOtelExample } from './example.js';

// One Express service behind meshless, traced with the OTel SDK, exported over OTLP/HTTP (JSON)
// to an in-process receiver that prints the span trees it got.
console.log('meshless + OpenTelemetry: Express over mTLS, OTLP/HTTP to a local receiver\n');
const { statuses, traces } = await runOtelExample();
const ok =
  statuses.join() === '200,403,403' &&
  traces.every((t) => t.span.kind === 'SERVER') &&
  traces.length === statuses.length;
process.exitCode = ok ? 0 : 1;
