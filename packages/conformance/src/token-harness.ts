/**
 * The shared state of the token suite: a CA with server and caller SVIDs, a real OpenID Provider,
 * a local issuer and an attacker key, set up once per suite, plus the helpers that start a guarded
 * adapter server and send it tokens. {@link createTokenHarness} registers the suite-level hooks.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type https from 'node:https';
import type { Decision, GuardOptions } from '@meshless/core';
import {
  createTestCa,
  mtlsRequest,
  startOidcProvider,
  type MtlsResponse,
  type OidcProviderHarness,
  type Svid,
  type TestCa,
} from '@meshless/testing';
import { afterAll, beforeAll, expect } from 'vitest';
import type { AdapterServerFactory } from './svid-rule-suite.js';
import {
  AUDIENCE,
  BOUND_CLIENT_ID,
  NAMESPACE,
  nowSec,
  SECRET_CLIENT,
  signEs256,
  startLocalIssuer,
  switchFetch,
  TRUST_DOMAIN,
  type Caller,
  type Json,
  type LocalIssuer,
  type Running,
  type SwitchFetch,
} from './token-fixtures.js';

/** Suite state (valid once the suite's `beforeAll` has run) and helpers. */
export interface TokenHarness {
  readonly ca: TestCa;
  readonly checkout: Svid;
  readonly other: Svid;
  readonly op: OidcProviderHarness;
  readonly local: LocalIssuer;
  readonly attacker: { privateKey: KeyObject; publicJwk: Json };
  readonly attackerX5c: Svid;
  /** ALLOW any request principal (a token is required). */
  policies(): object[];
  /** RequestAuthentication for the OP, as a policy object. */
  requestAuthentication(): object;
  /** Starts the adapter with a guard whose decisions are recorded and whose fetch is switchable. */
  startGuard(
    build: (f: SwitchFetch) => Omit<GuardOptions, 'workload' | 'trustBundles' | 'onDecision'>,
  ): Promise<Running>;
  send(
    r: Running,
    token: string | undefined,
    options?: { caller?: Caller; path?: string; agent?: https.Agent },
  ): Promise<MtlsResponse>;
  expectOk(r: Running, token: string, caller?: Caller): Promise<void>;
  expectRefused(
    r: Running,
    token: string,
    reason: string,
    options?: { caller?: Caller; path?: string },
  ): Promise<void>;
  /** RFC 9068 claims of a token from the local issuer; override to break one. */
  localClaims(overrides?: Json): Json;
  localToken(claims?: Json, header?: Json): string;
}

