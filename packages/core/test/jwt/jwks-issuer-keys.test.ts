import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IssuerKeys, KeysUnavailableError } from '../../src/jwt/issuer-keys.js';
import type { RemovedKeys } from '../../src/jwt/jwks-options.js';
import {
  json,
  makeKey,
  signToken,
  startServer,
  type TestKey,
  type TestServer,
} from '../helpers/jwks.js';

let server: TestServer;
let k1: TestKey;
let k2: TestKey;
let seq = 0;

beforeAll(async () => {
  server = await startServer();
  [k1, k2] = await Promise.all([makeKey('k1'), makeKey('k2')]);
});
afterAll(() => server.close());

const verify = async (keys: IssuerKeys, key: TestKey) =>
  jwtVerify(await signToken(key, { iss: keys.config.issuer }), keys.getKey, {
    issuer: keys.config.issuer,
    algorithms: ['ES256'],
  }).then(
    () => 'ok',
    (e: unknown) => (e as { code?: string }).code,
  );

describe('IssuerKeys over the JWKS store', () => {
  it('discovers, prefetches, reports status and key removals through discovery', async () => {
    const base = `/ik/${++seq}`;
    const issuer = server.origin + base;
    server.route(
      `${base}/.well-known/openid-configuration`,
      json({ issuer, jwks_uri: `${issuer}/keys` }),
    );
    server.route(`${base}/keys`, json({ keys: [k1.publicJwk, k2.publicJwk] }));
    const clock = { now: Date.now() };
    const keys = new IssuerKeys({ issuer }, { jwks: { now: () => clock.now, random: () => 0 } });
    const removed: RemovedKeys[] = [];
    keys.onKeysRemoved((r) => removed.push(r)); // before discovery has found the JWKS URL
    expect(keys.status()).toMatchObject({ state: 'empty', keyCount: 0 });
    await keys.prefetch();
    expect(keys.status()).toMatchObject({ state: 'fresh', keyCount: 2 });
    expect(await verify(keys, k1)).toBe('ok');

    server.route(`${base}/keys`, json({ keys: [k2.publicJwk] }));
    keys.purge();
    expect(removed).toEqual([{ kids: ['k1', 'k2'], withoutKid: 0 }]);
    expect(await verify(keys, k2)).toBe('ok');
    expect(await verify(keys, k1)).toBe('ERR_JWKS_NO_MATCHING_KEY');
    expect(server.hitCount(`${base}/.well-known/openid-configuration`)).toBe(1);
  });

  it('a failed discovery shows as failed status and a KeysUnavailableError with retryAfterSec', async () => {
    const base = `/ik/${++seq}`;
    server.route(`${base}/.well-known/openid-configuration`, json({}, 503));
    const keys = new IssuerKeys({ issuer: server.origin + base });
    const error = await keys.prefetch().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeysUnavailableError);
    expect((error as KeysUnavailableError).retryAfterSec).toBe(5);
    expect(keys.status()).toMatchObject({
      state: 'failed',
      lastError: { code: 'ERR_KEYS_UNAVAILABLE' },
    });
    const again = await keys.prefetch().catch((e: unknown) => e);
    expect((again as KeysUnavailableError).retryAfterSec).toBeLessThanOrEqual(5);
    expect(server.hitCount(`${base}/.well-known/openid-configuration`)).toBe(1);
  });

  it('passes store timings through (stale-if-error 0: past the TTL a failed fetch fails closed)', async () => {
    const path = `/ik/${++seq}`;
    server.route(path, json({ keys: [k1.publicJwk] }));
    const clock = { now: Date.now() };
    const keys = new IssuerKeys(
      { issuer: 'https://issuer.test', jwksUri: server.origin + path },
      { jwks: { now: () => clock.now, staleIfErrorSec: 0, ttlMinSec: 60, ttlDefaultSec: 60 } },
    );
    expect(await verify(keys, k1)).toBe('ok');
    server.route(path, json({}, 500));
    clock.now += 61_000;
    expect(await verify(keys, k1)).toBe('ERR_KEYS_UNAVAILABLE');
    expect(keys.status()).toMatchObject({
      state: 'failed',
      lastError: { code: 'ERR_JWKS_HTTP_STATUS' },
    });
  });
});
