import { X509Certificate } from 'node:crypto';
import { createTestCa, type Svid, type TestCa } from '@meshless/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Guard } from '../../src/guard/guard.js';
import type { RequestFacts } from '../../src/guard/request-facts.js';
import type { GuardOptions } from '../../src/guard/options.js';
import * as A from '../../src/telemetry/attributes.js';
import type { LoggerProviderLike } from '../../src/telemetry/events.js';
import {
  json,
  makeKey,
  nowSec,
  signToken,
  startServer,
  type TestKey,
  type TestServer,
} from '../helpers/jwks.js';
import {
  createOtel,
  events,
  installContextManager,
  type Otel,
  requestFacts,
  telemetryGuard,
} from './otel-harness.js';

const ISS = 'https://issuer.test';
const SUB = 'subject-e41c07';
const CLAIM = 'claim-value-2b9f';
const PEER = 'spiffe://example.org/ns/web/sa/frontend';

let server: TestServer;
let key: TestKey;
let ca: TestCa;
let peerSvid: Svid;
let otel: Otel;
let uninstall: () => void;

beforeAll(async () => {
  uninstall = installContextManager();
  server = await startServer();
  key = await makeKey('k1');
  server.route('/jwks', json({ keys: [key.publicJwk] }));
  ca = await createTestCa({ trustDomain: 'example.org' });
  peerSvid = await ca.issueSvid({ spiffeId: PEER });
});
afterAll(async () => {
  uninstall();
  await server.close();
});
beforeEach(() => {
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
    - to: [{operation: {paths: ["/nope"]}}]
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

/** The span a log record is correlated with. */
function spanOf(eventName: string): string | undefined {
  const record = otel.logs().find((r) => r.eventName === eventName);
  const span = otel.spans().find((s) => s.spanContext().spanId === record?.spanContext?.spanId);
  return span?.name;
}

async function expectNoSecrets(...secrets: string[]): Promise<void> {
  const text = await otel.everything();
  for (const secret of [...secrets, SUB, CLAIM]) {
    expect(text).not.toContain(secret);
    for (const segment of secret.split('.')) expect(text).not.toContain(segment);
  }
}

describe('log events', () => {
  it('an allow emits nothing (allow events are off)', async () => {
    const guard = await guardWith();
    const token = await signToken(key, { iss: ISS, sub: SUB });
    expect(await guard.check(facts({ path: '/reports', headers: bearer(token) }))).toMatchObject({
      allow: true,
    });
    expect(otel.logs()).toEqual([]);
  });

  it('mTLS 403: meshless.authn.failure and meshless.authz.decision, each on its span', async () => {
    const guard = await guardWith({ mtls: { mode: 'STRICT' } });
    expect(await guard.check(facts())).toMatchObject({ status: 403, reason: 'mtls_required' });
    expect(events(otel.logs())).toEqual([
      {
        eventName: A.EVENT_AUTHN_FAILURE,
        severityNumber: 13,
        severityText: 'WARN',
        attributes: {
          [A.ATTR_AUTHN_METHOD]: 'mtls',
          [A.ATTR_AUTHN_RESULT]: 'failure',
          [A.ATTR_AUTHN_FAILURE_REASON]: 'mtls_required',
          [A.ATTR_NETWORK_PEER_ADDRESS]: '10.1.2.3',
        },
      },
      {
        eventName: A.EVENT_AUTHZ_DECISION,
        severityNumber: 13,
        severityText: 'WARN',
        attributes: {
          [A.ATTR_AUTHZ_DECISION]: 'deny',
          [A.ATTR_AUTHZ_REASON]: 'mtls_required',
          [A.ATTR_AUTHZ_MODE]: 'enforce',
          [A.ATTR_HTTP_REQUEST_METHOD]: 'GET',
          [A.ATTR_NETWORK_PEER_ADDRESS]: '10.1.2.3',
        },
      },
    ]);
    expect(spanOf(A.EVENT_AUTHN_FAILURE)).toBe(A.SPAN_AUTHN_MTLS);
    expect(spanOf(A.EVENT_AUTHZ_DECISION)).toBe(A.SPAN_AUTHZ_DECISION);
  });

  it('an untrusted peer certificate: authn failure with the peer reason, never the PEM', async () => {
    const other = await (await createTestCa({ trustDomain: 'example.org' })).issueSvid();
    const guard = await guardWith();
    const d = await guard.check(facts({ peerCertificate: new X509Certificate(other.certPem) }));
    expect(d).toMatchObject({ allow: false, status: 403 });
    const failure = events(otel.logs()).find((e) => e.eventName === A.EVENT_AUTHN_FAILURE);
    expect(failure?.attributes).toEqual({
      [A.ATTR_AUTHN_METHOD]: 'mtls',
      [A.ATTR_AUTHN_RESULT]: 'failure',
      [A.ATTR_AUTHN_FAILURE_REASON]: d.reason,
      [A.ATTR_AUTHN_CACHED]: false,
      [A.ATTR_NETWORK_PEER_ADDRESS]: '10.1.2.3',
    });
    await expectNoSecrets(other.certPem.split('\n')[1] as string, other.fingerprint256);
  });

  it('token 401: the failure names the configured issuer and the reason, not the token', async () => {
    const guard = await guardWith();
    const token = await signToken(key, { iss: ISS, sub: SUB, team: CLAIM, exp: nowSec() - 600 });
    expect(await guard.check(facts({ headers: bearer(token) }))).toMatchObject({
      status: 401,
      reason: 'jwt_expired',
    });
    expect(events(otel.logs())).toEqual([
      {
        eventName: A.EVENT_AUTHN_FAILURE,
        severityNumber: 13,
        severityText: 'WARN',
        attributes: {
          [A.ATTR_AUTHN_METHOD]: 'jwt',
          [A.ATTR_AUTHN_RESULT]: 'failure',
          [A.ATTR_AUTHN_FAILURE_REASON]: 'jwt_expired',
          [A.ATTR_JWT_ISSUER]: ISS,
          [A.ATTR_NETWORK_PEER_ADDRESS]: '10.1.2.3',
        },
      },
      {
        eventName: A.EVENT_AUTHZ_DECISION,
        severityNumber: 13,
        severityText: 'WARN',
        attributes: {
          [A.ATTR_AUTHZ_DECISION]: 'deny',
          [A.ATTR_AUTHZ_REASON]: 'jwt_expired',
          [A.ATTR_AUTHZ_MODE]: 'enforce',
          [A.ATTR_HTTP_REQUEST_METHOD]: 'GET',
          [A.ATTR_NETWORK_PEER_ADDRESS]: '10.1.2.3',
        },
      },
    ]);
    expect(spanOf(A.EVENT_AUTHN_FAILURE)).toBe(A.SPAN_AUTHN_JWT);
    await expectNoSecrets(token);
  });

  it('policy 403 of a verified peer: the deny event carries its principal, policy, rule and action', async () => {
    const guard = await guardWith();
    const token = await signToken(key, { iss: ISS, sub: SUB, team: CLAIM });
    const d = await guard.check(
      facts({
        method: 'DELETE',
        path: '/admin/users',
        headers: bearer(token),
        peerCertificate: new X509Certificate(peerSvid.certPem),
      }),
    );
    expect(d).toMatchObject({ status: 403, reason: 'authz_deny_policy', principal: PEER });
    expect(events(otel.logs())).toEqual([
      {
        eventName: A.EVENT_AUTHZ_DECISION,
        severityNumber: 13,
        severityText: 'WARN',
        attributes: {
          [A.ATTR_AUTHZ_DECISION]: 'deny',
          [A.ATTR_AUTHZ_REASON]: 'authz_deny_policy',
          [A.ATTR_AUTHZ_MODE]: 'enforce',
          [A.ATTR_AUTHZ_POLICY]: 'istio-system/deny-admin',
          [A.ATTR_AUTHZ_RULE]: 1,
          [A.ATTR_AUTHZ_ACTION]: 'DENY',
          [A.ATTR_PRINCIPAL_ID]: PEER,
          [A.ATTR_HTTP_REQUEST_METHOD]: 'DELETE',
          [A.ATTR_NETWORK_PEER_ADDRESS]: '10.1.2.3',
        },
      },
    ]);
    // The principal is in the event, never in a metric.
    const metricText = JSON.stringify(
      [...(await otel.metrics()).values()].map((m) => m.dataPoints),
    );
    expect(metricText).not.toContain(PEER);
    await expectNoSecrets(token, peerSvid.certPem.split('\n')[1] as string);
  });

  it('pre-check 400: only meshless.authz.decision', async () => {
    const guard = await guardWith();
    expect(await guard.check(facts({ method: 'get' }))).toMatchObject({ status: 400 });
    expect(
      events(otel.logs()).map((e) => [e.eventName, e.attributes[A.ATTR_AUTHZ_REASON]]),
    ).toEqual([[A.EVENT_AUTHZ_DECISION, 'request_invalid_method']]);
  });

  it('an AUDIT match and a dry-run would-deny on an allowed request: one INFO decision event', async () => {
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
    expect(await guard.check(facts())).toMatchObject({ allow: true });
    expect(events(otel.logs())).toEqual([
      {
        eventName: A.EVENT_AUTHZ_DECISION,
        severityNumber: 9,
        severityText: 'INFO',
        attributes: {
          [A.ATTR_AUTHZ_DECISION]: 'allow',
          [A.ATTR_AUTHZ_REASON]: 'authz_allow_default',
          [A.ATTR_AUTHZ_MODE]: 'enforce',
          [A.ATTR_AUTHZ_AUDIT]: true,
          [A.ATTR_AUTHZ_DRY_RUN_WOULD_DENY]: true,
          [A.ATTR_AUTHZ_DRY_RUN_POLICY]: 'payments/shadow',
          [A.ATTR_HTTP_REQUEST_METHOD]: 'GET',
          [A.ATTR_NETWORK_PEER_ADDRESS]: '10.1.2.3',
        },
      },
    ]);
  });

  it('an internal error: an ERROR decision event with error.type', async () => {
    const guard = await guardWith();
    await guard.check(null as unknown as RequestFacts);
    expect(events(otel.logs())).toEqual([
      {
        eventName: A.EVENT_AUTHZ_DECISION,
        severityNumber: 17,
        severityText: 'ERROR',
        attributes: {
          [A.ATTR_AUTHZ_DECISION]: 'deny',
          [A.ATTR_AUTHZ_REASON]: 'internal_error',
          [A.ATTR_ERROR_TYPE]: 'internal_error',
        },
      },
    ]);
  });

  it('a disabled logger: no attributes are built and nothing is emitted', async () => {
    let emitted = 0;
    let asked = 0;
    const provider: LoggerProviderLike = {
      getLogger: () => ({
        emit: () => void emitted++,
        enabled: () => {
          asked++;
          return false;
        },
      }),
    };
    const guard = await guardWith({ telemetry: { loggerProvider: provider } });
    await guard.check(facts({ path: '/admin' }));
    expect(asked).toBe(1);
    expect(emitted).toBe(0);
  });
});
