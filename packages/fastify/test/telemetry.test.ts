/**
 * Telemetry (spans, metrics, log events) end to end through the Fastify plugin, exported to the
 * real OpenTelemetry SDKs (the suite itself is shared by every adapter: @meshless/conformance).
 */
import type { AddressInfo } from 'node:net';
import { describeTelemetrySuite } from '@meshless/conformance';
import * as api from '@opentelemetry/api';
import * as logs from '@opentelemetry/sdk-logs';
import * as metrics from '@opentelemetry/sdk-metrics';
import * as trace from '@opentelemetry/sdk-trace-node';
import Fastify from 'fastify';
import { meshless, meshlessRewriteUrl } from '../src/index.js';

describeTelemetrySuite(
  '@meshless/fastify',
  async (guard, tls) => {
    const app = Fastify({ https: tls, rewriteUrl: meshlessRewriteUrl() });
    await app.register(meshless, guard);
    app.all('/*', (request) => ({
      url: request.url,
      principal: request.auth?.principal ?? null,
      requestPrincipal: request.auth?.requestPrincipal ?? null,
    }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return {
      base: `https://localhost:${(app.server.address() as AddressInfo).port}`,
      server: app.server,
      close: () => app.close(),
    };
  },
  { api, trace, metrics, logs },
  { httpRoute: '/*' }, // Fastify routes before onRequest
);
