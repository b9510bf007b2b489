/**
 * Token suite, part 1: tokens from a real OpenID Provider (discovery via a RequestAuthentication
 * object, RFC 9068 issuers, RFC 8705 certificate-bound tokens) and the table of malformed and
 * malicious tokens ({@link maliciousTokenCases}), each refused with its reason.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIENCE,
  BOUND_CLIENT_ID,
  headerOf,
  nowSec,
  SECRET_CLIENT,
  type Running,
} from './token-fixtures.js';
import type { TokenHarness } from './token-harness.js';
import { maliciousTokenCases } from './token-malicious-cases.js';

/** Registers the OpenID Provider token tests for one adapter. */
export function describeProviderTokens(adapter: string, t: TokenHarness): void {
  describe(`${adapter}: tokens from a real OpenID Provider`, () => {
    let main: Running;
    let viaPolicy: Running;

    beforeAll(async () => {
      main = await t.startGuard((f) => ({
        policies: t.policies(),
        jwt: {
          fetch: f.fetch,
          issuers: [
            { issuer: t.op.issuer, audiences: [AUDIENCE], profile: 'rfc9068' },
            {
              issuer: t.local.issuer,
              jwksUri: t.local.jwksUri,
              audiences: [AUDIENCE],
              profile: 'rfc9068',
            },
          ],
        },
      }));
      viaPolicy = await t.startGuard((f) => ({
        policies: [t.requestAuthentication(), ...t.policies()],
        jwt: { fetch: f.fetch },
      }));
    });

    it('RequestAuthentication (policy object): discovery, then a client_credentials token → 200', async () => {
      const token = await t.op.getToken(SECRET_CLIENT);
      await t.expectOk(viaPolicy, token);
      expect(viaPolicy.decisions.at(-1)?.requestPrincipal).toBe(
        `${t.op.issuer}/${SECRET_CLIENT.clientId}`,
      );
      expect(viaPolicy.fetch.count(`${t.op.issuer}/.well-known/openid-configuration`)).toBe(1);
      expect(viaPolicy.fetch.count(t.op.jwksUri)).toBe(1);
    });

    it('no token → 403 (requestPrincipals: [*] requires one)', async () => {
      viaPolicy.decisions.length = 0;
      const res = await t.send(viaPolicy, undefined);
      expect(res.status).toBe(403);
      expect(viaPolicy.decisions.at(-1)?.allow).toBe(false);
    });

    it('jwt.issuers profile rfc9068: resource-indicator at+jwt token → 200', async () => {
      const token = await t.op.getToken({ ...SECRET_CLIENT, resource: AUDIENCE });
      expect(headerOf(token)['typ']).toBe('at+jwt');
      await t.expectOk(main, token);
      expect(main.decisions.at(-1)?.requestPrincipal).toBe(
        `${t.op.issuer}/${SECRET_CLIENT.clientId}`,
      );
    });

    it('tls_client_auth: cert-bound token with the same client cert → 200', async () => {
      const token = await t.op.getToken({
        clientId: BOUND_CLIENT_ID,
        cert: { certPem: t.checkout.chainPem, keyPem: t.checkout.keyPem },
      });
      const payload = JSON.parse(
        Buffer.from(token.split('.')[1] ?? '', 'base64url').toString(),
      ) as { cnf?: Record<string, string> };
      expect(payload.cnf?.['x5t#S256']).toBe(
        createHash('sha256').update(t.checkout.certDer).digest('base64url'),
      );
      await t.expectOk(main, token);
      await t.expectOk(main, token); // again, from the verified-token cache
    });

    it('tls_client_auth: the token replayed with another valid client cert → 401 jwt_cnf_mismatch', async () => {
      const token = await t.op.getToken({
        clientId: BOUND_CLIENT_ID,
        cert: { certPem: t.checkout.chainPem, keyPem: t.checkout.keyPem },
      });
      await t.expectRefused(main, token, 'jwt_cnf_mismatch', { caller: t.other });
      // Also after the token is in the verified-token cache.
      await t.expectOk(main, token);
      await t.expectRefused(main, token, 'jwt_cnf_mismatch', { caller: t.other });
    });

    it('a local issuer token with valid claims → 200 (positive control of the table)', async () => {
      await t.expectOk(main, t.localToken());
    });

    describe('malformed and malicious tokens', () => {
      const cases = maliciousTokenCases(t);

      it.each(cases)('%s → 401 %s', async (_name, make, reason) => {
        await t.expectRefused(main, await make(), reason);
      });

      it('no attacker JWKS was ever fetched (jku/x5u never followed)', () => {
        expect(t.local.attackerHits()).toBe(0);
        expect(main.fetch.count(t.local.attackerJwksUri)).toBe(0);
      });

      it('time edges inside the tolerance are accepted (exp 20 s ago, nbf/iat 20 s ahead)', async () => {
        await t.expectOk(
          main,
          t.localToken(t.localClaims({ iat: nowSec() - 300, exp: nowSec() - 20 })),
        );
        await t.expectOk(main, t.localToken(t.localClaims({ nbf: nowSec() + 20 })));
        await t.expectOk(main, t.localToken(t.localClaims({ iat: nowSec() + 20 })));
      });

      it('a header token and an access_token parameter → 401 jwt_ambiguous', async () => {
        const token = t.localToken();
        await t.expectRefused(main, token, 'jwt_ambiguous', {
          path: `/?access_token=${encodeURIComponent(token)}`,
        });
      });
    });
  });
}
