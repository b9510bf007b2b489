/**
 * The Istio fields added to the guard (`serviceAccounts`, `ipBlocks`, `remoteIpBlocks` with
 * `numTrustedProxies`, path templates, `when`), end to end through `createGuard(...).check(facts)`.
 * Sources: istio.io authorization-policy reference [REF], conditions page [COND], istio/api
 * authorization_policy.proto [PROTO], security bulletins (CVE ids).
 */
import { createTestCa, type Svid, type TestCa } from '@meshless/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { createGuard } from '../../src/guard/guard.js';
import type { GuardOptions } from '../../src/guard/options.js';
import type { RequestFacts } from '../../src/guard/request-facts.js';
import {
  json,
  makeKey,
  signToken,
  startServer,
  type TestKey,
  type TestServer,
} from '../helpers/jwks.js';

const ISS = 'https://issuer.test';
const WORKLOAD = { namespace: 'payments', trustDomain: 'example.org' };

let ca: TestCa;
let checkout: Svid;
let dotted: Svid;
let server: TestServer;
let key: TestKey;

beforeAll(async () => {
  ca = await createTestCa({ trustDomain: 'example.org' });
  checkout = await ca.issueSvid({ spiffeId: 'spiffe://example.org/ns/payments/sa/checkout' });
  dotted = await ca.issueSvid({ spiffeId: 'spiffe://example.org/ns/payments/sa/checkXout' });
  server = await startServer();
  key = await makeKey('k1');
  server.route('/jwks', json({ keys: [key.publicJwk] }));
});
afterAll(async () => {
  await server.close();
});

function facts(overrides: Partial<RequestFacts> = {}): RequestFacts {
  return {
    method: 'GET',
    path: '/',
    host: 'payments.example',
    headers: {},
    sourceIp: '10.0.0.7',
    destinationPort: 8080,
    ...overrides,
  };
}

const ap = (rule: unknown, action = 'ALLOW') => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'p', namespace: 'payments' },
  spec: { action, rules: [rule] },
});

const guardWith = (policies: object[], extra: Partial<GuardOptions> = {}) =>
  createGuard({
    workload: WORKLOAD,
    mtls: { mode: 'PERMISSIVE' },
    trustBundles: { 'example.org': ca.rootPem },
    policies,
    ...extra,
  });

