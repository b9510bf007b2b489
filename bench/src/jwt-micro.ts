/**
 * Token verification alone, in process: meshless's `JwtVerifier.verify` against jose's `jwtVerify`
 * with a local JWKS, on tokens the verifier has never seen (every call misses the verified-token
 * cache and verifies the ES256 signature), plus `verify` of one token already verified (a cache
 * hit). No HTTP, no load generator sharing the cores: the steady number for what meshless adds on
 * the uncached path.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JwtVerifier } from '@meshless/core';
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
  type JSONWebKeySet,
} from 'jose';
import { median } from './paired.js';

export interface JwtMicro {
  /** Distinct tokens verified per round. */
  tokens: number;
  rounds: number;
  /** ns per `JwtVerifier.verify` of a token it has not seen (best round). */
  meshlessUncachedNs: number;
  /** ns per jose `jwtVerify` with `createLocalJWKSet`, same tokens, same checks (best round). */
  joseNs: number;
  /** Median over rounds of jose time / meshless time, each round measuring both back to back. */
  medianRatio: number;
  /** The same on process CPU time (main thread and libuv's pool, where WebCrypto verifies). */
  medianCpuRatio: number;
  /** ns per `JwtVerifier.verify` of a token in its verified-token cache (best round). */
  meshlessCachedNs: number;
  /** Calls per cached round. */
  cachedCalls: number;
}

const TOKENS = 4_000;
const ROUNDS = 9;
const CACHED_CALLS = 100_000;

export async function measureTokenVerification(): Promise<JwtMicro> {
  const issuer = 'https://issuer.micro.example';
  const audience = 'https://api.micro.example';
  const kid = 'micro-es256';
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwks: JSONWebKeySet = {
    keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }],
  };
  const sign = (jti: string): Promise<string> =>
    new SignJWT({ scope: 'payments:write' })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject('checkout')
      .setJti(jti)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
  const tokens: string[] = [];
  for (let i = 0; i < TOKENS; i++) tokens.push(await sign(`micro-${i}`));
  const cachedToken = await sign('micro-cached');

  // meshless fetches its keys from a JWKS URL: served here on loopback, fetched once (prefetch).
  const body = JSON.stringify(jwks);
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;

  const newVerifier = async (): Promise<JwtVerifier> => {
    const verifier = new JwtVerifier({
      issuers: [{ issuer, jwksUri, audiences: [audience] }],
      algorithms: ['ES256'],
    });
    await verifier.prefetch();
    return verifier;
  };

  const localKeys = createLocalJWKSet(jwks);
  const joseOptions = { issuer, audience, algorithms: ['ES256'] };

  /** Wall and CPU (main thread + thread pool) ns per call of one round. */
  interface Round {
    ns: number;
    cpuNs: number;
  }
  const timed = async (run: () => Promise<void>): Promise<Round> => {
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    await run();
    const ns = Number(process.hrtime.bigint() - start) / tokens.length;
    const used = process.cpuUsage(cpu);
    return { ns, cpuNs: ((used.user + used.system) * 1000) / tokens.length };
  };
  /** One round of meshless on all tokens, with a fresh verifier (empty caches). */
  const meshlessRound = async (): Promise<Round> => {
    const verifier = await newVerifier();
    return timed(async () => {
      for (const token of tokens) {
        const result = await verifier.verify(token);
        if (result.kind !== 'ok' || result.cached)
          throw new Error(
            `token micro-benchmark: meshless ${result.kind === 'ok' ? 'answered from its cache' : result.reason}`,
          );
      }
    });
  };
  const joseRound = (): Promise<Round> =>
    timed(async () => {
      for (const token of tokens) await jwtVerify(token, localKeys, joseOptions);
    });
  try {
    // Warm-up (JIT, key import), not counted.
    await meshlessRound();
    await joseRound();
    // Interleaved, order alternating, so that drift on a shared machine touches both alike; the
    // ratio is taken per round (both measured back to back), then the median over rounds.
    const meshless: Round[] = [];
    const jose: Round[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        meshless.push(await meshlessRound());
        jose.push(await joseRound());
      } else {
        jose.push(await joseRound());
        meshless.push(await meshlessRound());
      }
    }
    const meshlessUncachedNs = Math.min(...meshless.map((r) => r.ns));
    const joseNs = Math.min(...jose.map((r) => r.ns));
    const medianRatio = median(jose.map((r, i) => r.ns / (meshless[i] as Round).ns));
    const medianCpuRatio = median(jose.map((r, i) => r.cpuNs / (meshless[i] as Round).cpuNs));

    const verifier = await newVerifier();
    // A token is cached on its second use (the first use only remembers it).
    for (let use = 0; use < 2; use++) {
      const first = await verifier.verify(cachedToken);
      if (first.kind !== 'ok') throw new Error(`token micro-benchmark: ${first.reason}`);
    }
    let meshlessCachedNs = Infinity;
    for (let round = 0; round < 5; round++) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < CACHED_CALLS; i++) {
        const result = await verifier.verify(cachedToken);
        if (result.kind !== 'ok' || !result.cached)
          throw new Error('token micro-benchmark: the cached path missed its cache');
      }
      meshlessCachedNs = Math.min(
        meshlessCachedNs,
        Number(process.hrtime.bigint() - start) / CACHED_CALLS,
      );
    }
    return {
      tokens: TOKENS,
      rounds: ROUNDS,
      meshlessUncachedNs,
      joseNs,
      medianRatio,
      medianCpuRatio,
      meshlessCachedNs,
      cachedCalls: CACHED_CALLS,
    };
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
