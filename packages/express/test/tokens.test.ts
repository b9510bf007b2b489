/**
 * Bearer tokens against a real OpenID Provider over real mTLS through the Express middleware (the
 * suite itself is shared by every adapter: @meshless/conformance).
 */
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { describeTokenSuite } from '@meshless/conformance';
import express from 'express';
import { meshless } from '../src/index.js';

describeTokenSuite('@meshless/express', async (guard, tls) => {
  const app = express();
  app.use(meshless(guard));
  app.get('/{*rest}', (req, res) => {
    res.json({ principal: req.auth?.principal });
  });
  const server = createServer(tls, app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
});
