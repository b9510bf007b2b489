/**
 * One benchmark server: `node bench/dist/server.js <server>` (a `server` of common.ts's VARIANTS;
 * several variants can share one), fixtures from the file named by `MESHLESS_BENCH_FIXTURES`.
 * Listens on 127.0.0.1 (ephemeral port), prints `MESHLESS_BENCH_LISTENING <port>` once ready,
 * answers `GET /hello` with a small JSON body, and exits on SIGTERM/SIGINT or when its stdin (the
 * orchestrator's pipe) closes.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import fastifyJwt from '@fastify/jwt';
import { JwtVerifier, type GuardOptions } from '@meshless/core';
import { meshless as meshlessExpress } from '@meshless/express';
import { meshless as meshlessFastify, meshlessRewriteUrl } from '@meshless/fastify';
import express, { type Express } from 'express';
import { expressjwt } from 'express-jwt';
import { auth as oauth2JwtBearer } from 'express-oauth2-jwt-bearer';
import Fastify from 'fastify';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import jwksRsa from 'jwks-rsa';
import {
  FIXTURES_ENV,
  HELLO_BODY,
  READY_PREFIX,
  ROUTE,
  findServer,
  readFixtures,
  type Fixtures,
  type VariantInfo,
} from './common.js';

/**
 * What the guard requires. `jwt`: PERMISSIVE over plain HTTP, the token carries the identity.
 * `mtls-jwt`: STRICT over mTLS, the policy requires both the SVID's principal and the token's
 * request principal. `mtls-identity`: STRICT over mTLS, the policy requires only the principal (no
 * `RequestAuthentication`, no token): the cost of the peer identity alone.
 */
type Profile = 'jwt' | 'mtls-jwt' | 'mtls-identity' | 'no-identity';

/**
 * Guard options as a real service would write them: Istio `RequestAuthentication` and
 * `AuthorizationPolicy` objects (security.istio.io/v1).
 */
