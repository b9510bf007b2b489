import { readFileSync } from 'node:fs';

/**
 * The variants, in the order they run. Bare baselines first, so the ratios have a reference; each
 * meshless mTLS row right after the bare mTLS row it is compared with, so that drift on a shared
 * machine touches the pair as little as possible.
 */
export const VARIANTS = [
  {
    name: 'express',
    server: 'express',
    framework: 'express',
    transport: 'http',
    connection: 'keep-alive',
    auth: 'none',
    token: false,
  },
  {
    name: 'express-oauth2-jwt-bearer',
    server: 'express-oauth2-jwt-bearer',
    framework: 'express',
    transport: 'http',
    connection: 'keep-alive',
    auth: 'JWT (express-oauth2-jwt-bearer)',
    token: true,
  },
  {
    // express-jwt + jwks-rsa: no verified-token cache, the signature is verified on every request.
    name: 'express-jwt',
    server: 'express-jwt',
    framework: 'express',
    transport: 'http',
    connection: 'keep-alive',
    auth: 'JWT (express-jwt + jwks-rsa)',
    token: true,
  },
  {
    name: 'express-meshless-jwt',
    server: 'express-meshless-jwt',
    framework: 'express',
    transport: 'http',
    connection: 'keep-alive',
    auth: 'JWT + policy (meshless)',
    token: true,
  },
  // Uncached path: every request carries another token of the pool, so no verified-token cache
  // can answer; jose called directly is the reference.
  {
    name: 'express-oauth2-jwt-bearer-uncached',
    server: 'express-oauth2-jwt-bearer',
    framework: 'express',
    transport: 'http',
    connection: 'keep-alive',
    auth: 'JWT (express-oauth2-jwt-bearer)',
    token: true,
    uniqueTokens: true,
  },
  {
    name: 'express-jwt-uncached',
    server: 'express-jwt',
    framework: 'express',
    transport: 'http',
    connection: 'keep-alive',
    auth: 'JWT (express-jwt + jwks-rsa)',
    token: true,
    uniqueTokens: true,
  },
  {
    name: 'express-jose-uncached',
    server: 'express-jose',
    framework: 'express',
    transport: 'http',
    connection: 'keep-alive',
    auth: 'JWT (jose jwtVerify, remote JWKS)',
    token: true,
    uniqueTokens: true,
  },
  {
    name: 'express-meshless-verifier-uncached',
    server: 'express-meshless-verifier',
    framework: 'express',
    transport: 'http',
    connection: 'keep-alive',
    auth: 'JWT (meshless JwtVerifier, remote JWKS)',
    token: true,
    uniqueTokens: true,
  },
  {
    name: 'express-meshless-jwt-uncached',
    server: 'express-meshless-jwt',
    framework: 'express',
    transport: 'http',
    connection: 'keep-alive',
    auth: 'JWT + policy (meshless)',
    token: true,
    uniqueTokens: true,
  },
  {
    name: 'express-https-mtls',
    server: 'express-https-mtls',
    framework: 'express',
    transport: 'https-mtls',
    connection: 'keep-alive',
    auth: 'mTLS handshake only',
    token: false,
  },
  {
    // The same listener and guard path without the identity stage (mtls.mode DISABLE, allow-all):
    // the difference to express-meshless-mtls is what the SVID identity costs per request.
    name: 'express-meshless-noid',
    server: 'express-meshless-noid',
    framework: 'express',
    transport: 'https-mtls',
    connection: 'keep-alive',
    auth: 'policy only, identity off (meshless)',
    token: false,
  },
  {
    name: 'express-meshless-mtls',
    server: 'express-meshless-mtls',
    framework: 'express',
    transport: 'https-mtls',
    connection: 'keep-alive',
    auth: 'SVID + policy (meshless)',
    token: false,
  },
  {
    name: 'express-meshless-mtls-jwt',
    server: 'express-meshless-mtls-jwt',
    framework: 'express',
    transport: 'https-mtls',
    connection: 'keep-alive',
    auth: 'SVID + JWT + policy (meshless)',
    token: true,
  },
  {
    name: 'express-https-mtls-newconn',
    server: 'express-https-mtls',
    framework: 'express',
    transport: 'https-mtls',
    connection: 'new',
    auth: 'mTLS handshake only',
    token: false,
  },
  {
    name: 'express-meshless-mtls-newconn',
    server: 'express-meshless-mtls',
    framework: 'express',
    transport: 'https-mtls',
    connection: 'new',
    auth: 'SVID + policy (meshless)',
    token: false,
  },
  {
    name: 'fastify',
    server: 'fastify',
    framework: 'fastify',
    transport: 'http',
    connection: 'keep-alive',
    auth: 'none',
    token: false,
  },
  {
    name: 'fastify-jwt',
    server: 'fastify-jwt',
    framework: 'fastify',
    transport: 'http',
    connection: 'keep-alive',
    auth: 'JWT (@fastify/jwt)',
    token: true,
  },
  {
    // fast-jwt's verified-token cache is off by default; this row compares like with like.
    name: 'fastify-jwt-cached',
    server: 'fastify-jwt-cached',
    framework: 'fastify',
    transport: 'http',
    connection: 'keep-alive',
    auth: 'JWT (@fastify/jwt, cache on)',
    token: true,
  },
  {
    name: 'fastify-meshless-jwt',
    server: 'fastify-meshless-jwt',
    framework: 'fastify',
    transport: 'http',
    connection: 'keep-alive',
    auth: 'JWT + policy (meshless)',
    token: true,
  },
  {
    name: 'fastify-jwt-uncached',
    server: 'fastify-jwt',
    framework: 'fastify',
    transport: 'http',
    connection: 'keep-alive',
    auth: 'JWT (@fastify/jwt)',
    token: true,
    uniqueTokens: true,
  },
  {
    name: 'fastify-jose-uncached',
    server: 'fastify-jose',
    framework: 'fastify',
    transport: 'http',
    connection: 'keep-alive',
    auth: 'JWT (jose jwtVerify, remote JWKS)',
    token: true,
    uniqueTokens: true,
  },
  {
    name: 'fastify-meshless-verifier-uncached',
    server: 'fastify-meshless-verifier',
    framework: 'fastify',
    transport: 'http',
    connection: 'keep-alive',
    auth: 'JWT (meshless JwtVerifier, remote JWKS)',
    token: true,
    uniqueTokens: true,
  },
  {
    name: 'fastify-meshless-jwt-uncached',
    server: 'fastify-meshless-jwt',
    framework: 'fastify',
    transport: 'http',
    connection: 'keep-alive',
    auth: 'JWT + policy (meshless)',
    token: true,
    uniqueTokens: true,
  },
  {
    name: 'fastify-https-mtls',
    server: 'fastify-https-mtls',
    framework: 'fastify',
    transport: 'https-mtls',
    connection: 'keep-alive',
    auth: 'mTLS handshake only',
    token: false,
  },
  {
    // The same listener and guard path without the identity stage (mtls.mode DISABLE, allow-all):
    // the difference to fastify-meshless-mtls is what the SVID identity costs per request.
    name: 'fastify-meshless-noid',
    server: 'fastify-meshless-noid',
    framework: 'fastify',
    transport: 'https-mtls',
    connection: 'keep-alive',
    auth: 'policy only, identity off (meshless)',
    token: false,
  },
  {
    name: 'fastify-meshless-mtls',
    server: 'fastify-meshless-mtls',
    framework: 'fastify',
    transport: 'https-mtls',
    connection: 'keep-alive',
    auth: 'SVID + policy (meshless)',
    token: false,
  },
  {
    name: 'fastify-meshless-mtls-jwt',
    server: 'fastify-meshless-mtls-jwt',
    framework: 'fastify',
    transport: 'https-mtls',
    connection: 'keep-alive',
    auth: 'SVID + JWT + policy (meshless)',
    token: true,
  },
  {
    name: 'fastify-https-mtls-newconn',
    server: 'fastify-https-mtls',
    framework: 'fastify',
    transport: 'https-mtls',
    connection: 'new',
    auth: 'mTLS handshake only',
    token: false,
  },
  {
    name: 'fastify-meshless-mtls-newconn',
    server: 'fastify-meshless-mtls',
    framework: 'fastify',
    transport: 'https-mtls',
    connection: 'new',
    auth: 'SVID + policy (meshless)',
    token: false,
  },
] as const satisfies readonly VariantInfo[];

