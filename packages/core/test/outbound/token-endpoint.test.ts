/**
 * private_key_jwt, retries and malformed answers against a small local token endpoint. The
 * oidc-provider harness of @meshless/testing registers only client_secret_basic and
 * tls_client_auth clients, so private_key_jwt is checked here: the endpoint validates the
 * assertion with jose (signature, iss = sub = client_id, aud = token endpoint, exp, unique jti).
 */
import { generateKeyPairSync } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, type JWK } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createClientCredentialsSource,
  type ClientCredentialsSourceOptions,
} from '../../src/outbound/client-credentials-source.js';
import { TokenSourceError } from '../../src/outbound/errors.js';
import type { TokenSource } from '../../src/outbound/token-source.js';
import { deadOrigin, startServer, type TestServer } from '../helpers/jwks.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => resolve(body));
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

async function server(): Promise<TestServer> {
  const s = await startServer();
  cleanups.push(() => s.close());
  return s;
}

function source(options: ClientCredentialsSourceOptions): TokenSource {
  const s = createClientCredentialsSource({ retry: { initialDelayMs: 5 }, ...options });
  cleanups.push(() => s.close());
  return s;
}

const secretAuth = { method: 'client_secret_basic', clientSecret: 's3cr3t' } as const;

describe('private_key_jwt (RFC 7523) against a local token endpoint', () => {
  async function assertionEndpoint(publicJwk: JWK) {
    const s = await server();
    const endpoint = `${s.origin}/token`;
    const jwks = createLocalJWKSet({ keys: [publicJwk] });
    const seenJti = new Set<string>();
    const assertions: Record<string, unknown>[] = [];
    s.route('/token', (req, res) => {
      void (async () => {
        const form = new URLSearchParams(await readBody(req));
        try {
          if (form.get('grant_type') !== 'client_credentials') throw new Error('grant_type');
          if (
            form.get('client_assertion_type') !==
            'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
          )
            throw new Error('client_assertion_type');
          const { payload } = await jwtVerify(form.get('client_assertion') ?? '', jwks, {
            issuer: 'checkout',
            subject: 'checkout',
            audience: endpoint,
            requiredClaims: ['jti', 'exp', 'iat'],
            maxTokenAge: '2 min',
          });
          if (seenJti.has(payload.jti!)) throw new Error('replayed jti');
          seenJti.add(payload.jti!);
          assertions.push({
            ...payload,
            resource: form.getAll('resource'),
            scope: form.get('scope'),
          });
          send(res, 200, {
            access_token: `opaque-${seenJti.size}`,
            token_type: 'Bearer',
            expires_in: 300,
          });
        } catch {
          send(res, 401, { error: 'invalid_client' });
        }
      })();
    });
    return { endpoint, assertions, hits: () => s.hitCount('/token') };
  }

  it('signs a fresh assertion (aud = token endpoint, unique jti, short exp) per request', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const publicJwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const { endpoint, assertions } = await assertionEndpoint(publicJwk);
    const options: ClientCredentialsSourceOptions = {
      tokenEndpoint: endpoint,
      clientId: 'checkout',
      clientAuth: { method: 'private_key_jwt', privateKey, alg: 'ES256', kid: 'k1' },
      resource: ['https://a.test', 'https://b.test'],
      scope: 'x y',
    };
    expect(await source(options).getToken()).toBe('opaque-1');
    expect(await source(options).getToken()).toBe('opaque-2');
    expect(assertions).toHaveLength(2);
    const [a, b] = assertions as [Record<string, number | string>, Record<string, number | string>];
    expect(a['jti']).not.toBe(b['jti']);
    expect(Number(a['exp']) - Number(a['iat'])).toBe(60);
    expect(a['resource']).toEqual(['https://a.test', 'https://b.test']);
    expect(a['scope']).toBe('x y');
  });

  it('accepts a private JWK and a PEM key (RS256)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const publicJwk = { ...(await exportJWK(publicKey)), alg: 'RS256' };
    const { endpoint } = await assertionEndpoint(publicJwk);
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const jwk = await exportJWK(privateKey);
    for (const key of [pem, jwk]) {
      const token = await source({
        tokenEndpoint: endpoint,
        clientId: 'checkout',
        clientAuth: { method: 'private_key_jwt', privateKey: key, alg: 'RS256' },
      }).getToken();
      expect(token).toMatch(/^opaque-/);
    }
  });

  it('a key the server does not know is refused (invalid_client), the error has no assertion', async () => {
    const known = await generateKeyPair('ES256');
    const { endpoint, hits } = await assertionEndpoint(await exportJWK(known.publicKey));
    const other = await generateKeyPair('ES256');
    const error = (await source({
      tokenEndpoint: endpoint,
      clientId: 'checkout',
      clientAuth: { method: 'private_key_jwt', privateKey: other.privateKey, alg: 'ES256' },
    })
      .getToken()
      .catch((e: unknown) => e)) as TokenSourceError;
    expect(error).toMatchObject({
      code: 'ERR_TOKEN_SOURCE_REJECTED',
      oauthError: 'invalid_client',
    });
    expect(error.message).not.toMatch(/eyJ/);
    expect(hits()).toBe(1);
  });

  it('refuses symmetric algorithms and public keys at creation', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    expect(() =>
      createClientCredentialsSource({
        tokenEndpoint: 'https://as.test/token',
        clientId: 'c',
        clientAuth: { method: 'private_key_jwt', privateKey: publicKey, alg: 'HS256' },
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_SOURCE_CONFIG' }));
    expect(() =>
      createClientCredentialsSource({
        tokenEndpoint: 'https://as.test/token',
        clientId: 'c',
        clientAuth: { method: 'private_key_jwt', privateKey: publicKey, alg: 'ES256' },
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_SOURCE_CONFIG' }));
  });
});

describe('retries and answers', () => {
  it('retries 5xx with backoff, then succeeds', async () => {
    const s = await server();
    let n = 0;
    s.route('/token', (_req, res) => {
      n++;
      if (n <= 2) send(res, 503, { error: 'temporarily_unavailable' });
      else send(res, 200, { access_token: 'tok', token_type: 'bearer', expires_in: 60 });
    });
    const token = await source({
      tokenEndpoint: `${s.origin}/token`,
      clientId: 'c',
      clientAuth: secretAuth,
    }).getToken();
    expect(token).toBe('tok');
    expect(s.hitCount('/token')).toBe(3);
  });

  it('gives up after the configured attempts with ERR_TOKEN_SOURCE_UNAVAILABLE', async () => {
    const s = await server();
    s.route('/token', (_req, res) => send(res, 500, 'oops'));
    await expect(
      source({
        tokenEndpoint: `${s.origin}/token`,
        clientId: 'c',
        clientAuth: secretAuth,
        retry: { attempts: 2, initialDelayMs: 1 },
      }).getToken(),
    ).rejects.toMatchObject({ code: 'ERR_TOKEN_SOURCE_UNAVAILABLE', status: 500 });
    expect(s.hitCount('/token')).toBe(2);
  });

  it('honours 429 with Retry-After', async () => {
    const s = await server();
    let n = 0;
    s.route('/token', (_req, res) => {
      n++;
      if (n === 1) send(res, 429, { error: 'slow_down' }, { 'retry-after': '0' });
      else send(res, 200, { access_token: 'tok', token_type: 'Bearer', expires_in: 60 });
    });
    expect(
      await source({
        tokenEndpoint: `${s.origin}/token`,
        clientId: 'c',
        clientAuth: secretAuth,
      }).getToken(),
    ).toBe('tok');
    expect(s.hitCount('/token')).toBe(2);
  });

  it('does not retry a 4xx', async () => {
    const s = await server();
    s.route('/token', (_req, res) => send(res, 400, { error: 'invalid_scope' }));
    await expect(
      source({
        tokenEndpoint: `${s.origin}/token`,
        clientId: 'c',
        clientAuth: secretAuth,
      }).getToken(),
    ).rejects.toMatchObject({
      code: 'ERR_TOKEN_SOURCE_REJECTED',
      oauthError: 'invalid_scope',
      status: 400,
    });
    expect(s.hitCount('/token')).toBe(1);
  });

  it('network errors are retried, then ERR_TOKEN_SOURCE_UNAVAILABLE with the cause', async () => {
    const origin = await deadOrigin();
    const error = (await source({
      tokenEndpoint: `${origin}/token`,
      clientId: 'c',
      clientAuth: secretAuth,
    })
      .getToken()
      .catch((e: unknown) => e)) as TokenSourceError;
    expect(error).toBeInstanceOf(TokenSourceError);
    expect(error.code).toBe('ERR_TOKEN_SOURCE_UNAVAILABLE');
    expect(error.message).toContain('3 attempt(s)');
    expect(error.cause).toBeDefined();
  });

  it.each([
    ['no access_token', { token_type: 'Bearer' }],
    ['a DPoP token_type', { access_token: 't', token_type: 'DPoP' }],
    ['a bad expires_in', { access_token: 't', token_type: 'Bearer', expires_in: -1 }],
    ['not JSON', 'not json'],
  ])('refuses a 200 with %s (ERR_TOKEN_SOURCE_INVALID_RESPONSE)', async (_name, body) => {
    const s = await server();
    s.route('/token', (_req, res) => send(res, 200, body));
    await expect(
      source({
        tokenEndpoint: `${s.origin}/token`,
        clientId: 'c',
        clientAuth: secretAuth,
      }).getToken(),
    ).rejects.toMatchObject({ code: 'ERR_TOKEN_SOURCE_INVALID_RESPONSE' });
  });

  it('refuses a token response larger than 256 KiB', async () => {
    const s = await server();
    s.route('/token', (_req, res) =>
      send(res, 200, { access_token: 'x'.repeat(300 * 1024), token_type: 'Bearer' }),
    );
    await expect(
      source({
        tokenEndpoint: `${s.origin}/token`,
        clientId: 'c',
        clientAuth: secretAuth,
      }).getToken(),
    ).rejects.toMatchObject({ code: 'ERR_TOKEN_SOURCE_INVALID_RESPONSE' });
  });

  it('keeps serving the cached token while a background refresh fails', async () => {
    const s = await server();
    let n = 0;
    s.route('/token', (_req, res) => {
      n++;
      if (n === 1) send(res, 200, { access_token: 'tok-1', token_type: 'Bearer', expires_in: 3 });
      else send(res, 503, { error: 'temporarily_unavailable' });
    });
    const src = source({
      tokenEndpoint: `${s.origin}/token`,
      clientId: 'c',
      clientAuth: { method: 'client_secret_post', clientSecret: 's3cr3t' },
      retry: { attempts: 1 },
    });
    expect(await src.getToken()).toBe('tok-1');
    await new Promise((r) => setTimeout(r, 1700)); // past staleAt (1.5 s), before usableUntil
    expect(await src.getToken()).toBe('tok-1');
    expect(s.hitCount('/token')).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 1500)); // past expiry: callers wait and see the error
    await expect(src.getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_SOURCE_UNAVAILABLE' });
  });

  it('form-urlencodes id and secret before the Basic encoding (RFC 6749 §2.3.1)', async () => {
    const s = await server();
    let authorization = '';
    let form = new URLSearchParams();
    s.route('/token', (req, res) => {
      authorization = req.headers.authorization ?? '';
      void readBody(req).then((b) => {
        form = new URLSearchParams(b);
        send(res, 200, { access_token: 'tok', token_type: 'Bearer', expires_in: 60 });
      });
    });
    await source({
      tokenEndpoint: `${s.origin}/token`,
      clientId: 'my client',
      clientAuth: { method: 'client_secret_basic', clientSecret: 'p@ss:w/rd +' },
      audience: 'api://payments',
    }).getToken();
    const decoded = Buffer.from(authorization.replace(/^Basic /, ''), 'base64').toString();
    expect(decoded).toBe('my+client:p%40ss%3Aw%2Frd+%2B');
    expect(form.get('grant_type')).toBe('client_credentials');
    expect(form.get('audience')).toBe('api://payments');
    expect(form.has('client_secret')).toBe(false);
  });

  it('refuses non-https endpoints except loopback, and discovery documents of another issuer', async () => {
    expect(() =>
      createClientCredentialsSource({
        tokenEndpoint: 'http://as.test/token',
        clientId: 'c',
        clientAuth: secretAuth,
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_SOURCE_CONFIG' }));
    const s = await server();
    s.route('/.well-known/openid-configuration', (_req, res) =>
      send(res, 200, { issuer: 'https://evil.test', token_endpoint: `${s.origin}/token` }),
    );
    await expect(
      source({ issuer: s.origin, clientId: 'c', clientAuth: secretAuth }).getToken(),
    ).rejects.toMatchObject({ code: 'ERR_TOKEN_SOURCE_DISCOVERY' });
  });

  it('falls back to RFC 8414 metadata when openid-configuration is absent', async () => {
    const s = await server();
    s.route('/.well-known/oauth-authorization-server/tenant', (_req, res) =>
      send(res, 200, { issuer: `${s.origin}/tenant`, token_endpoint: `${s.origin}/tenant/token` }),
    );
    s.route('/tenant/token', (_req, res) =>
      send(res, 200, { access_token: 'tok', token_type: 'Bearer', expires_in: 60 }),
    );
    expect(
      await source({
        issuer: `${s.origin}/tenant`,
        clientId: 'c',
        clientAuth: secretAuth,
      }).getToken(),
    ).toBe('tok');
  });
});
