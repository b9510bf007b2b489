/**
 * Telemetry (spans, metrics, log events) end to end through the Express middleware, exported to
 * the real OpenTelemetry SDKs (the suite itself is shared by every adapter: @meshless/conformance).
 */
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { describeTelemetrySuite } from '@meshless/conformance';
import * as api from '@opentelemetry/api';
import * as logs from '@opentelemetry/sdk-logs';
import * as metrics from '@opentelemetry/sdk-metrics';
import * as trace from '@opentelemetry/sdk-trace-node';
import express from 'express';
import { meshless } from '../src/index.js';

describeTelemetrySuite(
  '@meshless/express',
  async (guard, tls) => {
    const app = express();
    app.use(meshless(guard));
    app.use((req, res) => {
      res.json({
        url: req.url,
        principal: req.auth?.principal ?? null,
        requestPrincipal: req.auth?.requestPrincipal ?? null,
      });
    });
    const server = createServer(tls, app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      base: `https://localhost:${(server.address() as AddressInfo).port}`,
      server,
      close: async () => {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  },
  { api, trace, metrics, logs },
);