/** The server configurations (`bench/dist/server.js <server>`); several variants can share one. */
export type ServerName =
  | 'express'
  | 'express-oauth2-jwt-bearer'
  | 'express-jwt'
  | 'express-jose'
  | 'express-meshless-jwt'
  | 'express-meshless-verifier'
  | 'express-https-mtls'
  | 'express-meshless-mtls'
  | 'express-meshless-noid'
  | 'express-meshless-mtls-jwt'
  | 'fastify'
  | 'fastify-jwt'
  | 'fastify-jwt-cached'
  | 'fastify-meshless-jwt'
  | 'fastify-meshless-verifier'
  | 'fastify-jose'
  | 'fastify-https-mtls'
  | 'fastify-meshless-mtls'
  | 'fastify-meshless-noid'
  | 'fastify-meshless-mtls-jwt';

export interface VariantInfo {
  name: string;
  /** Which server configuration the variant measures. */
  server: ServerName;
  framework: 'express' | 'fastify';
  transport: 'http' | 'https-mtls';
  /**
   * `keep-alive`: autocannon, requests reuse their connection. `new`: every request on a new TCP
   * connection with a full TLS handshake (no session resumption), same client certificate.
   */
  connection: 'keep-alive' | 'new';
  auth: string;
  /** Whether the client sends a bearer token. */
  token: boolean;
  /**
   * Every request carries another token of the pool (`FixturesFile.tokenPoolPath`) instead of the
   * same one, so no verified-token cache can answer: the uncached path.
   */
  uniqueTokens?: boolean;
}

