/**
 * Adapter conformance: telemetry (docs/telemetry.md) end to end. Real requests over real mTLS
 * (127.0.0.1, client X.509-SVIDs of a test CA) through the adapter under test, with the guard
 * exporting to the real OpenTelemetry SDKs (in-memory span, metric and log exporters, an
 * AsyncLocalStorage context manager). For an allow, each kind of deny, an AUDIT match, a dry-run
 * would-deny, a JWKS outage and a handshake failure it asserts the span tree (our spans are
 * siblings under the active span; `jwks.fetch` is a child of `authn.jwt`), their attributes and
 * status, the metric increments and the log events, and that no token, claim value or PEM is
 * exported. The adapter's test file passes the SDK modules (`@meshless/conformance` does not
 * depend on them) and the same factory as for the authorization suite.
 */
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type Guard, type GuardOptions } from '@meshless/core';
import { createTestCa, type Svid } from '@meshless/testing';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { RawRequest } from './authz-e2e-client.js';
import type { AdapterServerFactory, ConformanceTls } from './svid-rule-suite.js';
import { strictServerCases } from './telemetry-cases.js';
import { failureCases } from './telemetry-failure-cases.js';
import {
  CHECKOUT,
  CLAIM,
  CLIENT_KIND,
  FRONTEND,
  INTERNAL,
  PARENT,
  PEER,
  policies,
  SUBJECT,
  underParentSpan,
  UNSET,
  type Observed,
  type TelemetryContext,
  type TelemetryFixtures,
  type TelemetrySuiteOptions,
} from './telemetry-fixtures.js';
import { createOtel, type Otel, type TelemetrySdk } from './telemetry-harness.js';
import {
  AUDIENCE,
  NAMESPACE,
  nowSec,
  signEs256,
  startLocalIssuer,
  TRUST_DOMAIN,
  type LocalIssuer,
} from './token-fixtures.js';

export type { TelemetrySdk } from './telemetry-harness.js';
export type { TelemetrySuiteOptions } from './telemetry-fixtures.js';

