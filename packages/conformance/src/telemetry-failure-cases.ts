/**
 * The telemetry suite's failure scenarios (see telemetry-suite.ts): a JWKS outage (stale keys,
 * then 503), a refused TLS handshake on an instrumented listener, and the secrets check over
 * everything exported by the whole suite.
 */
import { createGuard, instrumentTlsServer } from '@meshless/core';
import { expect, it, vi } from 'vitest';
import type { ConformanceTls } from './svid-rule-suite.js';
import {
  AUTHN,
  AUTHZ,
  CHECKOUT,
  CLAIM,
  dumpOf,
  ERROR,
  expectedMetrics,
  handshake,
  HANDSHAKES,
  JWKS,
  metricDelta,
  observe,
  PEER,
  SEV_ERROR,
  snapshot,
  SUBJECT,
  WARN,
  type TelemetryContext,
} from './telemetry-fixtures.js';
import { AUDIENCE } from './token-fixtures.js';

/** Registers the outage, handshake and secrets scenarios. */
export function failureCases(ctx: TelemetryContext): void {
  const { expectTree, guardOptions, mtlsMetric, request, startWith, tlsOptions, token } = ctx;
  const { routed } = ctx;
  it('JWKS outage: stale keys with meshless.jwks.stale, then 503 with Error on authn.jwt and jwks.fetch only', async () => {
    let clock = Date.now();
    const guard = await createGuard(
      guardOptions(ctx.f.outageIssuer, {
        jwt: {
          issuers: [
            {
              issuer: ctx.f.outageIssuer.issuer,
              jwksUri: ctx.f.outageIssuer.jwksUri,
              audiences: [AUDIENCE],
            },
          ],
          keyStore: {
            now: () => clock,
            random: () => 0,
            ttlDefaultSec: 60,
            ttlMinSec: 0,
            staleIfErrorSec: 60,
            failureBackoffSec: 0,
          },
        },
      }),
    );
    const { running, port } = await startWith(guard);
    try {
      const send = (settle?: () => Promise<void>) =>
        observe(
          ctx.otel,
          port,
          ctx.f.ca.rootPem,
          request('/items/1', 'checkout', token(ctx.f.outageIssuer)),
          ctx.dump,
          settle,
        );
      expect((await send()).status).toBe(200);
      await ctx.f.outageIssuer.close();
      clock += 50_000; // past refresh-ahead: the background refresh fails, the stale keys serve
      const stale = await send(() =>
        vi.waitFor(() =>
          expect(ctx.otel.logs().map((r) => r.eventName)).toContain('meshless.jwks.stale'),
        ),
      );
      expect(stale.status).toBe(200);
      expect(stale.events).toEqual([
        {
          eventName: 'meshless.jwks.stale',
          ...WARN,
          attributes: {
            'meshless.jwt.issuer': ctx.f.outageIssuer.issuer,
            'url.full': ctx.f.outageIssuer.jwksUri,
            'error.type': 'ERR_JWKS_NETWORK',
          },
        },
      ]);
      clock += 80_000; // past TTL + stale-if-error: no usable keys
      const o = await send();
      expect([o.status, o.reason]).toEqual([503, 'jwks_unavailable']);
      expectTree(o, ['authn.mtls', 'authn.jwt', 'jwks.fetch', 'authz.decision'], {
        'authn.jwt': ERROR,
        'jwks.fetch': ERROR,
      });
      expect(o.span['authn.jwt']?.attributes).toEqual({
        'meshless.authn.method': 'jwt',
        'meshless.authn.result': 'failure',
        'meshless.authn.failure_reason': 'jwks_unavailable',
        'error.type': 'jwks_unavailable',
        'meshless.jwt.issuer': ctx.f.outageIssuer.issuer,
        'meshless.jwt.alg': 'ES256',
        'meshless.jwt.kid': ctx.f.outageIssuer.kid,
      });
      expect(o.span['jwks.fetch']?.attributes).toEqual({
        'http.request.method': 'GET',
        'url.full': ctx.f.outageIssuer.jwksUri,
        'error.type': 'ERR_JWKS_NETWORK',
      });
      const authz = {
        'meshless.authz.decision': 'deny',
        'meshless.authz.reason': 'jwks_unavailable',
        'meshless.authz.mode': 'enforce',
      };
      expect(o.span['authz.decision']?.attributes).toEqual(
        routed({
          ...authz,
          'meshless.principal.id': CHECKOUT,
        }),
      );
      const jwtFailure = {
        'meshless.authn.method': 'jwt',
        'meshless.authn.result': 'failure',
        'meshless.authn.failure_reason': 'jwks_unavailable',
        'error.type': 'jwks_unavailable',
      };
      expect(o.metrics).toEqual(
        expectedMetrics([
          [AUTHN, mtlsMetric, 1],
          [AUTHN, jwtFailure, 1],
          [AUTHZ, authz, 1],
          [
            JWKS,
            { 'meshless.jwt.issuer': ctx.f.outageIssuer.issuer, 'error.type': 'ERR_JWKS_NETWORK' },
            1,
          ],
        ]),
      );
      expect(o.events).toEqual([
        {
          eventName: 'meshless.authn.failure',
          ...SEV_ERROR,
          attributes: {
            ...jwtFailure,
            'meshless.jwt.issuer': ctx.f.outageIssuer.issuer,
            'network.peer.address': PEER,
          },
        },
        {
          eventName: 'meshless.authz.decision',
          ...SEV_ERROR,
          attributes: {
            ...authz,
            'meshless.principal.id': CHECKOUT,
            'http.request.method': 'GET',
            'network.peer.address': PEER,
          },
        },
      ]);
    } finally {
      await running.close();
      guard.close?.();
    }
  });

  it('handshake failure (untrusted client CA, rejectUnauthorized): counter point and event, no span', async () => {
    const guard = await createGuard(guardOptions(ctx.f.local));
    // The listener refuses bad certificates itself: the one place `rejectUnauthorized` is true.
    const tls = { ...tlsOptions(), rejectUnauthorized: true } as unknown as ConformanceTls;
    const { running, port } = await startWith(guard, tls);
    const instrumentation = instrumentTlsServer(running.server, {
      meterProvider: ctx.otel.meterProvider,
      loggerProvider: ctx.otel.loggerProvider,
    });
    try {
      ctx.otel.reset();
      const before = await snapshot(ctx.otel);
      await handshake(port, ctx.f.ca.rootPem, ctx.f.peers.checkout);
      await handshake(port, ctx.f.ca.rootPem, ctx.f.peers.stranger);
      const failures = () =>
        ctx.otel.logs().filter((r) => r.eventName === 'meshless.tls.handshake.failure');
      await vi.waitFor(() => expect(failures()).toHaveLength(1));
      const after = await snapshot(ctx.otel);
      ctx.dump.push(dumpOf(ctx.otel));
      expect(metricDelta(before, after)[HANDSHAKES]).toEqual(
        expectedMetrics([
          [HANDSHAKES, { 'tls.protocol.version': '1.3', 'tls.resumed': false }, 1],
          [HANDSHAKES, { 'error.type': 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, 1],
        ])[HANDSHAKES],
      );
      expect((await ctx.otel.metrics()).get(HANDSHAKES)?.descriptor.unit).toBe('{handshake}');
      expect(
        failures().map((r) => ({
          eventName: r.eventName,
          severityNumber: r.severityNumber,
          severityText: r.severityText,
          attributes: { ...r.attributes },
        })),
      ).toEqual([
        {
          eventName: 'meshless.tls.handshake.failure',
          ...WARN,
          attributes: {
            'error.type': 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
            'network.peer.address': PEER,
          },
        },
      ]);
      // The refused handshake produced no meshless span (the accepted one did: its request).
      expect(
        ctx.otel
          .spans()
          .filter((s) => s.instrumentationScope.name === '@meshless/core')
          .map((s) => s.name)
          .sort(),
      ).toEqual(['authn.mtls', 'authz.decision']);
    } finally {
      instrumentation.close();
      await running.close();
      guard.close?.();
    }
  });

  it('no token, claim value, subject or PEM in any exported span, metric or log attribute', async () => {
    const metrics = JSON.stringify(
      [...(await ctx.otel.metrics()).values()].map((m) => m.dataPoints.map((p) => p.attributes)),
    );
    const text = `${ctx.dump.join('\n')}\n${metrics}`;
    expect(ctx.tokens.length).toBeGreaterThan(5);
    const secrets = [
      ...ctx.tokens,
      ...ctx.tokens.map((t) => t.split('.')[2] ?? ''),
      CLAIM,
      SUBJECT,
      ...[ctx.f.ca.rootPem, ctx.f.server.chainPem, ctx.f.server.keyPem]
        .concat(Object.values(ctx.f.peers).flatMap((p) => [p.chainPem, p.keyPem]))
        .map((pem) => pem.split('\n')[1] ?? ''),
    ];
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(5);
      expect(text).not.toContain(secret);
    }
    expect(text).not.toContain('BEGIN');
  });
}
