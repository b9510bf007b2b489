import { createHash } from 'node:crypto';
import {
  createTestCa,
  DEFAULT_OIDC_CLIENT,
  startOidcProvider,
  type OidcProviderHarness,
  type TestCa,
} from '@meshless/testing';
import { createRemoteJWKSet, customFetch, decodeJwt, jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClientCredentialsSource } from '../../src/outbound/client-credentials-source.js';
import { TokenSourceError } from '../../src/outbound/errors.js';
import type { TokenSource } from '../../src/outbound/token-source.js';
import { memoryX509Source } from '../helpers/memory-sources.js';

const AUDIENCE = 'https://payments.test';
const sources: TokenSource[] = [];
const closers: (() => Promise<void>)[] = [];

afterEach(() => {
  for (const source of sources.splice(0)) source.close();
});
afterAll(async () => {
  for (const close of closers.splice(0)) await close();
});

/** Wraps the harness fetch, counting requests per path. */
function countingFetch(op: OidcProviderHarness) {
  const calls: string[] = [];
  const wrapped: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    calls.push(new URL(url).pathname);
    return op.fetch(input, init);
  };
  const tokenPath = new URL(op.tokenEndpoint).pathname;
  return {
    fetch: wrapped,
    tokenRequests: () => calls.filter((p) => p === tokenPath).length,
    discoveryRequests: () => calls.filter((p) => p.includes('/.well-known/')).length,
  };
}

async function startOp(accessTokenTtlSec?: number): Promise<OidcProviderHarness> {
  const op = await startOidcProvider({
    audience: AUDIENCE,
    ...(accessTokenTtlSec === undefined ? {} : { accessTokenTtlSec }),
  });
  closers.push(() => op.close());
  return op;
}

function basicSource(op: OidcProviderHarness, fetchImpl: typeof fetch, secret?: string) {
  const source = createClientCredentialsSource({
    issuer: op.issuer,
    clientId: DEFAULT_OIDC_CLIENT.clientId,
    clientAuth: {
      method: 'client_secret_basic',
      clientSecret: secret ?? DEFAULT_OIDC_CLIENT.clientSecret,
    },
    resource: AUDIENCE,
    scope: ['payments:read'],
    fetch: fetchImpl,
    retry: { initialDelayMs: 10 },
  });
  sources.push(source);
  return source;
}