/** Registers the telemetry suite for one adapter. */
export function describeTelemetrySuite(
  adapter: string,
  start: AdapterServerFactory,
  sdk: TelemetrySdk,
  options: TelemetrySuiteOptions = {},
): void {
  let f: TelemetryFixtures;
  let otel: Otel;
  const dump: string[] = [];
  const tokens: string[] = [];

  beforeAll(async () => {
    otel = createOtel(sdk);
    const ca = await createTestCa({ trustDomain: TRUST_DOMAIN });
    const stranger = await createTestCa({ trustDomain: TRUST_DOMAIN });
    const [server, checkout, frontend, strangerSvid] = await Promise.all([
      ca.issueSvid({
        spiffeId: `spiffe://${TRUST_DOMAIN}/ns/${NAMESPACE}/sa/payment-processor`,
        dnsNames: ['localhost'],
        ipAddresses: ['127.0.0.1'],
      }),
      ca.issueSvid({ spiffeId: CHECKOUT }),
      ca.issueSvid({ spiffeId: FRONTEND }),
      stranger.issueSvid({ spiffeId: CHECKOUT }),
    ]);
    const attacker = { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', kid: 'unused' };
    const [local, outageIssuer] = await Promise.all([
      startLocalIssuer(attacker),
      startLocalIssuer(attacker),
    ]);
    f = {
      ca,
      server,
      peers: { checkout, frontend, stranger: strangerSvid },
      local,
      outageIssuer,
    };
  });

  afterAll(async () => {
    await f?.local.close();
    await f?.outageIssuer.close().catch(() => undefined);
    await otel?.shutdown();
    otel?.uninstall();
  });

  function tlsOptions(): ConformanceTls {
    return {
      key: f.server.keyPem,
      cert: f.server.chainPem,
      ca: [f.ca.rootPem],
      requestCert: true,
      rejectUnauthorized: false,
    };
  }

  function guardOptions(issuer: LocalIssuer, extra: Partial<GuardOptions> = {}): GuardOptions {
    return {
      workload: { namespace: NAMESPACE, trustDomain: TRUST_DOMAIN },
      trustBundles: { [TRUST_DOMAIN]: f.ca.rootPem },
      mtls: { mode: 'STRICT' },
      jwt: { issuers: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: [AUDIENCE] }] },
      policies: policies(issuer.issuer),
      onPolicyLint: () => undefined, // the DENY-on-paths lints are expected here
      telemetry: {
        tracerProvider: otel.tracerProvider,
        meterProvider: otel.meterProvider,
        loggerProvider: otel.loggerProvider,
      },
      ...extra,
    };
  }

  async function startWith(guard: Guard, tls: ConformanceTls = tlsOptions()) {
    const running = await start(underParentSpan(guard, otel), tls);
    return { running, port: (running.server.address() as AddressInfo).port };
  }

  function token(issuer: LocalIssuer, expOffset = 300): string {
    const now = nowSec();
    const t = signEs256(
      { alg: 'ES256', typ: 'at+jwt', kid: issuer.kid },
      {
        iss: issuer.issuer,
        sub: SUBJECT,
        aud: AUDIENCE,
        team: CLAIM,
        iat: now - 600,
        exp: now + expOffset,
        jti: `jti-${Math.random()}`,
      },
      issuer.privateKey,
    );
    tokens.push(t);
    return t;
  }

  function request(
    path: string,
    peer: 'checkout' | 'frontend' | 'none',
    bearer?: string,
  ): RawRequest {
    const headers: [string, string][] = [['Host', 'localhost']];
    if (bearer) headers.push(['Authorization', `Bearer ${bearer}`]);
    return {
      method: 'GET',
      path,
      headers,
      ...(peer === 'none'
        ? {}
        : { client: { certPem: f.peers[peer].chainPem, keyPem: f.peers[peer].keyPem } }),
    };
  }

  /** The TLS attributes of `authn.mtls` (semconv `tls.*`; the client hash only with a certificate). */
  const tlsAttributes = (peer?: Svid) => ({
    'tls.protocol.name': 'tls',
    'tls.protocol.version': '1.3',
    'tls.resumed': false,
    'tls.cipher': expect.stringMatching(/^TLS_/) as unknown,
    ...(peer
      ? {
          'tls.client.hash.sha256': new X509Certificate(peer.certPem).fingerprint256.replaceAll(
            ':',
            '',
          ),
        }
      : {}),
  });
  const mtlsSuccess = (principal: string, peer: Svid) => ({
    ...tlsAttributes(peer),
    'meshless.authn.method': 'mtls',
    'network.peer.address': PEER,
    'meshless.authn.result': 'success',
    'meshless.principal.id': principal,
    'meshless.spiffe.trust_domain': TRUST_DOMAIN,
    'meshless.authn.cached': false,
  });
  const mtlsMetric = {
    'meshless.authn.method': 'mtls',
    'meshless.authn.result': 'success',
    'meshless.spiffe.trust_domain': TRUST_DOMAIN,
  };

  /** Every meshless span is Unset, INTERNAL (jwks.fetch CLIENT), in the parent's trace. */
  function expectTree(o: Observed, names: string[], status: Record<string, number> = {}) {
    const expected = names.map((n) =>
      n === 'jwks.fetch' ? 'jwks.fetch<authn.jwt' : `${n}<${PARENT}`,
    );
    expect(o.tree).toEqual(expected.sort());
    expect(o.oneTrace).toBe(true);
    // Each request event is correlated with the meshless span it belongs to.
    const correlated = o.events.flatMap((e) =>
      e.eventName === 'meshless.authz.decision'
        ? [`${e.eventName}@authz.decision`]
        : e.eventName === 'meshless.authn.failure'
          ? [`${e.eventName}@authn.${String(e.attributes['meshless.authn.method'])}`]
          : [],
    );
    expect(o.eventSpans.filter((x) => !x.startsWith('meshless.jwks.'))).toEqual(correlated);
    for (const [name, span] of Object.entries(o.span)) {
      expect({ name, kind: span.kind, status: span.status.code }).toEqual({
        name,
        kind: name === 'jwks.fetch' ? CLIENT_KIND : INTERNAL,
        status: status[name] ?? UNSET,
      });
    }
  }

  const ctx: TelemetryContext = {
    get f() {
      return f;
    },
    get otel() {
      return otel;
    },
    dump,
    tokens,
    expectTree,
    routed: (attributes) =>
      options.httpRoute === undefined
        ? attributes
        : { ...attributes, 'http.route': options.httpRoute },
    guardOptions,
    mtlsMetric,
    mtlsSuccess,
    request,
    startWith,
    tlsAttributes,
    tlsOptions,
    token,
  };

  describe(`${adapter}: telemetry with the real OpenTelemetry SDK (real mTLS, real tokens)`, () => {
    strictServerCases(ctx);
    failureCases(ctx);
  });
}
