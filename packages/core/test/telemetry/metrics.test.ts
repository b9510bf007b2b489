import { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { metrics, SpanKind, SpanStatusCode, type MeterProvider } from '@opentelemetry/api';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import { createTestCa, type TestCa } from '@meshless/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGuard, type Guard } from '../../src/guard/guard.js';
import type { GuardOptions } from '../../src/guard/options.js';
import { instrumentTlsServer } from '../../src/index.js';
import * as A from '../../src/telemetry/attributes.js';
import { createMetrics, meshlessMeter } from '../../src/telemetry/metrics.js';
import { mtlsServerOptions } from '../../src/tls/server-options.js';
import {
  json,
  makeKey,
  nowSec,
  signToken,
  startServer,
  type TestKey,
  type TestServer,
} from '../helpers/jwks.js';
import { memoryBundleSource, memoryX509Source } from '../helpers/memory-sources.js';
import {
  createOtel,
  events,
  installContextManager,
  sorted,
  type Otel,
  requestFacts,
  telemetryGuard,
} from './otel-harness.js';

const ISS = 'https://issuer.test';
const SUB = 'subject-5f0a2b';
const CLAIM = 'claim-value-93d1';
const DAY = 86_400;

let server: TestServer;
let key: TestKey;
let ca: TestCa;
let otel: Otel;
let uninstall: () => void;

beforeAll(async () => {
  uninstall = installContextManager();
  server = await startServer();
  key = await makeKey('k1');
  ca = await createTestCa({ trustDomain: 'example.org' });
});
afterAll(async () => {
  uninstall();
  await server.close();
});
beforeEach(() => {
  server.route('/jwks', json({ keys: [key.publicJwk] }));
  otel = createOtel();
});
afterEach(async () => {
  await otel.shutdown();
});

const POLICIES = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-reports}
spec:
  rules:
    - from: [{source: {requestPrincipals: ["${ISS}/*"]}}]
      to: [{operation: {paths: ["/reports*"]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin, namespace: istio-system}
spec:
  action: DENY
  rules:
    - to: [{operation: {paths: ["/admin*"]}}]
`;

const facts = requestFacts;
const guardWith = (extra: Partial<GuardOptions> = {}): Promise<Guard> =>
  telemetryGuard(
    {
      otel,
      rootPem: ca.rootPem,
      issuer: ISS,
      jwksUri: `${server.origin}/jwks`,
      policies: POLICIES,
    },
    extra,
  );

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const hist = (count: number) => ({ count, sum: expect.any(Number) as unknown });

describe('metrics', () => {
  it('an allow: authn (mtls none, jwt success), authz and JWKS fetch histograms in seconds', async () => {
    const guard = await guardWith();
    const token = await signToken(key, { iss: ISS, sub: SUB, team: CLAIM });
    const d = await guard.check(facts({ path: '/reports/1', headers: bearer(token) }));
    expect(d).toMatchObject({ allow: true, reason: 'authz_allow_policy' });

    const all = await otel.metrics();
    const described = [...all.values()].map((m) => ({
      name: m.descriptor.name,
      unit: m.descriptor.unit,
      type: m.dataPointType,
    }));
    expect(described.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: A.METRIC_AUTHN_DURATION, unit: 's', type: DataPointType.HISTOGRAM },
      { name: A.METRIC_AUTHZ_DURATION, unit: 's', type: DataPointType.HISTOGRAM },
      // Observed from the guard's trust bundle (role ca).
      { name: A.METRIC_CERT_TIME_REMAINING, unit: 's', type: DataPointType.GAUGE },
      { name: A.METRIC_JWKS_FETCH_DURATION, unit: 's', type: DataPointType.HISTOGRAM },
    ]);
    expect(all.get(A.METRIC_AUTHZ_DURATION)?.dataPoints[0]?.value).toMatchObject({
      buckets: {
        boundaries: [
          0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
        ],
      },
    });

    expect(sorted(await otel.points(A.METRIC_AUTHN_DURATION))).toEqual([
      {
        attributes: { [A.ATTR_AUTHN_METHOD]: 'jwt', [A.ATTR_AUTHN_RESULT]: 'success' },
        value: hist(1),
      },
      {
        attributes: { [A.ATTR_AUTHN_METHOD]: 'mtls', [A.ATTR_AUTHN_RESULT]: 'none' },
        value: hist(1),
      },
    ]);
    expect(await otel.points(A.METRIC_AUTHZ_DURATION)).toEqual([
      {
        attributes: {
          [A.ATTR_AUTHZ_DECISION]: 'allow',
          [A.ATTR_AUTHZ_REASON]: 'authz_allow_policy',
          [A.ATTR_AUTHZ_MODE]: 'enforce',
          [A.ATTR_AUTHZ_POLICY]: 'payments/allow-reports',
        },
        value: hist(1),
      },
    ]);
    expect(await otel.points(A.METRIC_JWKS_FETCH_DURATION)).toEqual([
      {
        attributes: { [A.ATTR_JWT_ISSUER]: ISS, [A.ATTR_HTTP_RESPONSE_STATUS_CODE]: 200 },
        value: hist(1),
      },
    ]);
    for (const p of await otel.points(A.METRIC_AUTHN_DURATION))
      expect((p.value as { sum: number }).sum).toBeLessThan(5); // seconds, not milliseconds
    expect(otel.logs()).toEqual([]); // allow events are off

    // The JWKS download is a CLIENT child of authn.jwt.
    const jwt = otel.spans().find((s) => s.name === A.SPAN_AUTHN_JWT)!;
    const fetch = otel.spans().find((s) => s.name === A.SPAN_JWKS_FETCH)!;
    expect(fetch.kind).toBe(SpanKind.CLIENT);
    expect(fetch.parentSpanContext?.spanId).toBe(jwt.spanContext().spanId);
    expect(fetch.attributes).toEqual({
      [A.ATTR_HTTP_REQUEST_METHOD]: 'GET',
      [A.ATTR_URL_FULL]: `${server.origin}/jwks`,
      [A.ATTR_HTTP_RESPONSE_STATUS_CODE]: 200,
    });
    await expectNoSecrets(token);
  });

  it('each kind of deny: mTLS 403, token 401, policy 403, pre-check 400', async () => {
    const strict = await guardWith({ mtls: { mode: 'STRICT' } });
    expect(await strict.check(facts())).toMatchObject({ status: 403, reason: 'mtls_required' });

    const guard = await guardWith();
    const expired = await signToken(key, { iss: ISS, sub: SUB, exp: nowSec() - 3600 });
    expect(await guard.check(facts({ headers: bearer(expired) }))).toMatchObject({
      status: 401,
      reason: 'jwt_expired',
    });
    expect(await guard.check(facts({ path: '/admin/x' }))).toMatchObject({
      status: 403,
      reason: 'authz_deny_policy',
    });
    expect(await guard.check(facts({ method: 'get' }))).toMatchObject({
      status: 400,
      reason: 'request_invalid_method',
    });

    expect(sorted(await otel.points(A.METRIC_AUTHN_DURATION))).toEqual(
      sorted([
        {
          attributes: {
            [A.ATTR_AUTHN_METHOD]: 'mtls',
            [A.ATTR_AUTHN_RESULT]: 'failure',
            [A.ATTR_AUTHN_FAILURE_REASON]: 'mtls_required',
          },
          value: hist(1),
        },
        // The token request and the policy denial; the 400 never reaches authentication.
        {
          attributes: { [A.ATTR_AUTHN_METHOD]: 'mtls', [A.ATTR_AUTHN_RESULT]: 'none' },
          value: hist(2),
        },
        {
          attributes: {
            [A.ATTR_AUTHN_METHOD]: 'jwt',
            [A.ATTR_AUTHN_RESULT]: 'failure',
            [A.ATTR_AUTHN_FAILURE_REASON]: 'jwt_expired',
          },
          value: hist(1),
        },
      ]),
    );
    const deny = (reason: string, extra: Record<string, unknown> = {}) => ({
      attributes: {
        [A.ATTR_AUTHZ_DECISION]: 'deny',
        [A.ATTR_AUTHZ_REASON]: reason,
        [A.ATTR_AUTHZ_MODE]: 'enforce',
        ...extra,
      },
      value: hist(1),
    });
    expect(sorted(await otel.points(A.METRIC_AUTHZ_DURATION))).toEqual(
      sorted([
        deny('mtls_required'),
        deny('jwt_expired'),
        deny('authz_deny_policy', { [A.ATTR_AUTHZ_POLICY]: 'istio-system/deny-admin' }),
        deny('request_invalid_method'),
      ]),
    );
    await expectNoSecrets(expired);
  });

  it('an AUDIT match and a dry-run would-deny mark the authz histogram', async () => {
    const guard = await guardWith({
      policies: [
        {
          apiVersion: 'security.istio.io/v1',
          kind: 'AuthorizationPolicy',
          metadata: { name: 'audit' },
          spec: { action: 'AUDIT', rules: [{}] },
        },
        {
          apiVersion: 'security.istio.io/v1',
          kind: 'AuthorizationPolicy',
          metadata: { name: 'shadow', annotations: { 'istio.io/dry-run': 'true' } },
          spec: { action: 'DENY', rules: [{}] },
        },
      ],
    });
    await guard.check(facts());
    expect(await otel.points(A.METRIC_AUTHZ_DURATION)).toEqual([
      {
        attributes: {
          [A.ATTR_AUTHZ_DECISION]: 'allow',
          [A.ATTR_AUTHZ_REASON]: 'authz_allow_default',
          [A.ATTR_AUTHZ_MODE]: 'enforce',
          [A.ATTR_AUTHZ_AUDIT]: true,
          [A.ATTR_AUTHZ_DRY_RUN_WOULD_DENY]: true,
        },
        value: hist(1),
      },
    ]);
  });

  it('a JWKS outage: stale keys served with a meshless.jwks.stale event, then 503 with Error status', async () => {
    let clock = Date.now();
    const guard = await guardWith({
      jwt: {
        issuers: [{ issuer: ISS, jwksUri: `${server.origin}/jwks?api_key=sekrit-q1` }],
        keyStore: {
          now: () => clock,
          random: () => 0,
          ttlDefaultSec: 60,
          ttlMinSec: 0,
          staleIfErrorSec: 60,
          failureBackoffSec: 0,
        },
      },
    });
    const check = async (n: number) =>
      guard.check(
        facts({
          path: '/reports/1',
          headers: bearer(await signToken(key, { iss: ISS, sub: SUB, n, team: CLAIM })),
        }),
      );
    expect(await check(1)).toMatchObject({ allow: true });

    server.route('/jwks', json({ error: 'down' }, 500));
    clock += 50_000; // past refresh-ahead (45 s): a background refresh fails, stale keys still serve
    expect(await check(2)).toMatchObject({ allow: true });
    await vi.waitFor(() => expect(otel.logs().length).toBe(1));
    expect(events(otel.logs())).toEqual([
      {
        eventName: A.EVENT_JWKS_STALE,
        severityNumber: 13,
        severityText: 'WARN',
        attributes: {
          [A.ATTR_JWT_ISSUER]: ISS,
          [A.ATTR_URL_FULL]: `${server.origin}/jwks`,
          [A.ATTR_ERROR_TYPE]: 'ERR_JWKS_HTTP_STATUS',
        },
      },
    ]);

    clock += 80_000; // past TTL + stale-if-error: no usable keys
    const d = await check(3);
    expect(d).toMatchObject({ allow: false, status: 503, reason: 'jwks_unavailable' });

    const jwt = otel
      .spans()
      .filter((s) => s.name === A.SPAN_AUTHN_JWT)
      .at(-1)!;
    expect(jwt.status.code).toBe(SpanStatusCode.ERROR);
    const failed = otel
      .spans()
      .filter((s) => s.name === A.SPAN_JWKS_FETCH)
      .at(-1)!;
    expect(failed.parentSpanContext?.spanId).toBe(jwt.spanContext().spanId);
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed.attributes).toEqual({
      [A.ATTR_HTTP_REQUEST_METHOD]: 'GET',
      [A.ATTR_URL_FULL]: `${server.origin}/jwks`, // without the query
      [A.ATTR_HTTP_RESPONSE_STATUS_CODE]: 500,
      [A.ATTR_ERROR_TYPE]: 'ERR_JWKS_HTTP_STATUS',
    });

    expect(sorted(await otel.points(A.METRIC_JWKS_FETCH_DURATION))).toEqual(
      sorted([
        {
          attributes: { [A.ATTR_JWT_ISSUER]: ISS, [A.ATTR_HTTP_RESPONSE_STATUS_CODE]: 200 },
          value: hist(1),
        },
        {
          attributes: {
            [A.ATTR_JWT_ISSUER]: ISS,
            [A.ATTR_HTTP_RESPONSE_STATUS_CODE]: 500,
            [A.ATTR_ERROR_TYPE]: 'ERR_JWKS_HTTP_STATUS',
          },
          value: hist(2),
        },
      ]),
    );
    expect(
      (await otel.points(A.METRIC_AUTHN_DURATION)).filter(
        (p) => p.attributes[A.ATTR_AUTHN_RESULT] === 'failure',
      ),
    ).toEqual([
      {
        attributes: {
          [A.ATTR_AUTHN_METHOD]: 'jwt',
          [A.ATTR_AUTHN_RESULT]: 'failure',
          [A.ATTR_AUTHN_FAILURE_REASON]: 'jwks_unavailable',
          [A.ATTR_ERROR_TYPE]: 'jwks_unavailable',
        },
        value: hist(1),
      },
    ]);
    expect(events(otel.logs()).map((e) => [e.eventName, e.severityText])).toEqual([
      [A.EVENT_JWKS_STALE, 'WARN'],
      [A.EVENT_AUTHN_FAILURE, 'ERROR'],
      [A.EVENT_AUTHZ_DECISION, 'ERROR'],
    ]);
    const text = await otel.everything();
    expect(text).not.toContain('sekrit-q1');
    expect(text).not.toContain(CLAIM);
    expect(text).not.toContain(SUB);
  });

  it('certificate time remaining of trust-bundle CAs, with near-expiry and expired events', async () => {
    const now = Date.now();
    const near = await createTestCa({
      trustDomain: 'example.org',
      name: 'CN=near root,O=meshless',
      notBefore: new Date(now - 365 * DAY * 1000),
      notAfter: new Date(now + 3 * DAY * 1000),
    });
    const expired = await createTestCa({
      trustDomain: 'example.org',
      name: 'CN=old root',
      notBefore: new Date(now - 365 * DAY * 1000),
      notAfter: new Date(now - 3600 * 1000),
    });
    const guard = await guardWith({
      trustBundles: { 'example.org': [near.rootPem, expired.rootPem], 'other.org': ca.rootPem },
    });
    const serial = (pem: string) => new X509Certificate(pem).serialNumber;
    const points = sorted(await otel.points(A.METRIC_CERT_TIME_REMAINING));
    expect(points.map((p) => p.attributes)).toEqual(
      sorted(
        [
          [near, 'CN=near root, O=meshless', 'example.org'],
          [expired, 'CN=old root', 'example.org'],
          [ca, 'CN=example.org root', 'other.org'],
        ].map(([c, subject, td]) => ({
          attributes: {
            [A.ATTR_CERT_ROLE]: 'ca',
            [A.ATTR_TRUST_DOMAIN]: td,
            [A.ATTR_CERT_SUBJECT]: subject,
            [A.ATTR_CERT_SERIAL]: serial((c as TestCa).rootPem),
          },
          value: 0,
        })),
      ).map((p) => p.attributes),
    );
    const value = (subject: string) =>
      points.find((p) => p.attributes[A.ATTR_CERT_SUBJECT] === subject)?.value as number;
    expect(Math.abs(value('CN=near root, O=meshless') - 3 * DAY)).toBeLessThan(10);
    expect(Math.abs(value('CN=old root') + 3600)).toBeLessThan(10);
    expect(Math.abs(value('CN=example.org root') - 47 * 3600)).toBeLessThan(3700);

    expect(
      events(otel.logs())
        .map((e) => [e.eventName, e.severityText, e.attributes[A.ATTR_CERT_SUBJECT]])
        .sort(),
    ).toEqual([
      [A.EVENT_CERT_EXPIRED, 'ERROR', 'CN=old root'],
      [A.EVENT_CERT_NEAR_EXPIRY, 'WARN', 'CN=near root, O=meshless'],
    ]);
    const nearEvent = otel.logs().find((r) => r.eventName === A.EVENT_CERT_NEAR_EXPIRY)!;
    expect(nearEvent.attributes[A.ATTR_CERT_NOT_AFTER]).toBe(
      new Date(Date.parse(new X509Certificate(near.rootPem).validTo)).toISOString(),
    );
    guard.close?.();
    const text = await otel.everything();
    for (const c of [near, expired, ca]) expect(text).not.toContain(c.rootPem.split('\n')[1]);
  });

  it('TLS handshakes on a STRICT listener: successes, and failures from tlsClientError (no cert, untrusted cert)', async () => {
    const serverSvid = await ca.issueSvid({
      spiffeId: 'spiffe://example.org/server',
      dnsNames: ['localhost'],
      notAfter: new Date(Date.now() + 2 * 3600 * 1000),
    });
    const svid = memoryX509Source({ chainPem: serverSvid.chainPem, keyPem: serverSvid.keyPem });
    const bundles = memoryBundleSource({ 'example.org': [ca.rootPem] });
    const https: Server = createServer(mtlsServerOptions({ svid, bundles }, 'STRICT'), (_q, r) =>
      r.end('ok'),
    );
    const instrumentation = instrumentTlsServer(https, {
      svid,
      meterProvider: otel.meterProvider,
      loggerProvider: otel.loggerProvider,
    });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    const port = (https.address() as AddressInfo).port;
    const failures: unknown[] = [];
    https.on('tlsClientError', (e) => failures.push(e));

    const good = await ca.issueSvid({ spiffeId: 'spiffe://example.org/client' });
    const stranger = await (await createTestCa({ trustDomain: 'example.org' })).issueSvid();
    const handshake = (client?: { chainPem: string; keyPem: string }) =>
      new Promise<void>((resolve) => {
        const socket = connect({
          host: '127.0.0.1',
          port,
          servername: 'localhost',
          ca: ca.rootPem,
          ...(client ? { cert: client.chainPem, key: client.keyPem } : {}),
        });
        socket.on('secureConnect', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
        socket.on('data', () => socket.end());
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
      });
    await handshake(good);
    await handshake();
    await handshake(stranger);
    await vi.waitFor(() => expect(failures).toHaveLength(2));

    expect(sorted(await otel.points(A.METRIC_TLS_HANDSHAKES))).toEqual(
      sorted([
        {
          attributes: { [A.ATTR_TLS_PROTOCOL_VERSION]: '1.3', [A.ATTR_TLS_RESUMED]: false },
          value: 1,
        },
        {
          attributes: { [A.ATTR_ERROR_TYPE]: 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE' },
          value: 1,
        },
        { attributes: { [A.ATTR_ERROR_TYPE]: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, value: 1 },
      ]),
    );
    expect((await otel.metrics()).get(A.METRIC_TLS_HANDSHAKES)?.descriptor.unit).toBe(
      '{handshake}',
    );
    expect(
      events(otel.logs())
        .filter((e) => e.eventName === A.EVENT_TLS_HANDSHAKE_FAILURE)
        .map((e) => e.attributes)
        .sort((a, b) => String(a[A.ATTR_ERROR_TYPE]).localeCompare(String(b[A.ATTR_ERROR_TYPE]))),
    ).toEqual([
      {
        [A.ATTR_ERROR_TYPE]: 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE',
        [A.ATTR_NETWORK_PEER_ADDRESS]: '127.0.0.1',
      },
      {
        [A.ATTR_ERROR_TYPE]: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
        [A.ATTR_NETWORK_PEER_ADDRESS]: '127.0.0.1',
      },
    ]);

    // The listener's own SVID: 2 h left, role server.
    const own = await otel.points(A.METRIC_CERT_TIME_REMAINING);
    expect(own.map((p) => p.attributes)).toEqual([
      {
        [A.ATTR_CERT_ROLE]: 'server',
        [A.ATTR_TRUST_DOMAIN]: 'example.org',
        [A.ATTR_CERT_SUBJECT]: 'CN=server',
        [A.ATTR_CERT_SERIAL]: new X509Certificate(serverSvid.certPem).serialNumber,
      },
    ]);
    expect(Math.abs((own[0]?.value as number) - 7200)).toBeLessThan(10);
    const text = await otel.everything();
    for (const pem of [serverSvid.certPem, serverSvid.keyPem, good.keyPem, stranger.certPem])
      expect(text).not.toContain(pem.split('\n')[1]);

    instrumentation.close();
    https.closeAllConnections();
    await new Promise((resolve) => https.close(resolve));
  });
});

describe('providers', () => {
  it('no SDK registered: no meter at all (nothing measured), and the guard still decides', async () => {
    expect(meshlessMeter()).toBeUndefined(); // the global no-op meter
    const guard = await createGuard({
      workload: { namespace: 'payments', trustDomain: 'example.org' },
      policies: POLICIES,
      mtls: { mode: 'PERMISSIVE' },
    });
    expect(await guard.check(facts({ path: '/admin' }))).toMatchObject({ status: 403 });
  });

  it('instruments are created once per meter, not per request; the global provider is the default', async () => {
    const created: string[] = [];
    const real = otel.meterProvider.getMeter('spy');
    const spy: MeterProvider = {
      getMeter: () =>
        new Proxy(real, {
          get(target, prop, receiver) {
            const v = Reflect.get(target, prop, receiver) as unknown;
            return typeof v === 'function' && String(prop).startsWith('create')
              ? (name: string, o: unknown) => {
                  created.push(name);
                  return (v as (n: string, o: unknown) => unknown).call(target, name, o);
                }
              : v;
          },
        }),
    };
    metrics.setGlobalMeterProvider(spy);
    try {
      const guard = await guardWith({ telemetry: {} });
      for (let i = 0; i < 3; i++) await guard.check(facts({ path: '/admin' }));
      expect(created.sort()).toEqual([
        A.METRIC_AUTHN_DURATION,
        A.METRIC_AUTHZ_DURATION,
        A.METRIC_CERT_TIME_REMAINING,
        A.METRIC_JWKS_FETCH_DURATION,
        A.METRIC_TLS_HANDSHAKES,
      ]);
      expect(createMetrics(real)).toBe(createMetrics(real));
      const authz = await otel.points(A.METRIC_AUTHZ_DURATION);
      expect(authz.map((p) => p.value)).toEqual([hist(3)]);
    } finally {
      metrics.disable();
    }
  });
});

/** No token, token segment, subject or claim value in any span, metric attribute or log record. */
async function expectNoSecrets(token: string): Promise<void> {
  const text = await otel.everything();
  expect(text).not.toContain(token);
  for (const segment of token.split('.')) expect(text).not.toContain(segment);
  expect(text).not.toContain(SUB);
  expect(text).not.toContain(CLAIM);
}
