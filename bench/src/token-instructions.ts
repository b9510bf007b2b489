/**
 * Workload for `bench/instructions.sh`: verifies fresh ES256 tokens with jose's `jwtVerify`
 * (`jose`) or meshless's `JwtVerifier` (`meshless`), after a warm-up, between two markers on
 * stdout so that callgrind counts the measured window only. Usage:
 * `node bench/dist/token-instructions.js <jose|meshless> <tokens> <warm-up tokens> <pause ms>`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JwtVerifier } from '@meshless/core';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';

const [which = 'meshless', countArg = '1000', warmArg = '3000', pauseArg = '5000'] =
  process.argv.slice(2);
if (which !== 'jose' && which !== 'meshless') throw new Error('first argument: jose or meshless');
const issuer = 'https://issuer.instructions.example';
const audience = 'https://api.instructions.example';
const kid = 'k';
const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] };
const sign = (jti: string): Promise<string> =>
  new SignJWT({ scope: 'x' })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject('s')
    .setJti(jti)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);
const tokens = async (prefix: string, n: number): Promise<string[]> => {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await sign(`${prefix}${i}`));
  return out;
};
const warm = await tokens('w', Number(warmArg));
const measured = await tokens('m', Number(countArg));

const body = JSON.stringify(jwks);
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end(body);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
const local = createLocalJWKSet(jwks);
const options = { issuer, audience, algorithms: ['ES256'] };
const verifier = new JwtVerifier({
  issuers: [{ issuer, jwksUri, audiences: [audience] }],
  algorithms: ['ES256'],
});
await verifier.prefetch();
const verify =
  which === 'jose'
    ? async (token: string) => void (await jwtVerify(token, local, options))
    : async (token: string) => {
        const result = await verifier.verify(token);
        if (result.kind !== 'ok' || result.cached) throw new Error('expected an uncached success');
      };
const pause = () => new Promise((resolve) => setTimeout(resolve, Number(pauseArg)));

for (const token of warm) await verify(token);
console.log('=== MEASURE ===');
await pause();
for (const token of measured) await verify(token);
console.log('=== END ===');
await pause();
server.close();
