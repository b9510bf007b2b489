/**
 * One benchmark server: `node bench/dist/server.js <variant>`, fixtures from the file named by
 * `MESHLESS_BENCH_FIXTURES`. Listens on 127.0.0.1 (ephemeral port), prints
 * `MESHLESS_BENCH_LISTENING <port>` once ready, answers `GET /hello` with a small JSON body, and
 * exits on SIGTERM/SIGINT or when its stdin (the orchestrator's pipe) closes.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import fastifyJwt from '@fastify/jwt';
import type { GuardOptions } from '@meshless/core';
import { meshless as meshlessExpress } from '@meshless/express';
import { meshless as meshlessFastify, meshlessRewriteUrl } from '@meshless/fastify';
import express, { type Express } from 'express';
import { auth as oauth2JwtBearer } from 'express-oauth2-jwt-bearer';
import Fastify from 'fastify';
import {
  FIXTURES_ENV,
  HELLO_BODY,
  READY_PREFIX,
  ROUTE,
  findVariant,
  readFixtures,
  type Fixtures,
  type VariantInfo,
} from './common.js';

type Mtls = 'STRICT' | 'PERMISSIVE';

/**
 * Guard options as a real service would write them: Istio `RequestAuthentication` and
 * `AuthorizationPolicy` objects (security.istio.io/v1). PERMISSIVE over plain HTTP: the token
 * carries the identity; STRICT over mTLS: both the SVID and the token are required by the policy.
 */
function guardOptions(fx: Fixtures, mode: Mtls): GuardOptions {
  const requestAuthentication = {
    apiVersion: 'security.istio.io/v1',
    kind: 'RequestAuthentication',
    metadata: { name: 'bench-jwt', namespace: fx.namespace },
    spec: { jwtRules: [{ issuer: fx.issuer, jwksUri: fx.jwksUri, audiences: [fx.audience] }] },
  };
  const source =
    mode === 'STRICT'
      ? {
          // Istio principal form: the SPIFFE ID without `spiffe://`.
          principals: [fx.clientSpiffeId.replace(/^spiffe:\/\//, '')],
          requestPrincipals: [`${fx.issuer}/${fx.subject}`],
        }
      : { requestPrincipals: ['*'] };
  const allow = {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'bench-allow', namespace: fx.namespace },
    spec: {
      action: 'ALLOW',
      rules: [{ from: [{ source }], to: [{ operation: { methods: ['GET'], paths: [ROUTE] } }] }],
    },
  };
  return {
    workload: { namespace: fx.namespace, trustDomain: fx.trustDomain },
    trustBundles: { [fx.trustDomain]: fx.caPem },
    mtls: { mode },
    policies: [requestAuthentication, allow],
  };
}

/** Server TLS options: the server SVID, the CA as client trust, client certificates requested. */
function tlsOptions(fx: Fixtures, rejectUnauthorized: boolean) {
  return {
    key: fx.serverKeyPem,
    cert: fx.serverCertPem,
    ca: fx.caPem,
    requestCert: true,
    rejectUnauthorized,
  };
}

async function listenNode(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

async function startExpress(variant: VariantInfo, fx: Fixtures): Promise<() => Promise<void>> {
  const app: Express = express();
  app.disable('x-powered-by');
  // `rejectUnauthorized: false` behind meshless, as in examples/payments: the guard (not the
  // handshake) refuses a missing or untrusted certificate, with an explained decision.
  let rejectUnauthorized = true;
  switch (variant.name) {
    case 'express':
    case 'express-https-mtls':
      break;
    case 'express-oauth2-jwt-bearer':
      app.use(
        oauth2JwtBearer({
          issuer: fx.issuer,
          jwksUri: fx.jwksUri,
          audience: fx.audience,
          tokenSigningAlg: 'ES256',
        }),
      );
      break;
    case 'express-meshless-jwt': {
      const guard = meshlessExpress(guardOptions(fx, 'PERMISSIVE'));
      await guard.ready;
      app.use(guard);
      break;
    }
    case 'express-meshless-mtls-jwt': {
      const guard = meshlessExpress(guardOptions(fx, 'STRICT'));
      await guard.ready;
      app.use(guard);
      rejectUnauthorized = false;
      break;
    }
    default:
      throw new Error(`not an Express variant: ${variant.name}`);
  }
  app.get(ROUTE, (_req, res) => {
    res.json(HELLO_BODY);
  });
  const server: Server =
    variant.transport === 'https-mtls'
      ? createHttpsServer(tlsOptions(fx, rejectUnauthorized), app)
      : createHttpServer(app);
  const port = await listenNode(server);
  announce(port);
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

async function startFastify(variant: VariantInfo, fx: Fixtures): Promise<() => Promise<void>> {
  const usesMeshless = variant.name.includes('meshless');
  const https = variant.transport === 'https-mtls' ? { https: tlsOptions(fx, !usesMeshless) } : {};
  const app = Fastify({
    logger: false,
    ...https,
    ...(usesMeshless ? { rewriteUrl: meshlessRewriteUrl() } : {}),
  });
  switch (variant.name) {
    case 'fastify':
    case 'fastify-https-mtls':
      break;
    case 'fastify-jwt':
      await app.register(fastifyJwt, {
        secret: { public: fx.jwtPublicKeyPem },
        verify: { algorithms: ['ES256'], allowedIss: fx.issuer, allowedAud: fx.audience },
      });
      app.addHook('onRequest', async (request) => {
        await request.jwtVerify();
      });
      break;
    case 'fastify-jwt-cached':
      await app.register(fastifyJwt, {
        secret: { public: fx.jwtPublicKeyPem },
        verify: {
          algorithms: ['ES256'],
          allowedIss: fx.issuer,
          allowedAud: fx.audience,
          cache: true,
        },
      });
      app.addHook('onRequest', async (request) => {
        await request.jwtVerify();
      });
      break;
    case 'fastify-meshless-jwt':
      await app.register(meshlessFastify, guardOptions(fx, 'PERMISSIVE'));
      break;
    case 'fastify-meshless-mtls-jwt':
      await app.register(meshlessFastify, guardOptions(fx, 'STRICT'));
      break;
    default:
      throw new Error(`not a Fastify variant: ${variant.name}`);
  }
  app.get(ROUTE, () => HELLO_BODY);
  await app.listen({ port: 0, host: '127.0.0.1' });
  announce((app.server.address() as AddressInfo).port);
  return () => app.close();
}

function announce(port: number): void {
  process.stdout.write(`${READY_PREFIX}${port}\n`);
}

async function main(): Promise<void> {
  const name = process.argv[2] ?? '';
  const variant = findVariant(name);
  if (!variant) throw new Error(`unknown variant "${name}"`);
  const fixturesPath = process.env[FIXTURES_ENV];
  if (!fixturesPath) throw new Error(`${FIXTURES_ENV} is not set`);
  const fx = readFixtures(fixturesPath);

  const close =
    variant.framework === 'express'
      ? await startExpress(variant, fx)
      : await startFastify(variant, fx);

  let closing = false;
  const shutdown = (): void => {
    if (closing) return;
    closing = true;
    const force = setTimeout(() => process.exit(0), 2_000);
    force.unref();
    close().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // The orchestrator holds our stdin: when it goes away (even killed), so do we.
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}

main().catch((error: unknown) => {
  console.error(`[bench server ${process.argv[2] ?? '?'}]`, error);
  process.exit(1);
});
