/**
 * The telemetry suite's scenarios on one STRICT server (see telemetry-suite.ts): an allow, the
 * mTLS, token, policy and pre-check denials, an AUDIT match and a dry-run would-deny.
 */
import { createGuard, type Guard } from '@meshless/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawRequest } from './authz-e2e-client.js';
import type { AdapterServer } from './svid-rule-suite.js';
import {
  AUTHN,
  AUTHZ,
  CHECKOUT,
  expectedMetrics,
  FRONTEND,
  INFO,
  JWKS,
  observe,
  PEER,
  WARN,
  type TelemetryContext,
} from './telemetry-fixtures.js';
import { NAMESPACE } from './token-fixtures.js';

/** Registers the single-server scenarios. */
export function strictServerCases(ctx: TelemetryContext): void {
  const { expectTree, guardOptions, mtlsMetric, mtlsSuccess, request, startWith } = ctx;
  const { routed, tlsAttributes, token } = ctx;
  /** `authn.jwt` of a valid token seen for the first time (a fresh `jti`: not cached). */
  const jwtSuccess = () => ({
    'meshless.authn.method': 'jwt',
    'meshless.authn.result': 'success',
    'meshless.jwt.issuer': ctx.f.local.issuer,
    'meshless.jwt.alg': 'ES256',
    'meshless.jwt.kid': ctx.f.local.kid,
    'meshless.authn.cached': false,
  });

  describe('one STRICT server', () => {
    let guard: Guard | undefined;
    let running: AdapterServer;
    let port: number;
    beforeAll(async () => {
      guard = await createGuard(guardOptions(ctx.f.local));
      ({ running, port } = await startWith(guard));
    });
    afterAll(async () => {
      await running?.close();
      guard?.close?.();
    });
    const send = (r: RawRequest) => observe(ctx.otel, port, ctx.f.ca.rootPem, r, ctx.dump);

    it('allow (peer + token): authn.mtls, authn.jwt ⊃ jwks.fetch, authz.decision; no event', async () => {
      const o = await send(request('/items/1', 'checkout', token(ctx.f.local)));
      expect([o.status, o.reason]).toEqual([200, undefined]);
      expectTree(o, ['authn.mtls', 'authn.jwt', 'jwks.fetch', 'authz.decision']);
      expect(o.span['authn.mtls']?.attributes).toEqual(mtlsSuccess(CHECKOUT, ctx.f.peers.checkout));
      expect(o.span['authn.jwt']?.attributes).toEqual(jwtSuccess());
      expect(o.span['jwks.fetch']?.attributes).toEqual({
        'http.request.method': 'GET',
        'url.full': ctx.f.local.jwksUri,
        'http.response.status_code': 200,
      });
      expect(o.span['authz.decision']?.attributes).toEqual(
        routed({
          'meshless.authz.decision': 'allow',
          'meshless.authz.reason': 'authz_allow_policy',
          'meshless.authz.mode': 'enforce',
          'meshless.authz.policy.name': `${NAMESPACE}/allow-items`,
          'meshless.authz.rule': 0,
          'meshless.authz.action': 'ALLOW',
          'meshless.principal.id': CHECKOUT,
        }),
      );
      expect(o.metrics).toEqual(
        expectedMetrics([
          [AUTHN, mtlsMetric, 1],
          [AUTHN, { 'meshless.authn.method': 'jwt', 'meshless.authn.result': 'success' }, 1],
          [
            AUTHZ,
            {
              'meshless.authz.decision': 'allow',
              'meshless.authz.reason': 'authz_allow_policy',
              'meshless.authz.mode': 'enforce',
              'meshless.authz.policy.name': `${NAMESPACE}/allow-items`,
            },
            1,
          ],
          [
            JWKS,
            { 'meshless.jwt.issuer': ctx.f.local.issuer, 'http.response.status_code': 200 },
            1,
          ],
        ]),
      );
      expect(o.events).toEqual([]);
      const units = Object.fromEntries(
        [...(await ctx.otel.metrics()).values()].map((m) => [m.descriptor.name, m.descriptor.unit]),
      );
      expect(units).toMatchObject({ [AUTHN]: 's', [AUTHZ]: 's', [JWKS]: 's' });
    });

    it('mTLS deny (no client certificate under STRICT): 403 mtls_required, no authn.jwt', async () => {
      const o = await send(request('/items/1', 'none'));
      expect([o.status, o.reason]).toEqual([403, 'mtls_required']);
      expectTree(o, ['authn.mtls', 'authz.decision']);
      expect(o.span['authn.mtls']?.attributes).toEqual({
        ...tlsAttributes(),
        'meshless.authn.method': 'mtls',
        'network.peer.address': PEER,
        'meshless.authn.result': 'failure',
        'meshless.authn.failure_reason': 'mtls_required',
      });
      const authz = {
        'meshless.authz.decision': 'deny',
        'meshless.authz.reason': 'mtls_required',
        'meshless.authz.mode': 'enforce',
      };
      expect(o.span['authz.decision']?.attributes).toEqual(routed(authz));
      expect(o.metrics).toEqual(
        expectedMetrics([
          [
            AUTHN,
            {
              'meshless.authn.method': 'mtls',
              'meshless.authn.result': 'failure',
              'meshless.authn.failure_reason': 'mtls_required',
            },
            1,
          ],
          [AUTHZ, authz, 1],
        ]),
      );
      expect(o.events).toEqual([
        {
          eventName: 'meshless.authn.failure',
          ...WARN,
          attributes: {
            'meshless.authn.method': 'mtls',
            'meshless.authn.result': 'failure',
            'meshless.authn.failure_reason': 'mtls_required',
            'network.peer.address': PEER,
          },
        },
        {
          eventName: 'meshless.authz.decision',
          ...WARN,
          attributes: { ...authz, 'http.request.method': 'GET', 'network.peer.address': PEER },
        },
      ]);
    });

    it('token deny (expired): 401 jwt_expired, authn.jwt failure left Unset', async () => {
      const o = await send(request('/items/1', 'checkout', token(ctx.f.local, -120)));
      expect([o.status, o.reason]).toEqual([401, 'jwt_expired']);
      expectTree(o, ['authn.mtls', 'authn.jwt', 'authz.decision']);
      expect(o.span['authn.mtls']?.attributes).toEqual(mtlsSuccess(CHECKOUT, ctx.f.peers.checkout));
      expect(o.span['authn.jwt']?.attributes).toEqual({
        'meshless.authn.method': 'jwt',
        'meshless.authn.result': 'failure',
        'meshless.authn.failure_reason': 'jwt_expired',
        'meshless.jwt.issuer': ctx.f.local.issuer,
        'meshless.jwt.alg': 'ES256',
        'meshless.jwt.kid': ctx.f.local.kid,
      });
      const authz = {
        'meshless.authz.decision': 'deny',
        'meshless.authz.reason': 'jwt_expired',
        'meshless.authz.mode': 'enforce',
      };
      expect(o.span['authz.decision']?.attributes).toEqual(
        routed({
          ...authz,
          'meshless.principal.id': CHECKOUT,
        }),
      );
      expect(o.metrics).toEqual(
        expectedMetrics([
          [AUTHN, mtlsMetric, 1],
          [
            AUTHN,
            {
              'meshless.authn.method': 'jwt',
              'meshless.authn.result': 'failure',
              'meshless.authn.failure_reason': 'jwt_expired',
            },
            1,
          ],
          [AUTHZ, authz, 1],
        ]),
      );
      expect(o.events).toEqual([
        {
          eventName: 'meshless.authn.failure',
          ...WARN,
          attributes: {
            'meshless.authn.method': 'jwt',
            'meshless.authn.result': 'failure',
            'meshless.authn.failure_reason': 'jwt_expired',
            'meshless.jwt.issuer': ctx.f.local.issuer,
            'network.peer.address': PEER,
          },
        },
        {
          eventName: 'meshless.authz.decision',
          ...WARN,
          attributes: {
            ...authz,
            'meshless.principal.id': CHECKOUT,
            'http.request.method': 'GET',
            'network.peer.address': PEER,
          },
        },
      ]);
    });

    it('policy deny (DENY rule 1): 403 authz_deny_policy with policy, rule, action', async () => {
      const o = await send(request('/admin/users', 'checkout', token(ctx.f.local)));
      expect([o.status, o.reason]).toEqual([403, 'authz_deny_policy']);
      expectTree(o, ['authn.mtls', 'authn.jwt', 'authz.decision']);
      const policy = {
        'meshless.authz.decision': 'deny',
        'meshless.authz.reason': 'authz_deny_policy',
        'meshless.authz.mode': 'enforce',
        'meshless.authz.policy.name': `${NAMESPACE}/deny-admin`,
      };
      expect(o.span['authz.decision']?.attributes).toEqual(
        routed({
          ...policy,
          'meshless.authz.rule': 1,
          'meshless.authz.action': 'DENY',
          'meshless.principal.id': CHECKOUT,
        }),
      );
      expect(o.span['authn.jwt']?.attributes).toEqual(jwtSuccess());
      expect(o.metrics).toEqual(
        expectedMetrics([
          [AUTHN, mtlsMetric, 1],
          [AUTHN, { 'meshless.authn.method': 'jwt', 'meshless.authn.result': 'success' }, 1],
          [AUTHZ, policy, 1],
        ]),
      );
      expect(o.events).toEqual([
        {
          eventName: 'meshless.authz.decision',
          ...WARN,
          attributes: {
            ...policy,
            'meshless.authz.rule': 1,
            'meshless.authz.action': 'DENY',
            'meshless.principal.id': CHECKOUT,
            'http.request.method': 'GET',
            'network.peer.address': PEER,
          },
        },
      ]);
    });

    it('policy deny (no ALLOW matches): 403 authz_no_allow_match without policy attributes', async () => {
      const o = await send(request('/items/1', 'frontend'));
      expect([o.status, o.reason]).toEqual([403, 'authz_no_allow_match']);
      expectTree(o, ['authn.mtls', 'authz.decision']);
      expect(o.span['authn.mtls']?.attributes).toEqual(mtlsSuccess(FRONTEND, ctx.f.peers.frontend));
      const authz = {
        'meshless.authz.decision': 'deny',
        'meshless.authz.reason': 'authz_no_allow_match',
        'meshless.authz.mode': 'enforce',
      };
      expect(o.span['authz.decision']?.attributes).toEqual(
        routed({
          ...authz,
          'meshless.principal.id': FRONTEND,
        }),
      );
      expect(o.metrics).toEqual(
        expectedMetrics([
          [AUTHN, mtlsMetric, 1],
          [AUTHZ, authz, 1],
        ]),
      );
      expect(o.events).toEqual([
        {
          eventName: 'meshless.authz.decision',
          ...WARN,
          attributes: {
            ...authz,
            'meshless.principal.id': FRONTEND,
            'http.request.method': 'GET',
            'network.peer.address': PEER,
          },
        },
      ]);
    });

    it('pre-check deny (%00 in the path): 400 request_invalid_path, only authz.decision', async () => {
      const o = await send(request('/items/%00', 'checkout', token(ctx.f.local)));
      expect([o.status, o.reason]).toEqual([400, 'request_invalid_path']);
      expectTree(o, ['authz.decision']);
      const authz = {
        'meshless.authz.decision': 'deny',
        'meshless.authz.reason': 'request_invalid_path',
        'meshless.authz.mode': 'enforce',
      };
      expect(o.span['authz.decision']?.attributes).toEqual(routed(authz));
      expect(o.metrics).toEqual(expectedMetrics([[AUTHZ, authz, 1]]));
      expect(o.events).toEqual([
        {
          eventName: 'meshless.authz.decision',
          ...WARN,
          attributes: { ...authz, 'http.request.method': 'GET', 'network.peer.address': PEER },
        },
      ]);
    });

    it('AUDIT match: allowed, meshless.authz.audit on span, metric and an INFO event', async () => {
      const o = await send(request('/audited/1', 'checkout'));
      expect([o.status, o.reason]).toEqual([200, undefined]);
      expectTree(o, ['authn.mtls', 'authz.decision']);
      const allow = {
        'meshless.authz.decision': 'allow',
        'meshless.authz.reason': 'authz_allow_policy',
        'meshless.authz.mode': 'enforce',
        'meshless.authz.policy.name': `${NAMESPACE}/allow-items`,
        'meshless.authz.audit': true,
      };
      const span = {
        ...allow,
        'meshless.authz.rule': 1,
        'meshless.authz.action': 'ALLOW',
        'meshless.principal.id': CHECKOUT,
      };
      expect(o.span['authz.decision']?.attributes).toEqual(routed(span));
      expect(o.metrics).toEqual(
        expectedMetrics([
          [AUTHN, mtlsMetric, 1],
          [AUTHZ, allow, 1],
        ]),
      );
      expect(o.events).toEqual([
        {
          eventName: 'meshless.authz.decision',
          ...INFO,
          attributes: { ...span, 'http.request.method': 'GET', 'network.peer.address': PEER },
        },
      ]);
    });

    it('dry-run DENY: allowed, would_deny on span, metric and an INFO event naming the policy', async () => {
      const o = await send(request('/shadow/1', 'checkout'));
      expect([o.status, o.reason]).toEqual([200, undefined]);
      expectTree(o, ['authn.mtls', 'authz.decision']);
      const allow = {
        'meshless.authz.decision': 'allow',
        'meshless.authz.reason': 'authz_allow_policy',
        'meshless.authz.mode': 'enforce',
        'meshless.authz.policy.name': `${NAMESPACE}/allow-items`,
        'meshless.authz.dry_run.would_deny': true,
      };
      const span = {
        ...allow,
        'meshless.authz.rule': 1,
        'meshless.authz.action': 'ALLOW',
        'meshless.principal.id': CHECKOUT,
      };
      expect(o.span['authz.decision']?.attributes).toEqual(routed(span));
      expect(o.metrics).toEqual(
        expectedMetrics([
          [AUTHN, mtlsMetric, 1],
          [AUTHZ, allow, 1],
        ]),
      );
      expect(o.events).toEqual([
        {
          eventName: 'meshless.authz.decision',
          ...INFO,
          attributes: {
            ...span,
            'meshless.authz.dry_run.policy.name': `${NAMESPACE}/shadow-deny`,
            'http.request.method': 'GET',
            'network.peer.address': PEER,
          },
        },
      ]);
    });
  });
}
