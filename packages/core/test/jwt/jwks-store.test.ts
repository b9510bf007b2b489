import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, jwtVerify, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeysUnavailableError } from '../../src/jwt/jwks-errors.js';
import type {
  JwksRefreshOutcome,
  JwksStoreOptions,
  RemovedKeys,
} from '../../src/jwt/jwks-options.js';
import { JwksStore } from '../../src/jwt/jwks-store.js';
import { JwtVerifier } from '../../src/jwt/jwt-verifier.js';
import {
  json,
  makeKey,
  signToken,
  startServer,
  type Handler,
  type TestKey,
  type TestServer,
} from '../helpers/jwks.js';

const ISS = 'https://issuer.test';
const T0 = 1_700_000_000_000;

let server: TestServer;
let k1: TestKey;
let k2: TestKey;
let seq = 0;

beforeAll(async () => {
  server = await startServer();
  [k1, k2] = await Promise.all([makeKey('k1'), makeKey('k2')]);
});
afterAll(() => server.close());

/** JWKS answer with response headers (e.g. Cache-Control). */
const jwks = (keys: JWK[], headers: Record<string, string> = {}): Handler => {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify({ keys }));
  };
};

/** A store on a fresh route, a settable clock, and a log of fetch outcomes. */
function setup(handler: Handler, options: JwksStoreOptions = {}) {
  const path = `/store/${++seq}`;
  server.route(path, handler);
  const clock = { now: T0 };
  const outcomes: JwksRefreshOutcome[] = [];
  let waiters: (() => void)[] = [];
  const store = new JwksStore(server.origin + path, {
    now: () => clock.now,
    random: () => 0.5,
    ...options,
    onRefresh: (outcome) => {
      outcomes.push(outcome);
      for (const w of waiters) w();
      waiters = [];
    },
  });
  return {
    path,
    store,
    clock,
    outcomes,
    hits: () => server.hitCount(path),
    /** Resolves after the next fetch completes. */
    nextRefresh: () => new Promise<void>((resolve) => waiters.push(resolve)),
    setHandler: (h: Handler) => server.route(path, h),
  };
}

async function verify(store: JwksStore, key: TestKey, header: Record<string, unknown> = {}) {
  const token = await signToken(key, { iss: ISS, sub: 's' }, header);
  return jwtVerify(token, store.getKey, { issuer: ISS, algorithms: ['ES256'] }).then(
    () => 'ok',
    (e: unknown) => (e as { code?: string }).code ?? String(e),
  );
}

describe('JwksStore: TTL from Cache-Control, clamped to [5 min, 24 h]', () => {
  it.each([
    ['no header → default 600', {}, 600],
    ['max-age=60 → 300', { 'cache-control': 'public, max-age=60' }, 300],
    ['max-age=3600 → 3600', { 'cache-control': 'max-age=3600, must-revalidate' }, 3600],
    ['max-age=999999 → 86400', { 'cache-control': 'max-age=999999' }, 86_400],
    ['no-store → 300', { 'cache-control': 'no-store' }, 300],
  ])('%s', async (_name, headers, ttl) => {
    const s = setup(jwks([k1.publicJwk], headers));
    expect(s.store.status()).toMatchObject({ state: 'empty', keyCount: 0 });
    await s.store.prefetch();
    expect(s.outcomes).toEqual([{ ok: true, keyCount: 1, dropped: 0, ttlSec: ttl }]);
    expect(s.store.status()).toMatchObject({ state: 'fresh', lastFetch: T0, keyCount: 1 });
    s.clock.now = T0 + ttl * 1000 - 1;
    expect(s.store.status().state).toBe('fresh');
    s.clock.now = T0 + ttl * 1000;
    expect(s.store.status().state).toBe('stale');
  });

  it('100 concurrent cold requests make one fetch', async () => {
    const s = setup(jwks([k1.publicJwk]));
    const results = await Promise.all(Array.from({ length: 100 }, () => verify(s.store, k1)));
    expect(new Set(results)).toEqual(new Set(['ok']));
    expect(s.hits()).toBe(1);
  });
});

