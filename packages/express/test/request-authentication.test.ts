/**
 * RequestAuthentication outputs through the Express middleware (the suite itself is shared by
 * every adapter: @meshless/conformance).
 */
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { describeRequestAuthenticationSuite } from '@meshless/conformance';
import express from 'express';
import { meshless } from '../src/index.js';

describeRequestAuthenticationSuite('@meshless/express', async (guard, tls) => {
  const app = express();
  app.use(meshless(guard));
  app.get('/seen', (req, res) => {
    res.json({
      authorization: req.headers.authorization ?? null,
      clientId: req.headers['x-client-id'] ?? null,
      query: req.query,
      url: req.url,
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