function guardOptions(fx: Fixtures, profile: Profile): GuardOptions {
  const requestAuthentication = {
    apiVersion: 'security.istio.io/v1',
    kind: 'RequestAuthentication',
    metadata: { name: 'bench-jwt', namespace: fx.namespace },
    spec: { jwtRules: [{ issuer: fx.issuer, jwksUri: fx.jwksUri, audiences: [fx.audience] }] },
  };
  // Istio principal form: the SPIFFE ID without `spiffe://`.
  const principal = fx.clientSpiffeId.replace(/^spiffe:\/\//, '');
  const source =
    profile === 'mtls-jwt'
      ? { principals: [principal], requestPrincipals: [`${fx.issuer}/${fx.subject}`] }
      : profile === 'mtls-identity'
        ? // As an Istio policy is usually written: `cluster.local` stands for the workload's own
          // trust domain (example.org here).
          { principals: [principal.replace(/^[^/]+\//, 'cluster.local/')] }
        : profile === 'no-identity'
          ? undefined
          : { requestPrincipals: ['*'] };
  const allow = {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'bench-allow', namespace: fx.namespace },
    spec: {
      action: 'ALLOW',
      rules: [
        {
          ...(source ? { from: [{ source }] } : {}),
          to: [{ operation: { methods: ['GET'], paths: [ROUTE] } }],
        },
      ],
    },
  };
  return {
    workload: { namespace: fx.namespace, trustDomain: fx.trustDomain },
    trustBundles: { [fx.trustDomain]: fx.caPem },
    mtls: {
      mode: profile === 'jwt' ? 'PERMISSIVE' : profile === 'no-identity' ? 'DISABLE' : 'STRICT',
    },
    policies:
      profile === 'mtls-identity' || profile === 'no-identity'
        ? [allow]
        : [requestAuthentication, allow],
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

/**
 * jose called directly, as an application would without a library around it: the bearer token
 * from the header, `jwtVerify` against a remote JWKS (fetched once, then cached by jose), the same
 * checks (ES256, iss, aud, exp). No verified-token cache: the reference for the uncached path.
 */
function joseVerifier(fx: Fixtures): (authorization: string | undefined) => Promise<boolean> {
  const keys = createRemoteJWKSet(new URL(fx.jwksUri));
  const options = { issuer: fx.issuer, audience: fx.audience, algorithms: ['ES256'] };
  return async (authorization) => {
    if (authorization === undefined || !authorization.startsWith('Bearer ')) return false;
    try {
      await jwtVerify(authorization.slice(7), keys, options);
      return true;
    } catch {
      return false;
    }
  };
}

/**
 * meshless's token verification called directly, the same way: `JwtVerifier` (what the guard's
 * token stage runs) with the same issuer, audience, algorithm and JWKS, its verified-token cache
 * included (a unique token per request never hits it). No policy, no header rewriting, no
 * `req.auth`: the counterpart of {@link joseVerifier}, to compare verification with verification.
 */
function meshlessVerifier(fx: Fixtures): (authorization: string | undefined) => Promise<boolean> {
  const verifier = new JwtVerifier({
    issuers: [{ issuer: fx.issuer, jwksUri: fx.jwksUri, audiences: [fx.audience] }],
    algorithms: ['ES256'],
  });
  return async (authorization) => {
    if (authorization === undefined || !authorization.startsWith('Bearer ')) return false;
    return (await verifier.verify(authorization.slice(7))).kind === 'ok';
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
  switch (variant.server) {
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
    case 'express-jwt':
      app.use(
        expressjwt({
          secret: jwksRsa.expressJwtSecret({ jwksUri: fx.jwksUri, cache: true }),
          algorithms: ['ES256'],
          issuer: fx.issuer,
          audience: fx.audience,
        }),
      );
      break;
    case 'express-jose':
    case 'express-meshless-verifier': {
      const verify = variant.server === 'express-jose' ? joseVerifier(fx) : meshlessVerifier(fx);
      app.use(async (req, res, next) => {
        if (await verify(req.headers.authorization)) next();
        else res.status(401).end();
      });
      break;
    }
    case 'express-meshless-jwt': {
      const guard = meshlessExpress(guardOptions(fx, 'jwt'));
      await guard.ready;
      app.use(guard);
      break;
    }
    case 'express-meshless-noid':
    case 'express-meshless-mtls':
    case 'express-meshless-mtls-jwt': {
      const profile: Profile =
        variant.server === 'express-meshless-noid'
          ? 'no-identity'
          : variant.server === 'express-meshless-mtls'
            ? 'mtls-identity'
            : 'mtls-jwt';
      const guard = meshlessExpress(guardOptions(fx, profile));
      await guard.ready;
      app.use(guard);
      rejectUnauthorized = false;
      break;
    }
    default:
      throw new Error(`not an Express server: ${variant.server}`);
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
  const usesMeshless = variant.server.includes('meshless');
  const https = variant.transport === 'https-mtls' ? { https: tlsOptions(fx, !usesMeshless) } : {};
  const app = Fastify({
    logger: false,
    ...https,
    ...(usesMeshless ? { rewriteUrl: meshlessRewriteUrl() } : {}),
  });
  switch (variant.server) {
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
      await app.register(meshlessFastify, guardOptions(fx, 'jwt'));
      break;
    case 'fastify-jose':
    case 'fastify-meshless-verifier': {
      const verify = variant.server === 'fastify-jose' ? joseVerifier(fx) : meshlessVerifier(fx);
      app.addHook('onRequest', async (request, reply) => {
        if (!(await verify(request.headers.authorization))) await reply.code(401).send();
      });
      break;
    }
    case 'fastify-meshless-noid':
      await app.register(meshlessFastify, guardOptions(fx, 'no-identity'));
      break;
    case 'fastify-meshless-mtls':
      await app.register(meshlessFastify, guardOptions(fx, 'mtls-identity'));
      break;
    case 'fastify-meshless-mtls-jwt':
      await app.register(meshlessFastify, guardOptions(fx, 'mtls-jwt'));
      break;
    default:
      throw new Error(`not a Fastify server: ${variant.server}`);
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
  const variant = findServer(name);
  if (!variant) throw new Error(`unknown server "${name}"`);
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