describe('guard: source IPs', () => {
  it('ipBlocks match the socket peer, ::ffff:-mapped IPv4 unwrapped [REF ipBlocks]', async () => {
    const guard = await guardWith([ap({ from: [{ source: { ipBlocks: ['10.0.0.0/24'] } }] })]);
    expect(await guard.check(facts({ sourceIp: '::ffff:10.0.0.7' }))).toMatchObject({
      allow: true,
      policy: 'payments/p',
    });
    expect(await guard.check(facts({ sourceIp: '10.0.1.7' }))).toMatchObject({
      allow: false,
      status: 403,
    });
  });

  it('remoteIpBlocks use the peer by default and ignore X-Forwarded-For (meshless §11.3)', async () => {
    const guard = await guardWith([
      ap({ from: [{ source: { remoteIpBlocks: ['203.0.113.9'] } }] }),
    ]);
    const spoofed = facts({ headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(await guard.check(spoofed)).toMatchObject({ allow: false });
  });

  it('numTrustedProxies N reads the N-th X-Forwarded-For entry from the right [REF remoteIpBlocks]', async () => {
    const policies = [ap({ from: [{ source: { remoteIpBlocks: ['203.0.113.9'] } }] })];
    const one = await guardWith(policies, { numTrustedProxies: 1 });
    const two = await guardWith(policies, { numTrustedProxies: 2 });
    const xff = { 'x-forwarded-for': '198.51.100.1, 203.0.113.9' };
    expect(await one.check(facts({ headers: xff }))).toMatchObject({ allow: true });
    expect(await two.check(facts({ headers: xff }))).toMatchObject({ allow: false });
    const xff2 = { 'x-forwarded-for': ['203.0.113.9', '10.0.0.1'] };
    expect(await two.check(facts({ headers: xff2 }))).toMatchObject({ allow: true });
    // Fewer entries than trusted proxies: the peer address (Envoy's fallback).
    expect(
      await two.check(
        facts({ sourceIp: '203.0.113.9', headers: { 'x-forwarded-for': '1.1.1.1' } }),
      ),
    ).toMatchObject({ allow: true });
  });

  it('when remote.ip / source.ip conditions [COND]', async () => {
    const guard = await guardWith(
      [
        ap({
          when: [
            { key: 'remote.ip', values: ['203.0.113.0/24'] },
            { key: 'source.ip', values: ['10.0.0.7'] },
          ],
        }),
      ],
      { numTrustedProxies: 1 },
    );
    expect(
      await guard.check(facts({ headers: { 'x-forwarded-for': '203.0.113.4' } })),
    ).toMatchObject({ allow: true });
    expect(await guard.check(facts())).toMatchObject({ allow: false });
  });

  it('refuses a negative or fractional numTrustedProxies', async () => {
    for (const n of [-1, 1.5]) {
      await expect(guardWith([], { numTrustedProxies: n })).rejects.toBeInstanceOf(ConfigError);
    }
  });
});

describe('guard: service accounts from a peer certificate', () => {
  it('serviceAccounts match the verified SPIFFE ID [PROTO serviceAccounts]', async () => {
    const guard = await guardWith([ap({ from: [{ source: { serviceAccounts: ['checkout'] } }] })]);
    expect(await guard.check(facts({ peerCertificate: checkout.certDer }))).toMatchObject({
      allow: true,
      principal: 'spiffe://example.org/ns/payments/sa/checkout',
    });
    // Plaintext: no identity, no match.
    expect(await guard.check(facts())).toMatchObject({ allow: false });
  });

  it('a dot in a service account is a literal (CVE-2026-39350)', async () => {
    const guard = await guardWith([
      ap({ from: [{ source: { serviceAccounts: ['payments/check.out'] } }] }),
    ]);
    expect(await guard.check(facts({ peerCertificate: dotted.certDer }))).toMatchObject({
      allow: false,
    });
  });

  it('DENY notServiceAccounts also denies plaintext: notX is true without an identity (ISTIO-SECURITY-2021-004)', async () => {
    const guard = await guardWith([
      ap({ from: [{ source: { notServiceAccounts: ['checkout'] } }] }, 'DENY'),
    ]);
    expect(await guard.check(facts({ peerCertificate: dotted.certDer }))).toMatchObject({
      allow: false,
      reason: 'authz_deny_policy',
    });
    expect(await guard.check(facts({ peerCertificate: checkout.certDer }))).toMatchObject({
      allow: true,
    });
    expect(await guard.check(facts())).toMatchObject({ allow: false, reason: 'authz_deny_policy' });
  });
});

describe('guard: headers, paths and token claims', () => {
  it('DENY on a repeated header matches any value (CVE-2026-26308)', async () => {
    const guard = await guardWith([
      ap({ when: [{ key: 'request.headers[x-role]', values: ['admin'] }] }, 'DENY'),
    ]);
    expect(await guard.check(facts({ headers: { 'x-role': ['user', 'admin'] } }))).toMatchObject({
      allow: false,
      reason: 'authz_deny_policy',
    });
    expect(await guard.check(facts({ headers: { 'x-role': 'user' } }))).toMatchObject({
      allow: true,
    });
  });

  it('path templates match the normalized path [PROTO paths]', async () => {
    const guard = await guardWith([
      ap({ to: [{ operation: { paths: ['/api/{*}/items/{**}'] } }] }),
    ]);
    expect(await guard.check(facts({ path: '/api/v1/items/a/b?x=1' }))).toMatchObject({
      allow: true,
    });
    // `//` merged and `..` removed before matching.
    expect(await guard.check(facts({ path: '/api//v1/x/../items/a' }))).toMatchObject({
      allow: true,
    });
    expect(await guard.check(facts({ path: '/api/v1/v2/items/a' }))).toMatchObject({
      allow: false,
    });
  });

  it('request.auth.claims, audiences and presenter from a verified token [COND]', async () => {
    const guard = await guardWith(
      [
        ap({
          when: [
            { key: 'request.auth.claims[groups]', values: ['ops'] },
            { key: 'request.auth.claims[scope]', values: ['write'] },
            { key: 'request.auth.audiences', values: ['orders'] },
            { key: 'request.auth.presenter', values: ['web-*'] },
          ],
        }),
      ],
      { jwt: { issuers: [{ issuer: ISS, jwksUri: `${server.origin}/jwks` }] } },
    );
    const claims = {
      iss: ISS,
      sub: 'alice',
      aud: ['payments', 'orders'],
      azp: 'web-app',
      groups: ['dev', 'ops'],
      scope: 'read write',
    };
    const good = await signToken(key, claims);
    expect(
      await guard.check(facts({ headers: { authorization: `Bearer ${good}` } })),
    ).toMatchObject({ allow: true, requestPrincipal: `${ISS}/alice` });
    const bad = await signToken(key, { ...claims, scope: 'read' });
    expect(await guard.check(facts({ headers: { authorization: `Bearer ${bad}` } }))).toMatchObject(
      { allow: false, status: 403 },
    );
    // No token: the claims are missing and the positive conditions fail.
    expect(await guard.check(facts())).toMatchObject({ allow: false });
  });

  it('a DENY on notValues of a claim also denies anonymous requests (missing → notValues true) [COND, model.go]', async () => {
    const guard = await guardWith(
      [ap({ when: [{ key: 'request.auth.claims[role]', notValues: ['admin'] }] }, 'DENY')],
      { jwt: { issuers: [{ issuer: ISS, jwksUri: `${server.origin}/jwks` }] } },
    );
    expect(await guard.check(facts())).toMatchObject({ allow: false, reason: 'authz_deny_policy' });
    const admin = await signToken(key, { iss: ISS, sub: 'carol', role: 'admin' });
    expect(
      await guard.check(facts({ headers: { authorization: `Bearer ${admin}` } })),
    ).toMatchObject({ allow: true });
    const user = await signToken(key, { iss: ISS, sub: 'bob', role: 'user' });
    expect(
      await guard.check(facts({ headers: { authorization: `Bearer ${user}` } })),
    ).toMatchObject({ allow: false, reason: 'authz_deny_policy' });
  });

  it('destination.port, destination.ip and connection.sni [COND]', async () => {
    const guard = await guardWith([
      ap({
        when: [
          { key: 'destination.port', values: ['8443'] },
          { key: 'destination.ip', values: ['10.1.0.0/16'] },
          { key: 'connection.sni', values: ['*.example.org'] },
        ],
      }),
    ]);
    const ok = facts({
      destinationPort: 8443,
      destinationIp: '::ffff:10.1.2.3',
      sni: 'api.example.org',
    });
    expect(await guard.check(ok)).toMatchObject({ allow: true });
    expect(
      await guard.check(facts({ destinationPort: 8443, destinationIp: '10.1.2.3' })),
    ).toMatchObject({ allow: false });
    expect(await guard.check({ ...ok, destinationPort: 8080 })).toMatchObject({ allow: false });
  });
});
