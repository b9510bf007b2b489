/**
 * Istio AuthorizationPolicy semantics end to end through the Express middleware (the suite itself
 * is shared by every adapter: @meshless/conformance).
 */
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { describeAuthorizationE2eSuite } from '@meshless/conformance';
import express from 'express';
import { meshless } from '../src/index.js';

describeAuthorizationE2eSuite('@meshless/express', async (guard, tls) => {
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
});