async function eventually(predicate: () => boolean, ms = 5000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('client_secret_basic against oidc-provider', () => {
  let op: OidcProviderHarness;
  beforeAll(async () => {
    op = await startOp();
  });

  it('gets an at+jwt that verifies against the OP JWKS (discovery from the issuer)', async () => {
    const counter = countingFetch(op);
    const token = await basicSource(op, counter.fetch).getToken();
    const jwks = createRemoteJWKSet(new URL(op.jwksUri), { [customFetch]: op.fetch });
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: op.issuer,
      audience: AUDIENCE,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    expect(protectedHeader.kid).toBe(op.currentKid);
    expect(payload['client_id']).toBe(DEFAULT_OIDC_CLIENT.clientId);
    expect(payload['scope']).toBe('payments:read');
    expect(counter.discoveryRequests()).toBe(1);
    expect(counter.tokenRequests()).toBe(1);
  });

  it('reuses the cached token: a second getToken() sends nothing', async () => {
    const counter = countingFetch(op);
    const source = basicSource(op, counter.fetch);
    const first = await source.getToken();
    const second = await source.getToken();
    expect(second).toBe(first);
    expect(counter.tokenRequests()).toBe(1);
    expect(counter.discoveryRequests()).toBe(1);
  });

  it('single-flight: 10 concurrent cold getToken() calls make one token request', async () => {
    const counter = countingFetch(op);
    const source = basicSource(op, counter.fetch);
    const tokens = await Promise.all(Array.from({ length: 10 }, () => source.getToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(counter.tokenRequests()).toBe(1);
    expect(counter.discoveryRequests()).toBe(1);
  });

  it('wrong secret: ERR_TOKEN_SOURCE_REJECTED with invalid_client, no retry, no secret', async () => {
    const counter = countingFetch(op);
    const secret = 'wrong-secret-do-not-leak-8f3a9c';
    const error = await basicSource(op, counter.fetch, secret)
      .getToken()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenSourceError);
    const e = error as TokenSourceError;
    expect(e.code).toBe('ERR_TOKEN_SOURCE_REJECTED');
    expect(e.oauthError).toBe('invalid_client');
    expect(e.status).toBe(401);
    expect(`${e.message} ${e.stack ?? ''} ${JSON.stringify(e)}`).not.toContain(secret);
    const basic = Buffer.from(`${DEFAULT_OIDC_CLIENT.clientId}:${secret}`).toString('base64');
    expect(`${e.message} ${e.stack ?? ''}`).not.toContain(basic);
    expect(counter.tokenRequests()).toBe(1);
  });

  it('an unknown resource is refused with invalid_target', async () => {
    const source = createClientCredentialsSource({
      tokenEndpoint: op.tokenEndpoint,
      clientId: DEFAULT_OIDC_CLIENT.clientId,
      clientAuth: { method: 'client_secret_basic', clientSecret: DEFAULT_OIDC_CLIENT.clientSecret },
      resource: 'https://elsewhere.test',
      fetch: op.fetch,
    });
    sources.push(source);
    await expect(source.getToken()).rejects.toMatchObject({
      code: 'ERR_TOKEN_SOURCE_REJECTED',
      oauthError: 'invalid_target',
      status: 400,
    });
  });

  it('close() makes getToken() reject with ERR_TOKEN_SOURCE_CLOSED', async () => {
    const source = basicSource(op, op.fetch);
    await source.getToken();
    source.close();
    await expect(source.getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_SOURCE_CLOSED' });
  });
});

describe('refresh ahead of expiry', () => {
  it('refreshes in the background before expires_in runs out (2 s tokens)', async () => {
    const op = await startOp(2);
    const counter = countingFetch(op);
    const source = basicSource(op, counter.fetch);
    const first = await source.getToken();
    expect(decodeJwt(first).exp! - decodeJwt(first).iat!).toBe(2);
    // Margin = min(max(30 s, 10 %), 50 %) = 1 s: the background refresh runs at ~1 s.
    await eventually(() => counter.tokenRequests() === 2, 3000);
    await new Promise((r) => setTimeout(r, 50));
    const second = await source.getToken();
    expect(second).not.toBe(first);
    expect(counter.tokenRequests()).toBe(2);
  });

  it('an idle source stops refreshing after one background refresh', async () => {
    const op = await startOp(1);
    const counter = countingFetch(op);
    const source = basicSource(op, counter.fetch);
    await source.getToken();
    await eventually(() => counter.tokenRequests() === 2, 3000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(counter.tokenRequests()).toBe(2);
    // After the token lapsed, a caller waits for a new one.
    await source.getToken();
    expect(counter.tokenRequests()).toBe(3);
  });
});

describe('tls_client_auth (RFC 8705) with an SVID', () => {
  let clientCa: TestCa;
  let op: OidcProviderHarness;
  const spiffeId = 'spiffe://td.test/ns/shop/sa/checkout';

  beforeAll(async () => {
    clientCa = await createTestCa({ trustDomain: 'td.test' });
    op = await startOidcProvider({
      audience: AUDIENCE,
      clientCa: clientCa.rootPem,
      clients: [{ clientId: 'checkout', tlsClientAuthSanUri: spiffeId }],
    });
    closers.push(() => op.close());
  });

  const thumbprint = (der: Buffer): string =>
    createHash('sha256').update(der).digest().toString('base64url');

  it('gets a token bound to the SVID (cnf x5t#S256), dropped when the SVID rotates', async () => {
    const first = await clientCa.issueSvid({ spiffeId });
    const x509Source = memoryX509Source({ chainPem: first.chainPem, keyPem: first.keyPem });
    const source = createClientCredentialsSource({
      tokenEndpoint: op.tokenEndpoint,
      clientId: 'checkout',
      clientAuth: { method: 'tls_client_auth', x509Source, ca: op.caPem },
      resource: AUDIENCE,
    });
    sources.push(source);

    const token = await source.getToken();
    const jwks = createRemoteJWKSet(new URL(op.jwksUri), { [customFetch]: op.fetch });
    const { payload } = await jwtVerify(token, jwks, { issuer: op.issuer, audience: AUDIENCE });
    expect(payload['client_id']).toBe('checkout');
    expect(payload['cnf']).toEqual({ 'x5t#S256': thumbprint(first.certDer) });
    expect(await source.getToken()).toBe(token);

    const rotated = await clientCa.issueSvid({ spiffeId });
    x509Source.set({ chainPem: rotated.chainPem, keyPem: rotated.keyPem });
    const next = await source.getToken();
    expect(next).not.toBe(token);
    expect(decodeJwt(next)['cnf']).toEqual({ 'x5t#S256': thumbprint(rotated.certDer) });
  });

  it('a certificate with another SPIFFE ID is refused (invalid_client)', async () => {
    const other = await clientCa.issueSvid({ spiffeId: 'spiffe://td.test/ns/shop/sa/other' });
    const source = createClientCredentialsSource({
      tokenEndpoint: op.tokenEndpoint,
      clientId: 'checkout',
      clientAuth: {
        method: 'tls_client_auth',
        x509Source: memoryX509Source({ chainPem: other.chainPem, keyPem: other.keyPem }),
        ca: op.caPem,
      },
    });
    sources.push(source);
    await expect(source.getToken()).rejects.toMatchObject({
      code: 'ERR_TOKEN_SOURCE_REJECTED',
      oauthError: 'invalid_client',
    });
  });

  it('an X509Source without an SVID gives ERR_TOKEN_SOURCE_NO_SVID', async () => {
    const source = createClientCredentialsSource({
      tokenEndpoint: op.tokenEndpoint,
      clientId: 'checkout',
      clientAuth: {
        method: 'tls_client_auth',
        x509Source: {
          getX509Svid: () => {
            throw new Error('no SVID yet');
          },
        },
        ca: op.caPem,
      },
    });
    sources.push(source);
    await expect(source.getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_SOURCE_NO_SVID' });
  });
});
