import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestCa } from '@meshless/testing';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A real HTTPS server on 127.0.0.1:0 with a certificate from a test CA, serving one path. */
export interface BundleEndpoint {
  /** `https://localhost:<port>/bundle`. */
  readonly url: string;
  /** Requests received so far. */
  readonly hits: () => number;
  /** Replaces the handler. */
  respond(handler: Handler): void;
  /** Answers 200 with this JSON text. */
  serve(json: string): void;
  /** Stops listening and drops open connections (the endpoint goes down). */
  stop(): Promise<void>;
}

export async function startBundleEndpoint(ca: TestCa): Promise<BundleEndpoint> {
  const cert = await ca.issueSvid({
    spiffeId: `spiffe://${ca.trustDomain}/bundle-endpoint`,
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  let handler: Handler = (_req, res) => res.writeHead(503).end();
  let hits = 0;
  const server: Server = createServer({ cert: cert.chainPem, key: cert.keyPem }, (req, res) => {
    hits += 1;
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let stopped = false;
  return {
    url: `https://localhost:${port}/bundle`,
    hits: () => hits,
    respond(next) {
      handler = next;
    },
    serve(json) {
      handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(json);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