export type VariantName = (typeof VARIANTS)[number]['name'];

export function findVariant(name: string): VariantInfo | undefined {
  return VARIANTS.find((v) => v.name === name);
}

/** A variant served by this server configuration (they share framework and transport). */
export function findServer(name: string): VariantInfo | undefined {
  return VARIANTS.find((v) => v.server === name);
}

/** The "bare mTLS" reference of an mTLS variant: same framework, same connection mode. */
export function bareMtlsOf(variant: VariantInfo): string | undefined {
  if (variant.transport !== 'https-mtls') return undefined;
  return `${variant.framework}-https-mtls${variant.connection === 'new' ? '-newconn' : ''}`;
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
  /** Another client SVID from the same CA, whose identity no policy allows. */
  otherClientCertPath: string;
  otherClientKeyPath: string;
  /** PEM (SPKI) of the ES256 public key that signed the token. */
  jwtPublicKeyPath: string;
  issuer: string;
  audience: string;
  subject: string;
  jwksUri: string;
  token: string;
  /**
   * JSON array of distinct valid tokens (same claims as `token`, each with its own `jti`), for the
   * uncached variants. Read by the load generator only.
   */
  tokenPoolPath: string;
}

/** The fixtures with the PEM files read. */
export interface Fixtures extends FixturesFile {
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  otherClientCertPem: string;
  otherClientKeyPem: string;
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
    otherClientCertPem: read(file.otherClientCertPath),
    otherClientKeyPem: read(file.otherClientKeyPath),
    jwtPublicKeyPem: read(file.jwtPublicKeyPath),
  };
}
