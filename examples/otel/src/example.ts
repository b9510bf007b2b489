import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { meshless } from '@meshless/express';
import { createTestCa, mtlsRequest } from '@meshless/testing';
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startOtlpReceiver } from './otlp-receiver.js';
import { formatForest, spanForest, type SpanNode, type TreeSpan } from './span-tree.js';
import { setupTracing } from './tracing.js';

const TD = 'example.org';

/**
 * Runs one Express service behind meshless with OpenTelemetry tracing exported over OTLP/HTTP
 * (JSON) to an in-process receiver, makes an allowed and two denied calls, and returns the traces
 * the receiver got.
 */
export async function runOtelExample(
  log: (line: string) => void = console.log,
): Promise<{ statuses: number[]; traces: SpanNode<TreeSpan>[]; exportRequests: number }> {
  const receiver = await startOtlpReceiver();
  // The OTLP/HTTP exporter sends JSON (`application/json`); `exporter-trace-otlp-proto` sends protobuf.
  const exporter = new OTLPTraceExporter({ url: receiver.url });
  const tracing = setupTracing({
    serviceName: 'inventory',
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });

  const ca = await createTestCa({ trustDomain: TD });
  const [serverSvid, checkout, frontend] = await Promise.all([
    ca.issueSvid({ spiffeId: `spiffe://${TD}/ns/shop/sa/inventory`, dnsNames: ['localhost'] }),
    ca.issueSvid({ spiffeId: `spiffe://${TD}/ns/shop/sa/checkout` }),
    ca.issueSvid({ spiffeId: `spiffe://${TD}/ns/web/sa/frontend` }),
  ]);
  const app = tracing.express(); // express as loaded by setupTracing, after the instrumentations
  const guard = meshless({
    workload: { namespace: 'shop', labels: { app: 'inventory' }, trustDomain: TD },
    trustBundles: { [TD]: ca.rootPem },
    policies: [
      {
        apiVersion: 'security.istio.io/v1',
        kind: 'AuthorizationPolicy',
        metadata: { name: 'inventory-allow-checkout', namespace: 'shop' },
        spec: {
          action: 'ALLOW',
          rules: [
            {
              from: [{ source: { principals: [`${TD}/ns/shop/sa/checkout`] } }],
              to: [{ operation: { methods: ['GET'], paths: ['/items/*'] } }],
            },
          ],
        },
      },
    ],
  });
  app.use(guard);
  app.get('/items/:id', (req, res) => {
    res.json({ id: req.params.id, caller: req.auth?.principal });
  });
  await guard.ready;
  const tls = { key: serverSvid.keyPem, cert: serverSvid.chainPem, ca: ca.rootPem };
  const server = createServer({ ...tls, requestCert: true, rejectUnauthorized: false }, app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `https://localhost:${(server.address() as AddressInfo).port}`;

  const statuses: number[] = [];
  try {
    for (const [label, path, svid] of [
      ['checkout  GET /items/42', '/items/42', checkout],
      ['frontend  GET /items/42', '/items/42', frontend],
      ['no cert   GET /items/42', '/items/42', undefined],
    ] as const) {
      const client = svid ? { cert: svid.chainPem, key: svid.keyPem } : {};
      const res = await mtlsRequest(`${base}${path}`, { ca: ca.rootPem, ...client });
      statuses.push(res.status);
      log(`${label} → ${res.status}`);
    }
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await tracing.provider.forceFlush(); // BatchSpanProcessor → OTLPTraceExporter → receiver
    await tracing.shutdown();
    trace.disable();
    await receiver.close();
  }

  const traces = spanForest(receiver.spans);
  log(`\nOTLP receiver: ${receiver.requests} export request(s), ${receiver.spans.length} spans`);
  for (const line of formatForest(traces)) log(line);
  return { statuses, traces, exportRequests: receiver.requests };
}
