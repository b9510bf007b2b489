/**
 * Adapter conformance: Istio AuthorizationPolicy semantics end to end. Each group of the case
 * table (authz-e2e-cases*.ts) gets one server running meshless through the adapter under test;
 * every case is one raw request over real mTLS (client X.509-SVIDs of a test CA, or none) with a
 * real token (from an in-process OpenID Provider, or from a local issuer whose JWKS the guard
 * fetches), checked against the status, the reason and, when allowed, the request-target and the
 * identities the handler saw. Each adapter's test file calls {@link describeAuthorizationE2eSuite}
 * with a factory whose server answers every method and path with
 * `{ url: req.url, principal, requestPrincipal }` (from the meshless auth context, or `null`).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createGuard, type Guard, type GuardOptions } from '@meshless/core';
import {
  createTestCa,
  startOidcProvider,
  type OidcProviderHarness,
  type Svid,
  type TestCa,
} from '@meshless/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTHZ_E2E_GROUPS } from './authz-e2e-cases.js';
import { sendRaw } from './authz-e2e-client.js';
import type { E2eCase, E2eContext, E2eGroup, E2eToken } from './authz-e2e-types.js';
import type { AdapterServer, AdapterServerFactory } from './svid-rule-suite.js';
import {
  AUDIENCE,
  NAMESPACE,
  nowSec,
  signEs256,
  startLocalIssuer,
  switchFetch,
  TRUST_DOMAIN,
  type LocalIssuer,
} from './token-fixtures.js';

const CLIENT = { clientId: 'checkout', clientSecret: 'checkout-secret-0123456789abcdef0123456789' };
const LOCAL_SUBJECT = 'local-client';

interface Fixtures {
  ca: TestCa;
  server: Svid;
  peers: Record<'checkout' | 'frontend', Svid>;
  op: OidcProviderHarness;
  local: LocalIssuer;
  unknownKey: KeyObject;
}

interface Body {
  url?: string;
  principal?: string | null;
  requestPrincipal?: string | null;
  reason?: string;
}

/** Registers the authorization end-to-end suite for one adapter. */
export function describeAuthorizationE2eSuite(adapter: string, start: AdapterServerFactory): void {
  let f: Fixtures;

  beforeAll(async () => {
    const ca = await createTestCa({ trustDomain: TRUST_DOMAIN });
    const [server, checkout, frontend] = await Promise.all([
      ca.issueSvid({
        spiffeId: `spiffe://${TRUST_DOMAIN}/ns/${NAMESPACE}/sa/payment-processor`,
        dnsNames: ['localhost'],
        ipAddresses: ['127.0.0.1'],
      }),
      ca.issueSvid({ spiffeId: `spiffe://${TRUST_DOMAIN}/ns/${NAMESPACE}/sa/checkout` }),
      ca.issueSvid({ spiffeId: `spiffe://${TRUST_DOMAIN}/ns/web/sa/frontend` }),
    ]);
    const op = await startOidcProvider({
      ca,
      audience: AUDIENCE,
      scope: 'payments:read payments:write',
      clients: [CLIENT],
    });
    const unknown = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const local = await startLocalIssuer({
      ...unknown.publicKey.export({ format: 'jwk' }),
      kid: 'unused',
    });
    f = { ca, server, peers: { checkout, frontend }, op, local, unknownKey: unknown.privateKey };
  });

  afterAll(async () => {
    await f?.local.close();
    await f?.op.close();
  });

  /** Starts the group's server; the guard is built once the port (`destination.port`) is known. */
  async function startGroup(group: E2eGroup, lints: string[]): Promise<AdapterServer> {
    // The adapters accept a built Guard and only call `check` on it.
    const box: { built?: Promise<Guard> } = {};
    const late: Pick<Guard, 'check'> = {
      check: async (facts) => {
        if (box.built === undefined) throw new Error('guard not built yet');
        return (await box.built).check(facts);
      },
    };
    const running = await start(late as Guard, {
      key: f.server.keyPem,
      cert: f.server.chainPem,
      ca: [f.ca.rootPem],
      requestCert: true,
      rejectUnauthorized: false,
    });
    const local = new URL(f.local.issuer);
    const ctx: E2eContext = {
      port: (running.server.address() as AddressInfo).port,
      opIssuer: f.op.issuer,
      localIssuer: f.local.issuer,
      localJwksUri: f.local.jwksUri,
      localOrigin: local.origin,
      audience: AUDIENCE,
    };
    const options: GuardOptions = {
      workload: { namespace: NAMESPACE, trustDomain: TRUST_DOMAIN },
      trustBundles: { [TRUST_DOMAIN]: f.ca.rootPem },
      mtls: { mode: group.mtls },
      jwt: { fetch: switchFetch(f.op).fetch },
      policies: group.policies(ctx),
      onPolicyLint: (findings) => {
        for (const finding of findings) lints.push(finding.code);
      },
    };
    box.built = createGuard(options);
    try {
      await box.built; // a policy error fails the group here, not as 503s
    } catch (error) {
      await running.close();
      throw error;
    }
    return running;
  }

  async function tokenFor(spec: E2eToken): Promise<{ token: string; requestPrincipal: string }> {
    if (spec.from === 'op') {
      const token = await f.op.getToken({
        ...CLIENT,
        ...(spec.scope ? { scope: spec.scope } : {}),
      });
      return { token, requestPrincipal: `${f.op.issuer}/${CLIENT.clientId}` };
    }
    const now = nowSec();
    const claims = {
      sub: LOCAL_SUBJECT,
      aud: AUDIENCE,
      client_id: LOCAL_SUBJECT,
      iat: now - 10,
      exp: now + 300,
      jti: `jti-${Math.random()}`,
    };
    if (spec.from === 'unknown-issuer') {
      const iss = 'https://unknown-issuer.example';
      const token = signEs256(
        { alg: 'ES256', typ: 'at+jwt', kid: 'unknown' },
        { iss, ...claims },
        f.unknownKey,
      );
      return { token, requestPrincipal: `${iss}/${LOCAL_SUBJECT}` };
    }
    const token = signEs256(
      { alg: 'ES256', typ: 'at+jwt', kid: f.local.kid },
      { iss: f.local.issuer, ...claims, ...spec.claims },
      f.local.privateKey,
    );
    return { token, requestPrincipal: `${f.local.issuer}/${LOCAL_SUBJECT}` };
  }

  async function run(server: AdapterServer, c: E2eCase): Promise<void> {
    const port = Number(new URL(server.base).port);
    const headers: [string, string][] = (c.headers ?? []).map(([name, value]) => [
      name,
      value.replaceAll('{port}', String(port)),
    ]);
    if (!headers.some(([name]) => name.toLowerCase() === 'host'))
      headers.unshift(['Host', `localhost:${port}`]);
    const token = c.token ? await tokenFor(c.token) : undefined;
    if (token) {
      headers.push(['Authorization', `Bearer ${token.token}`]);
      if (c.authorizationTwice) headers.push(['Authorization', `Bearer ${token.token}`]);
    }
    const peer = c.peer ?? 'checkout';
    const res = await sendRaw(port, f.ca.rootPem, {
      method: c.method ?? 'GET',
      path: c.path,
      headers,
      ...(peer === 'none'
        ? {}
        : { client: { certPem: f.peers[peer].chainPem, keyPem: f.peers[peer].keyPem } }),
    });
    let body: Body = {};
    try {
      body = JSON.parse(res.text) as Body;
    } catch {
      // Node's own 400 has no JSON body.
    }
    if (c.expect.status === 200) {
      expect({ status: res.status, body }).toEqual({
        status: 200,
        body: {
          url: c.expect.seen,
          principal: peer === 'none' ? null : f.peers[peer].spiffeId,
          requestPrincipal: token?.requestPrincipal ?? null,
        },
      });
    } else {
      expect({ status: res.status, reason: body.reason }).toEqual(c.expect);
    }
  }

  describe(`${adapter}: Istio AuthorizationPolicy end to end (real mTLS, real tokens)`, () => {
    for (const group of AUTHZ_E2E_GROUPS) {
      describe(group.title, () => {
        let server: AdapterServer;
        const lints: string[] = [];
        beforeAll(async () => {
          server = await startGroup(group, lints);
        });
        afterAll(async () => {
          await server?.close();
        });
        for (const c of group.cases) it(c.name, () => run(server, c));
        if (group.lints)
          it(`the faithful traps are linted: ${group.lints.join(', ')}`, () => {
            expect(lints).toEqual(expect.arrayContaining(group.lints ?? []));
          });
      });
    }
  });
}
