import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { GuardOptions } from '@meshless/core';
import { meshless } from '@meshless/express';
import { mtlsRequest } from '@meshless/testing';
import express from 'express';

/** checkout: an Express service behind meshless that calls payment-processor over mTLS with a token. */
export async function startCheckout(options: {
  tls: { key: string; cert: string; ca: string };
  guard: GuardOptions;
  paymentProcessor: { url: string; spiffeId: string };
  getToken: () => Promise<string>;
}): Promise<{ url: string; close: () => Promise<void> }> {
  const app = express();
  const guard = meshless(options.guard);
  app.use(guard);
  app.use(express.json());

  app.post('/checkout', (req, res, next) => {
    (async () => {
      const token = await options.getToken();
      // Outbound: our own SVID as client certificate, the server authorized by its SPIFFE ID.
      const charge = await mtlsRequest(`${options.paymentProcessor.url}/v1/charges`, {
        method: 'POST',
        ca: options.tls.ca,
        cert: options.tls.cert,
        key: options.tls.key,
        expectedServerId: options.paymentProcessor.spiffeId,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ amount: 4200, currency: 'EUR' }),
      });
      res
        .status(charge.status === 201 ? 201 : 502)
        .json({ orderedBy: req.auth?.principal, charge: charge.json() });
    })().catch(next);
  });

  await guard.ready;
  const server = createServer(
    { ...options.tls, requestCert: true, rejectUnauthorized: false },
    app,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://localhost:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
