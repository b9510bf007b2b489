/**
 * Token suite, part 2: JWKS availability (a flood of unknown kids, provider outage with stale keys,
 * 503 + Retry-After and recovery, key rotation).
 */
import https from 'node:https';
import { describe, expect, it } from 'vitest';
import { AUDIENCE, b64url, headerOf, SECRET_CLIENT, signEs256, sleep } from './token-fixtures.js';
import type { TokenHarness } from './token-harness.js';

/** Registers the JWKS availability tests for one adapter. */
export function describeJwksAvailability(adapter: string, t: TokenHarness): void {
  describe(`${adapter}: JWKS availability`, () => {
    it('a flood of 200 unknown kids costs at most 3 JWKS fetches', async () => {
      const r = await t.startGuard((f) => ({
        policies: t.policies(),
        jwt: {
          fetch: f.fetch,
          issuers: [{ issuer: t.op.issuer, audiences: [AUDIENCE], profile: 'rfc9068' }],
        },
      }));
      await t.expectOk(r, await t.op.getToken(SECRET_CLIENT));
      const payload = t.localClaims({ iss: t.op.issuer, sub: 'flood', client_id: 'flood' });
      const agent = new https.Agent({
        keepAlive: true,
        maxSockets: 16,
        ca: t.ca.rootPem,
        cert: t.checkout.chainPem,
        key: t.checkout.keyPem,
      });
      try {
        const statuses: string[] = [];
        for (let batch = 0; batch < 10; batch++) {
          const results = await Promise.all(
            Array.from({ length: 20 }, async () => {
              const kid = b64url(Buffer.from(Math.random().toString()));
              const token = signEs256(
                { alg: 'ES256', typ: 'at+jwt', kid },
                payload,
                t.attacker.privateKey,
              );
              const res = await t.send(r, token, { agent });
              return `${res.status} ${res.json<{ reason?: string }>().reason}`;
            }),
          );
          statuses.push(...results);
        }
        expect(new Set(statuses)).toEqual(new Set(['401 jwt_signature_invalid']));
        expect(statuses).toHaveLength(200);
      } finally {
        agent.destroy();
      }
      expect(r.fetch.count(t.op.jwksUri)).toBeLessThanOrEqual(3);
      expect(r.fetch.count(t.op.jwksUri)).toBeGreaterThanOrEqual(1);
    });

    it('provider down: stale keys serve for the window, then 503 + Retry-After, then recovery', async () => {
      const r = await t.startGuard((f) => ({
        policies: t.policies(),
        jwt: {
          fetch: f.fetch,
          issuers: [{ issuer: t.op.issuer, audiences: [AUDIENCE], profile: 'rfc9068' }],
          keyStore: {
            ttlDefaultSec: 1,
            ttlMinSec: 1,
            ttlMaxSec: 1,
            staleIfErrorSec: 2,
            failureBackoffSec: 1,
          },
        },
      }));
      // Each step uses a fresh token, so the verified-token cache never answers.
      const fresh = () => t.op.getToken(SECRET_CLIENT);
      const t0 = Date.now();
      await t.expectOk(r, await fresh());
      const fetchesUp = r.fetch.count(t.op.jwksUri);
      r.fetch.opUp = false;
      await sleep(Math.max(0, t0 + 1300 - Date.now())); // past the TTL, inside the stale window
      await t.expectOk(r, await fresh());
      expect(r.fetch.count(t.op.jwksUri)).toBeGreaterThanOrEqual(fetchesUp);
      await sleep(Math.max(0, t0 + 3500 - Date.now())); // past TTL + staleIfErrorSec
      const token = await fresh();
      r.decisions.length = 0;
      const down = await t.send(r, token);
      expect({ status: down.status, reason: down.json<{ reason?: string }>().reason }).toEqual({
        status: 503,
        reason: 'jwks_unavailable',
      });
      expect(down.headers['retry-after']).toBeDefined();
      expect(Number(down.headers['retry-after'])).toBeGreaterThan(0);
      expect(r.decisions.at(-1)?.reason).toBe('jwks_unavailable');
      r.fetch.opUp = true;
      await sleep(1100); // failureBackoffSec
      await t.expectOk(r, await fresh());
    });

    it('503 Retry-After is an integer number of seconds (RFC 9110 delay-seconds), also inside the failure backoff', async () => {
      const r = await t.startGuard((f) => ({
        policies: t.policies(),
        jwt: {
          fetch: f.fetch,
          issuers: [
            {
              issuer: t.op.issuer,
              jwksUri: t.op.jwksUri,
              audiences: [AUDIENCE],
              profile: 'rfc9068',
            },
          ],
          keyStore: { failureBackoffSec: 3 },
        },
      }));
      r.fetch.opUp = false;
      const token = await t.op.getToken(SECRET_CLIENT);
      const first = await t.send(r, token);
      expect(first.status).toBe(503);
      await sleep(300);
      const second = await t.send(r, await t.op.getToken(SECRET_CLIENT));
      expect(second.status).toBe(503);
      expect([first.headers['retry-after'], second.headers['retry-after']]).toEqual([
        expect.stringMatching(/^[1-9]\d*$/),
        expect.stringMatching(/^[1-9]\d*$/),
      ]);
    });

    it('key rotation: a token signed with the new kid is accepted at once', async () => {
      const r = await t.startGuard((f) => ({
        policies: t.policies(),
        jwt: {
          fetch: f.fetch,
          issuers: [{ issuer: t.op.issuer, audiences: [AUDIENCE], profile: 'rfc9068' }],
        },
      }));
      const before = await t.op.getToken(SECRET_CLIENT);
      await t.expectOk(r, before);
      const oldKid = headerOf(before)['kid'];
      const newKid = await t.op.rotateSigningKey();
      const after = await t.op.getToken(SECRET_CLIENT);
      expect(headerOf(after)['kid']).toBe(newKid);
      expect(newKid).not.toBe(oldKid);
      await t.expectOk(r, after);
      expect(r.fetch.count(t.op.jwksUri)).toBe(2);
    });
  });
}