/** Registers the suite-level setup and teardown for one adapter and returns the harness. */
export function createTokenHarness(start: AdapterServerFactory): TokenHarness {
  let ca: TestCa;
  let serverSvid: Svid;
  let checkout: Svid;
  let other: Svid;
  let op: OidcProviderHarness;
  let local: LocalIssuer;
  let attacker: { privateKey: KeyObject; publicJwk: Json };
  let attackerX5c: Svid;
  const running: Running[] = [];

  function policies(): object[] {
    return [
      {
        apiVersion: 'security.istio.io/v1',
        kind: 'AuthorizationPolicy',
        metadata: { name: 'require-jwt', namespace: NAMESPACE },
        spec: { action: 'ALLOW', rules: [{ from: [{ source: { requestPrincipals: ['*'] } }] }] },
      },
    ];
  }

  function requestAuthentication(): object {
    return {
      apiVersion: 'security.istio.io/v1',
      kind: 'RequestAuthentication',
      metadata: { name: 'op-jwt', namespace: NAMESPACE },
      spec: { jwtRules: [{ issuer: op.issuer, audiences: [AUDIENCE] }] },
    };
  }

  async function startGuard(
    build: (f: SwitchFetch) => Omit<GuardOptions, 'workload' | 'trustBundles' | 'onDecision'>,
  ): Promise<Running> {
    const decisions: Decision[] = [];
    const f = switchFetch(op);
    const guard: GuardOptions = {
      workload: { namespace: NAMESPACE, trustDomain: TRUST_DOMAIN },
      trustBundles: { [TRUST_DOMAIN]: ca.rootPem },
      onDecision: (decision) => {
        decisions.push(decision);
      },
      ...build(f),
    };
    const server = await start(guard, {
      key: serverSvid.keyPem,
      cert: serverSvid.chainPem,
      ca: [ca.rootPem],
      requestCert: true,
      rejectUnauthorized: false,
    });
    const r: Running = { ...server, decisions, fetch: f };
    running.push(r);
    return r;
  }

  function send(
    r: Running,
    token: string | undefined,
    options: { caller?: Caller; path?: string; agent?: https.Agent } = {},
  ): Promise<MtlsResponse> {
    const caller = options.caller ?? checkout;
    return mtlsRequest(r.base, {
      path: options.path ?? '/',
      ca: ca.rootPem,
      cert: caller.certPem,
      key: caller.keyPem,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      ...(options.agent ? { agent: options.agent } : {}),
    });
  }

  async function expectOk(r: Running, token: string, caller: Caller = checkout): Promise<void> {
    r.decisions.length = 0;
    const res = await send(r, token, { caller });
    expect({ status: res.status, body: res.json() }).toEqual({
      status: 200,
      body: { principal: caller === checkout ? checkout.spiffeId : other.spiffeId },
    });
    const decision = r.decisions.at(-1);
    expect(decision?.allow).toBe(true);
    expect(decision?.requestPrincipal).toMatch(/^.+\/.+$/);
  }

  async function expectRefused(
    r: Running,
    token: string,
    reason: string,
    options: { caller?: Caller; path?: string } = {},
  ): Promise<void> {
    r.decisions.length = 0;
    const res = await send(r, token, options);
    const body = res.json<{ reason?: string; error?: string }>();
    expect({ status: res.status, reason: body.reason }).toEqual({ status: 401, reason });
    const error =
      reason === 'jwt_malformed' || reason === 'jwt_ambiguous'
        ? 'invalid_request'
        : 'invalid_token';
    expect(body.error).toBe(error);
    expect(String(res.headers['www-authenticate'])).toMatch(
      new RegExp(`^Bearer .*error="${error}"`),
    );
    expect(r.decisions.at(-1)?.reason).toBe(reason);
  }

  /** RFC 9068 claims of a token from the local issuer; override to break one. */
  function localClaims(overrides: Json = {}): Json {
    const now = nowSec();
    return {
      iss: local.issuer,
      sub: 'local-client',
      aud: AUDIENCE,
      client_id: 'local-client',
      iat: now - 10,
      exp: now + 300,
      jti: `jti-${Math.random()}`,
      ...overrides,
    };
  }

  function localToken(claims: Json = localClaims(), header: Json = {}): string {
    return signEs256(
      { alg: 'ES256', typ: 'at+jwt', kid: local.kid, ...header },
      claims,
      local.privateKey,
    );
  }

  beforeAll(async () => {
    ca = await createTestCa({ trustDomain: TRUST_DOMAIN });
    [serverSvid, checkout, other] = await Promise.all([
      ca.issueSvid({
        spiffeId: `spiffe://${TRUST_DOMAIN}/ns/payments/sa/payment-processor`,
        dnsNames: ['localhost'],
        ipAddresses: ['127.0.0.1'],
      }),
      ca.issueSvid({ spiffeId: `spiffe://${TRUST_DOMAIN}/ns/payments/sa/checkout` }),
      ca.issueSvid({ spiffeId: `spiffe://${TRUST_DOMAIN}/ns/payments/sa/other` }),
    ]);
    op = await startOidcProvider({
      ca,
      audience: AUDIENCE,
      clients: [
        SECRET_CLIENT,
        { clientId: BOUND_CLIENT_ID, tlsClientAuthSanUri: checkout.spiffeId as string },
      ],
    });
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    attacker = {
      privateKey: pair.privateKey,
      publicJwk: { ...pair.publicKey.export({ format: 'jwk' }), kid: 'attacker', alg: 'ES256' },
    };
    local = await startLocalIssuer(attacker.publicJwk);
    const rogueCa = await createTestCa({ trustDomain: 'attacker.test' });
    attackerX5c = await rogueCa.issueSvid({ spiffeId: 'spiffe://attacker.test/signer' });
  });

  afterAll(async () => {
    await Promise.all(running.map((r) => r.close()));
    await local?.close();
    await op?.close();
  });

  return {
    get ca() {
      return ca;
    },
    get checkout() {
      return checkout;
    },
    get other() {
      return other;
    },
    get op() {
      return op;
    },
    get local() {
      return local;
    },
    get attacker() {
      return attacker;
    },
    get attackerX5c() {
      return attackerX5c;
    },
    policies,
    requestAuthentication,
    startGuard,
    send,
    expectOk,
    expectRefused,
    localClaims,
    localToken,
  };
}