describe('JwksStore: refresh ahead and stale-while-revalidate', () => {
  it('refreshes at ~80% of the TTL in the background; the request does not wait', async () => {
    let release: () => void = () => undefined;
    const s = setup(jwks([k1.publicJwk]));
    await s.store.prefetch();
    s.clock.now = T0 + 400_000; // 67% of 600 s: nothing to do
    expect(await verify(s.store, k1)).toBe('ok');
    expect(s.hits()).toBe(1);
    // The next answer is held until released: a request that waited on it would hang.
    s.setHandler((req, res) => {
      release = () => jwks([k1.publicJwk, k2.publicJwk])(req, res);
    });
    s.clock.now = T0 + 500_000; // 83%: due (0.75 + 0.1 × jitter)
    const refreshed = s.nextRefresh();
    expect(await verify(s.store, k1)).toBe('ok');
    await expect.poll(() => s.hits()).toBe(2);
    expect(s.store.status().lastFetch).toBe(T0);
    release();
    await refreshed;
    expect(s.store.status()).toMatchObject({
      state: 'fresh',
      lastFetch: T0 + 500_000,
      keyCount: 2,
    });
    expect(await verify(s.store, k2)).toBe('ok');
    expect(s.hits()).toBe(2);
  });

  it('provider down: stale keys inside the window, then jwks_unavailable + Retry-After, then recovery', async () => {
    const s = setup(jwks([k1.publicJwk]), { staleIfErrorSec: 3600, failureBackoffSec: 5 });
    await s.store.prefetch();
    s.setHandler(json({ error: 'down' }, 503));

    // Past the TTL: the last good set is served while the background fetch fails.
    s.clock.now = T0 + 700_000;
    let refreshed = s.nextRefresh();
    expect(await verify(s.store, k1)).toBe('ok');
    await refreshed;
    expect(s.outcomes.at(-1)).toMatchObject({ ok: false, serving: 'stale' });
    expect(s.store.status()).toMatchObject({
      state: 'stale',
      keyCount: 1,
      lastError: { code: 'ERR_JWKS_HTTP_STATUS' },
    });
    // Within the failure backoff no new fetch is tried.
    expect(await verify(s.store, k1)).toBe('ok');
    expect(s.hits()).toBe(2);

    // Still inside the window (TTL 600 s + 3600 s): served.
    s.clock.now = T0 + 4_199_000;
    refreshed = s.nextRefresh();
    expect(await verify(s.store, k1)).toBe('ok');
    await refreshed;

    // Past the window: fail closed with a Retry-After, without waiting on the issuer.
    s.clock.now = T0 + 4_201_000;
    const error = await Promise.resolve()
      .then(() => s.store.getKey({ alg: 'ES256', kid: 'k1' }, { payload: '', signature: '' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeysUnavailableError);
    expect((error as KeysUnavailableError).code).toBe('ERR_KEYS_UNAVAILABLE');
    expect((error as KeysUnavailableError).retryAfterSec).toBeGreaterThanOrEqual(1);
    expect((error as KeysUnavailableError).retryAfterSec).toBeLessThanOrEqual(5);
    expect(s.store.status()).toMatchObject({ state: 'failed', keyCount: 0 });
    const hitsWhileDown = s.hits();

    // The provider comes back: the same store recovers after the backoff.
    s.setHandler(jwks([k1.publicJwk]));
    expect(await verify(s.store, k1)).toBe('ERR_KEYS_UNAVAILABLE');
    expect(s.hits()).toBe(hitsWhileDown);
    s.clock.now += 5_000;
    expect(await verify(s.store, k1)).toBe('ok');
    expect(s.store.status()).toMatchObject({ state: 'fresh', keyCount: 1, lastError: undefined });
  });

  it('a store that never fetched fails closed and fails fast afterwards', async () => {
    const hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/jwks`;
    try {
      const store = new JwksStore(url, { timeoutMs: 200 });
      const first = await store.prefetch().catch((e: unknown) => e);
      expect(first).toBeInstanceOf(KeysUnavailableError);
      expect((first as Error).cause).toMatchObject({ code: 'ERR_JWKS_TIMEOUT' });
      const started = Date.now();
      expect(await verify(store, k1)).toBe('ERR_KEYS_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(100);
      expect(store.status()).toMatchObject({
        state: 'failed',
        lastError: { code: 'ERR_JWKS_TIMEOUT' },
      });
    } finally {
      hanging.closeAllConnections();
      hanging.close();
    }
  });
});

describe('JwksStore: unknown kid', () => {
  it('a freshly rotated kid is accepted at once, with one fetch', async () => {
    const s = setup(jwks([k1.publicJwk]));
    expect(await verify(s.store, k1)).toBe('ok');
    s.setHandler(jwks([k1.publicJwk, k2.publicJwk]));
    s.clock.now = T0 + 1_000; // well inside the 30 s cooldown
    expect(await verify(s.store, k2)).toBe('ok');
    expect(s.hits()).toBe(2);
  });

  it('1,000 random kids cost at most one extra fetch inside the cooldown, and one per cooldown after', async () => {
    const s = setup(jwks([k1.publicJwk]));
    await s.store.prefetch();
    const attacker = await makeKey('x');
    const flood = (n: number) =>
      Array.from({ length: n }, () => verify(s.store, attacker, { kid: crypto.randomUUID() }));
    s.clock.now = T0 + 1_000;
    const concurrent = await Promise.all(flood(500));
    const sequential: string[] = [];
    for (const p of flood(500)) sequential.push(await p);
    expect(new Set([...concurrent, ...sequential])).toEqual(new Set(['ERR_JWKS_NO_MATCHING_KEY']));
    expect(s.hits()).toBe(2); // the first fetch + one from the rotation budget
    s.clock.now = T0 + 29_000;
    await Promise.all(flood(100));
    expect(s.hits()).toBe(2);
    // After the cooldown: one more fetch, single-flight, however many kids arrive.
    s.clock.now = T0 + 31_500;
    await Promise.all(flood(200));
    expect(s.hits()).toBe(3);
    expect(await verify(s.store, k1)).toBe('ok');
  });

  it('a kid just looked up and missing is not fetched again during the cooldown', async () => {
    const s = setup(jwks([k1.publicJwk]), { rotationBudgetPerMin: 10 });
    await s.store.prefetch();
    s.clock.now = T0 + 1_000;
    expect(await verify(s.store, k2)).toBe('ERR_JWKS_NO_MATCHING_KEY');
    expect(await verify(s.store, k2)).toBe('ERR_JWKS_NO_MATCHING_KEY');
    expect(s.hits()).toBe(2);
  });
});

describe('JwksStore: key removal', () => {
  it('a removed key is reported by onKeysRemoved and refused afterwards', async () => {
    const s = setup(jwks([k1.publicJwk, k2.publicJwk]));
    const removed: RemovedKeys[] = [];
    const unsubscribe = s.store.onKeysRemoved((r) => removed.push(r));
    expect(await verify(s.store, k1)).toBe('ok');
    s.setHandler(jwks([k2.publicJwk]));
    s.clock.now = T0 + 550_000;
    const refreshed = s.nextRefresh();
    expect(await verify(s.store, k2)).toBe('ok');
    await refreshed;
    expect(removed).toEqual([{ kids: ['k1'], withoutKid: 0 }]);
    expect(await verify(s.store, k1)).toBe('ERR_JWKS_NO_MATCHING_KEY');
    unsubscribe();
  });

  it('a kid whose key material changed counts as removed', async () => {
    const s = setup(jwks([k1.publicJwk]));
    const removed: RemovedKeys[] = [];
    s.store.onKeysRemoved((r) => removed.push(r));
    await s.store.prefetch();
    const replacement = await makeKey('k1');
    s.setHandler(jwks([replacement.publicJwk]));
    s.clock.now = T0 + 500_000;
    const refreshed = s.nextRefresh();
    expect(await verify(s.store, k1)).toBe('ok');
    await refreshed;
    expect(removed).toEqual([{ kids: ['k1'], withoutKid: 0 }]);
    expect(await verify(s.store, replacement)).toBe('ok');
    expect(await verify(s.store, k1)).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  it('purge drops every key, reports them removed, and the next request fetches anew', async () => {
    const s = setup(jwks([k1.publicJwk, k2.publicJwk]));
    const removed: RemovedKeys[] = [];
    s.store.onKeysRemoved((r) => removed.push(r));
    await s.store.prefetch();
    s.store.purge();
    expect(removed).toEqual([{ kids: ['k1', 'k2'], withoutKid: 0 }]);
    expect(s.store.status().state).toBe('empty');
    expect(await verify(s.store, k1)).toBe('ok');
    expect(s.hits()).toBe(2);
  });
});

describe('JwksStore: hostile or broken documents', () => {
  it('drops keys with private members and symmetric keys', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = { ...(await exportJWK(privateKey)), kid: 'k2', alg: 'ES256' };
    const oct = { kty: 'oct', k: 'c2VjcmV0', kid: 'k2', alg: 'HS256' };
    const s = setup(jwks([k1.publicJwk, privateJwk, oct, { ...k2.publicJwk, use: 'enc' }]));
    expect(await verify(s.store, k1)).toBe('ok');
    expect(s.outcomes[0]).toMatchObject({ ok: true, keyCount: 1, dropped: 3 });
  });

  it('a document with only private keys is refused', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const s = setup(jwks([{ ...(await exportJWK(privateKey)), kid: 'k1' }]));
    const error = await s.store.prefetch().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeysUnavailableError);
    expect((error as Error).cause).toMatchObject({ code: 'ERR_JWKS_INVALID' });
  });

  const big = JSON.stringify({ keys: [k1Placeholder()], pad: 'x'.repeat(600 * 1024) });
  function k1Placeholder() {
    return { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', kid: 'pad' };
  }
  it.each<[string, Handler, string]>([
    ['an oversize body (content-length)', (_q, r) => r.end(big), 'ERR_JWKS_TOO_LARGE'],
    [
      'an oversize body (chunked)',
      (_q, r) => {
        r.writeHead(200, { 'content-type': 'application/json' });
        for (let i = 0; i < 100; i++) r.write('x'.repeat(8 * 1024));
        r.end();
      },
      'ERR_JWKS_TOO_LARGE',
    ],
    [
      'a redirect',
      (_q, r) => r.writeHead(302, { location: '/elsewhere' }).end(),
      'ERR_JWKS_REDIRECT',
    ],
    ['bad JSON', (_q, r) => r.end('{"keys": ['), 'ERR_JWKS_INVALID'],
    ['not a JWKS', json({ nokeys: [] }), 'ERR_JWKS_INVALID'],
    ['HTTP 500', json({}, 500), 'ERR_JWKS_HTTP_STATUS'],
  ])('%s keeps the last good set', async (_name, handler, code) => {
    const s = setup(jwks([k1.publicJwk]));
    await s.store.prefetch();
    s.setHandler(handler);
    s.clock.now = T0 + 500_000;
    const refreshed = s.nextRefresh();
    expect(await verify(s.store, k1)).toBe('ok');
    await refreshed;
    expect(s.outcomes.at(-1)).toMatchObject({ ok: false, error: { code }, serving: 'stale' });
    expect(s.store.status()).toMatchObject({ state: 'fresh', keyCount: 1, lastError: { code } });
    expect(await verify(s.store, k1)).toBe('ok');
  });

  it('refuses a plain-HTTP URL beyond loopback unless opted in', () => {
    expect(() => new JwksStore('http://keys.example.com/jwks')).toThrow(KeysUnavailableError);
    expect(() => new JwksStore('ftp://127.0.0.1/jwks')).toThrow(KeysUnavailableError);
    expect(
      () => new JwksStore('http://keys.example.com/jwks', { allowInsecureHttp: true }),
    ).not.toThrow();
  });
});

describe('JwtVerifier with the JWKS store', () => {
  it('accepts a rotated kid at once (jose alone rejected it for 30 s)', async () => {
    const path = `/store/${++seq}`;
    server.route(path, jwks([k1.publicJwk]));
    const verifier = new JwtVerifier({ issuers: [{ issuer: ISS, jwksUri: server.origin + path }] });
    const ok = await verifier.verify(await signToken(k1, { iss: ISS, sub: 's' }));
    expect(ok.kind).toBe('ok');
    server.route(path, jwks([k1.publicJwk, k2.publicJwk]));
    const rotated = await verifier.verify(await signToken(k2, { iss: ISS, sub: 's' }));
    expect(rotated).toMatchObject({ kind: 'ok', token: { kid: 'k2' } });
    expect(server.hitCount(path)).toBe(2);
  });
});
