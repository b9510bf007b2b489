import { readFileSync } from 'node:fs';

/** The variants, in the order they run. Bare baselines first, so the ratios have a reference. */
export const VARIANTS = [
  {
    name: 'express',
    framework: 'express',
    transport: 'http',
    auth: 'none',
  },
  {
    name: 'express-oauth2-jwt-bearer',
    framework: 'express',
    transport: 'http',
    auth: 'JWT (express-oauth2-jwt-bearer)',
  },
  {
    name: 'express-meshless-jwt',
    framework: 'express',
    transport: 'http',
    auth: 'JWT + policy (meshless)',
  },
  {
    name: 'express-https-mtls',
    framework: 'express',
    transport: 'https-mtls',
    auth: 'mTLS handshake only',
  },
  {
    name: 'express-meshless-mtls-jwt',
    framework: 'express',
    transport: 'https-mtls',
    auth: 'SVID + JWT + policy (meshless)',
  },
  {
    name: 'fastify',
    framework: 'fastify',
    transport: 'http',
    auth: 'none',
  },
  {
    name: 'fastify-jwt',
    framework: 'fastify',
    transport: 'http',
    auth: 'JWT (@fastify/jwt)',
  },
  {
    // fast-jwt's verified-token cache is off by default; this row compares like with like.
    name: 'fastify-jwt-cached',
    framework: 'fastify',
    transport: 'http',
    auth: 'JWT (@fastify/jwt, cache on)',
  },
  {
    name: 'fastify-meshless-jwt',
    framework: 'fastify',
    transport: 'http',
    auth: 'JWT + policy (meshless)',
  },
  {
    name: 'fastify-https-mtls',
    framework: 'fastify',
    transport: 'https-mtls',
    auth: 'mTLS handshake only',
  },
  {
    name: 'fastify-meshless-mtls-jwt',
    framework: 'fastify',
    transport: 'https-mtls',
    auth: 'SVID + JWT + policy (meshless)',
  },
] as const satisfies readonly VariantInfo[];

export interface VariantInfo {
  name: string;
  framework: 'express' | 'fastify';
  transport: 'http' | 'https-mtls';
  auth: string;
}

export type VariantName = (typeof VARIANTS)[number]['name'];

export function findVariant(name: string): VariantInfo | undefined {
  return VARIANTS.find((v) => v.name === name);
}

/** Whether the client sends the bearer token to this variant. */
export function sendsToken(variant: VariantInfo): boolean {
  return variant.auth !== 'none' && variant.auth !== 'mTLS handshake only';
}

/** The route every variant serves, and what it answers. */
export const ROUTE = '/hello';
export const HELLO_BODY = { hello: 'world' } as const;

/** Printed by a server on stdout once it listens: `MESHLESS_BENCH_LISTENING <port>`. */
export const READY_PREFIX = 'MESHLESS_BENCH_LISTENING ';

/** Environment variable that carries the path of `fixtures.json` to the servers. */
export const FIXTURES_ENV = 'MESHLESS_BENCH_FIXTURES';

/** Paths (PEM files) and values the servers and the load generator share. */
export interface FixturesFile {
  trustDomain: string;
  /** Workload namespace of the benchmarked server, and of its policies. */
  namespace: string;
  caPath: string;
  serverCertPath: string;
  serverKeyPath: string;
  clientCertPath: string;
  clientKeyPath: string;
  /** SPIFFE ID of the client SVID. */
  clientSpiffeId: string;
  /** PEM (SPKI) of the ES256 public key that signed the token. */
  jwtPublicKeyPath: string;
  issuer: string;
  audience: string;
  subject: string;
  jwksUri: string;
  token: string;
}

/** The fixtures with the PEM files read. */
export interface Fixtures extends FixturesFile {
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  jwtPublicKeyPem: string;
}

export function readFixtures(path: string): Fixtures {
  const file = JSON.parse(readFileSync(path, 'utf8')) as FixturesFile;
  const read = (p: string): string => readFileSync(p, 'utf8');
  return {
    ...file,
    caPem: read(file.caPath),
    serverCertPem: read(file.serverCertPath),
    serverKeyPem: read(file.serverKeyPath),
    clientCertPem: read(file.clientCertPath),
    clientKeyPem: read(file.clientKeyPath),
    jwtPublicKeyPem: read(file.jwtPublicKeyPath),
  };
}
