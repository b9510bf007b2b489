/**
 * Adapter conformance: bearer tokens (RequestAuthentication semantics) over real mTLS against a
 * real OpenID Provider (oidc-provider on loopback). Discovery, RFC 9068 client_credentials tokens,
 * certificate-bound tokens (RFC 8705), key rotation, provider outage (stale keys, 503, recovery),
 * a flood of unknown kids, and a table of malformed and malicious tokens, each refused with its
 * reason. Each adapter's test file calls {@link describeTokenSuite} with the same factory as
 * {@link describeSvidRuleSuite}.
 *
 * Malicious tokens are composed by hand with `node:crypto` (raw base64url segments), so that
 * headers no JWT library would produce (alg none, embedded keys, arrays) can be sent.
 */
import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  type KeyObject,
} from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdapterServer, AdapterServerFactory } from './svid-rule-suite.js';

const NAMESPACE = 'payments';
const TRUST_DOMAIN = 'example.org';
const AUDIENCE = 'https://payment-processor.payments';
const SECRET_CLIENT = {
  clientId: 'checkout-secret',
  clientSecret: 'checkout-secret-0123456789abcdef0123456789',
};
const BOUND_CLIENT_ID = 'checkout-mtls';

type Json = Record<string, unknown>;

const b64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');
const seg = (value: unknown): string => b64url(JSON.stringify(value));
const nowSec = (): number => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Compact JWS over `header`/`payload`, ES256 with `key` (P-256), composed by hand. */
function signEs256(header: Json, payload: Json, key: KeyObject): string {
  const input = `${seg(header)}.${seg(payload)}`;
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(signature)}`;
}

function headerOf(token: string): Json {
  return JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as Json;
}

/** A plain-HTTP loopback server: a JWKS for a locally controlled issuer, and an attacker JWKS. */
interface LocalIssuer {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly attackerJwksUri: string;
  readonly privateKey: KeyObject;
  readonly kid: string;
  /** Requests to the attacker JWKS (must stay 0: embedded `jku` is never followed). */
  attackerHits(): number;
  close(): Promise<void>;
}

async function startLocalIssuer(attackerPublic: Json): Promise<LocalIssuer> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = 'local-1';
  const jwks = JSON.stringify({
    keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' }],
  });
  let attackerHits = 0;
  const server = http.createServer((req, res) => {
    if (req.url === '/attacker-jwks') {
      attackerHits++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [attackerPublic] }));
      return;
    }
    if (req.url === '/jwks') {
      res.setHeader('content-type', 'application/json');
      res.end(jwks);
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer: `${origin}/local-issuer`,
    jwksUri: `${origin}/jwks`,
    attackerJwksUri: `${origin}/attacker-jwks`,
    privateKey,
    kid,
    attackerHits: () => attackerHits,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A fetch for the guard: the OP's CA-trusting fetch for the OP, global fetch otherwise; counted and switchable. */
interface SwitchFetch {
  readonly fetch: typeof fetch;
  /** Requests (attempted) whose URL starts with `prefix`. */
  count(prefix: string): number;
  /** While false, every request to the OP fails like a connection refusal. */
  opUp: boolean;
}

function switchFetch(op: OidcProviderHarness): SwitchFetch {
  const urls: string[] = [];
  const state: SwitchFetch = {
    opUp: true,
    count: (prefix) => urls.filter((u) => u.startsWith(prefix)).length,
    fetch: async (input: string | URL | Request, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      urls.push(url);
      if (url.startsWith(op.issuer)) {
        if (!state.opUp) throw new TypeError('fetch failed (provider switched off)');
        return op.fetch(input, init);
      }
      return fetch(input, init);
    },
  };
  return state;
}

interface Running extends AdapterServer {
  decisions: Decision[];
  fetch: SwitchFetch;
}

interface Caller {
  certPem: string;
  keyPem: string;
}

/** Registers the token suite for one adapter. */
export function describeTokenSuite(adapter: string, start: AdapterServerFactory): void {
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

  describe(`${adapter}: tokens from a real OpenID Provider`, () => {
    let main: Running;
    let viaPolicy: Running;

    beforeAll(async () => {
      main = await startGuard((f) => ({
        policies: policies(),
        jwt: {
          fetch: f.fetch,
          issuers: [
            { issuer: op.issuer, audiences: [AUDIENCE], profile: 'rfc9068' },
            {
              issuer: local.issuer,
              jwksUri: local.jwksUri,
              audiences: [AUDIENCE],
              profile: 'rfc9068',
            },
          ],
        },
      }));
      viaPolicy = await startGuard((f) => ({
        policies: [requestAuthentication(), ...policies()],
        jwt: { fetch: f.fetch },
      }));
    });

    it('RequestAuthentication (policy object): discovery, then a client_credentials token → 200', async () => {
      const token = await op.getToken(SECRET_CLIENT);
      await expectOk(viaPolicy, token);
      expect(viaPolicy.decisions.at(-1)?.requestPrincipal).toBe(
        `${op.issuer}/${SECRET_CLIENT.clientId}`,
      );
      expect(viaPolicy.fetch.count(`${op.issuer}/.well-known/openid-configuration`)).toBe(1);
      expect(viaPolicy.fetch.count(op.jwksUri)).toBe(1);
    });

    it('no token → 403 (requestPrincipals: [*] requires one)', async () => {
      viaPolicy.decisions.length = 0;
      const res = await send(viaPolicy, undefined);
      expect(res.status).toBe(403);
      expect(viaPolicy.decisions.at(-1)?.allow).toBe(false);
    });

    it('jwt.issuers profile rfc9068: resource-indicator at+jwt token → 200', async () => {
      const token = await op.getToken({ ...SECRET_CLIENT, resource: AUDIENCE });
      expect(headerOf(token)['typ']).toBe('at+jwt');
      await expectOk(main, token);
      expect(main.decisions.at(-1)?.requestPrincipal).toBe(
        `${op.issuer}/${SECRET_CLIENT.clientId}`,
      );
    });

    it('tls_client_auth: cert-bound token with the same client cert → 200', async () => {
      const token = await op.getToken({
        clientId: BOUND_CLIENT_ID,
        cert: { certPem: checkout.chainPem, keyPem: checkout.keyPem },
      });
      const payload = JSON.parse(
        Buffer.from(token.split('.')[1] ?? '', 'base64url').toString(),
      ) as { cnf?: Record<string, string> };
      expect(payload.cnf?.['x5t#S256']).toBe(
        createHash('sha256').update(checkout.certDer).digest('base64url'),
      );
      await expectOk(main, token);
      await expectOk(main, token); // again, from the verified-token cache
    });

    it('tls_client_auth: the token replayed with another valid client cert → 401 jwt_cnf_mismatch', async () => {
      const token = await op.getToken({
        clientId: BOUND_CLIENT_ID,
        cert: { certPem: checkout.chainPem, keyPem: checkout.keyPem },
      });
      await expectRefused(main, token, 'jwt_cnf_mismatch', { caller: other });
      // Also after the token is in the verified-token cache.
      await expectOk(main, token);
      await expectRefused(main, token, 'jwt_cnf_mismatch', { caller: other });
    });

    it('a local issuer token with valid claims → 200 (positive control of the table)', async () => {
      await expectOk(main, localToken());
    });

    describe('malformed and malicious tokens', () => {
      type Case = [name: string, token: () => string | Promise<string>, reason: string];
      const opKidToken = async (): Promise<{ header: Json; payload: Json; real: string }> => {
        const real = await op.getToken(SECRET_CLIENT);
        const [h, p] = real.split('.');
        return {
          real,
          header: JSON.parse(Buffer.from(h ?? '', 'base64url').toString()) as Json,
          payload: JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as Json,
        };
      };
      const opPublicPem = async (kid: string): Promise<string> => {
        const res = await op.fetch(op.jwksUri);
        const { keys } = (await res.json()) as { keys: Json[] };
        const jwk = keys.find((k) => k['kid'] === kid);
        return createPublicKey({ key: jwk as never, format: 'jwk' })
          .export({ type: 'spki', format: 'pem' })
          .toString();
      };

      const cases: Case[] = [
        // alg none / key confusion
        [
          'alg none, empty signature',
          async () => {
            const { header, payload } = await opKidToken();
            return `${seg({ ...header, alg: 'none' })}.${seg(payload)}.`;
          },
          'jwt_malformed',
        ],
        [
          'alg none, with a signature segment',
          async () => {
            const { header, payload, real } = await opKidToken();
            return `${seg({ ...header, alg: 'none' })}.${seg(payload)}.${real.split('.')[2]}`;
          },
          'jwt_alg_not_allowed',
        ],
        [
          'alg NONE (case variant)',
          async () => {
            const { header, payload } = await opKidToken();
            return `${seg({ ...header, alg: 'NONE' })}.${seg(payload)}.AAAA`;
          },
          'jwt_alg_not_allowed',
        ],
        [
          'key confusion: HS256 signed with the public key PEM bytes',
          async () => {
            const { header, payload } = await opKidToken();
            const pem = await opPublicPem(String(header['kid']));
            const input = `${seg({ ...header, alg: 'HS256' })}.${seg(payload)}`;
            return `${input}.${b64url(createHmac('sha256', pem).update(input).digest())}`;
          },
          'jwt_alg_not_allowed',
        ],
        [
          'alg with invalid characters',
          async () => {
            const { header, payload, real } = await opKidToken();
            return `${seg({ ...header, alg: 'ES256 ' })}.${seg(payload)}.${real.split('.')[2]}`;
          },
          'jwt_alg_not_allowed',
        ],
        // embedded keys
        [
          'embedded jwk (attacker key), real kid',
          async () => {
            const { header, payload } = await opKidToken();
            return signEs256({ ...header, jwk: attacker.publicJwk }, payload, attacker.privateKey);
          },
          'jwt_signature_invalid',
        ],
        [
          'embedded jwk (attacker key), attacker kid',
          async () => {
            const { header, payload } = await opKidToken();
            return signEs256(
              { ...header, kid: 'attacker', jwk: attacker.publicJwk },
              payload,
              attacker.privateKey,
            );
          },
          'jwt_signature_invalid',
        ],
        [
          'jku pointing at an attacker JWKS',
          async () => {
            const { header, payload } = await opKidToken();
            return signEs256(
              { ...header, kid: 'attacker', jku: local.attackerJwksUri },
              payload,
              attacker.privateKey,
            );
          },
          'jwt_signature_invalid',
        ],
        [
          'x5c with an attacker certificate',
          async () => {
            const { header, payload } = await opKidToken();
            const key = createPublicKey(attackerX5c.certPem); // sanity: the cert parses
            expect(key.asymmetricKeyType).toBe('ec');
            return signEs256(
              { ...header, kid: 'attacker', x5c: [attackerX5c.certDer.toString('base64')] },
              payload,
              createPrivateKey(attackerX5c.keyPem),
            );
          },
          'jwt_signature_invalid',
        ],
        [
          'signed by an attacker key under the real kid',
          async () => {
            const { header, payload } = await opKidToken();
            return signEs256(header, payload, attacker.privateKey);
          },
          'jwt_signature_invalid',
        ],
        [
          'real token with a tampered payload',
          async () => {
            const { payload, real } = await opKidToken();
            const [h, , s] = real.split('.');
            return `${h}.${seg({ ...payload, sub: 'admin' })}.${s}`;
          },
          'jwt_signature_invalid',
        ],
        [
          'real token with a tampered signature',
          async () => {
            const { real } = await opKidToken();
            const last = real.at(-2) === 'A' ? 'B' : 'A';
            return `${real.slice(0, -2)}${last}${real.at(-1)}`;
          },
          'jwt_signature_invalid',
        ],
        [
          'unsupported crit header',
          () => localToken(localClaims(), { crit: ['x-ext'], 'x-ext': 1 }),
          'jwt_invalid',
        ],
        // size and encoding
        [
          'oversize (> 8 KiB)',
          () => localToken(localClaims({ pad: 'x'.repeat(8300) })),
          'jwt_malformed',
        ],
        ['not a JWT', () => 'not-a-jwt', 'jwt_malformed'],
        [
          'non-base64url characters (+ /)',
          () => `${localToken().slice(0, 10)}+/${localToken().slice(12)}`,
          'jwt_malformed',
        ],
        ['base64 padding', () => `${localToken()}==`, 'jwt_malformed'],
        ['two segments', () => localToken().split('.').slice(0, 2).join('.'), 'jwt_malformed'],
        ['four segments', () => `${localToken()}.${seg({})}`, 'jwt_malformed'],
        [
          'five segments (JWE)',
          () => `${seg({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.a.b.c.d`,
          'jwt_malformed',
        ],
        [
          'empty payload segment',
          () => {
            const [h, , s] = localToken().split('.');
            return `${h}..${s}`;
          },
          'jwt_malformed',
        ],
        [
          'header is a JSON array',
          () => {
            const [, p, s] = localToken().split('.');
            return `${seg([{ alg: 'ES256' }])}.${p}.${s}`;
          },
          'jwt_malformed',
        ],
        [
          'header is not JSON',
          () => {
            const [, p, s] = localToken().split('.');
            return `${b64url('{alg:ES256')}.${p}.${s}`;
          },
          'jwt_malformed',
        ],
        [
          'payload is a JSON array',
          () =>
            signEs256(
              { alg: 'ES256', typ: 'at+jwt', kid: local.kid },
              [localClaims()] as unknown as Json,
              local.privateKey,
            ),
          'jwt_malformed',
        ],
        // issuer, audience, typ
        [
          'unknown issuer',
          () =>
            signEs256(
              { alg: 'ES256', typ: 'at+jwt', kid: 'attacker' },
              localClaims({ iss: 'https://evil.example' }),
              attacker.privateKey,
            ),
          'jwt_issuer_unknown',
        ],
        [
          'issuer with a trailing slash',
          async () => {
            const { header, payload } = await opKidToken();
            return signEs256(header, { ...payload, iss: `${op.issuer}/` }, attacker.privateKey);
          },
          'jwt_issuer_unknown',
        ],
        ['no iss', () => localToken(localClaims({ iss: undefined })), 'jwt_issuer_unknown'],
        [
          'wrong audience',
          () => localToken(localClaims({ aud: 'https://other.example' })),
          'jwt_audience_mismatch',
        ],
        [
          'typ JWT (not at+jwt)',
          () => localToken(localClaims(), { typ: 'JWT' }),
          'jwt_typ_invalid',
        ],
        ['no typ', () => localToken(localClaims(), { typ: undefined }), 'jwt_typ_invalid'],
        [
          'missing client_id (RFC 9068)',
          () => localToken(localClaims({ client_id: undefined })),
          'jwt_claims_invalid',
        ],
        // time edges (default tolerance 30 s)
        [
          'exp 31 s ago (just past tolerance)',
          () => localToken(localClaims({ iat: nowSec() - 300, exp: nowSec() - 31 })),
          'jwt_expired',
        ],
        [
          'nbf 60 s in the future',
          () => localToken(localClaims({ nbf: nowSec() + 60 })),
          'jwt_not_yet_valid',
        ],
        [
          'iat 60 s in the future',
          () => localToken(localClaims({ iat: nowSec() + 60, exp: nowSec() + 600 })),
          'jwt_claims_invalid',
        ],
        ['no exp', () => localToken(localClaims({ exp: undefined })), 'jwt_claims_invalid'],
        [
          'exp not a number',
          () => localToken(localClaims({ exp: String(nowSec() + 300) })),
          'jwt_claims_invalid',
        ],
        [
          'lifetime above 24 h',
          () => localToken(localClaims({ exp: nowSec() + 90_000 })),
          'jwt_claims_invalid',
        ],
      ];

      it.each(cases)('%s → 401 %s', async (_name, make, reason) => {
        await expectRefused(main, await make(), reason);
      });

      it('no attacker JWKS was ever fetched (jku/x5u never followed)', () => {
        expect(local.attackerHits()).toBe(0);
        expect(main.fetch.count(local.attackerJwksUri)).toBe(0);
      });

      it('time edges inside the tolerance are accepted (exp 20 s ago, nbf/iat 20 s ahead)', async () => {
        await expectOk(main, localToken(localClaims({ iat: nowSec() - 300, exp: nowSec() - 20 })));
        await expectOk(main, localToken(localClaims({ nbf: nowSec() + 20 })));
        await expectOk(main, localToken(localClaims({ iat: nowSec() + 20 })));
      });

      it('a header token and an access_token parameter → 401 jwt_ambiguous', async () => {
        const token = localToken();
        await expectRefused(main, token, 'jwt_ambiguous', {
          path: `/?access_token=${encodeURIComponent(token)}`,
        });
      });
    });
  });

  describe(`${adapter}: JWKS availability`, () => {
    it('a flood of 200 unknown kids costs at most 3 JWKS fetches', async () => {
      const r = await startGuard((f) => ({
        policies: policies(),
        jwt: {
          fetch: f.fetch,
          issuers: [{ issuer: op.issuer, audiences: [AUDIENCE], profile: 'rfc9068' }],
        },
      }));
      await expectOk(r, await op.getToken(SECRET_CLIENT));
      const payload = localClaims({ iss: op.issuer, sub: 'flood', client_id: 'flood' });
      const agent = new https.Agent({
        keepAlive: true,
        maxSockets: 16,
        ca: ca.rootPem,
        cert: checkout.chainPem,
        key: checkout.keyPem,
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
                attacker.privateKey,
              );
              const res = await send(r, token, { agent });
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
      expect(r.fetch.count(op.jwksUri)).toBeLessThanOrEqual(3);
      expect(r.fetch.count(op.jwksUri)).toBeGreaterThanOrEqual(1);
    });

    it('provider down: stale keys serve for the window, then 503 + Retry-After, then recovery', async () => {
      const r = await startGuard((f) => ({
        policies: policies(),
        jwt: {
          fetch: f.fetch,
          issuers: [{ issuer: op.issuer, audiences: [AUDIENCE], profile: 'rfc9068' }],
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
      const fresh = () => op.getToken(SECRET_CLIENT);
      const t0 = Date.now();
      await expectOk(r, await fresh());
      const fetchesUp = r.fetch.count(op.jwksUri);
      r.fetch.opUp = false;
      await sleep(Math.max(0, t0 + 1300 - Date.now())); // past the TTL, inside the stale window
      await expectOk(r, await fresh());
      expect(r.fetch.count(op.jwksUri)).toBeGreaterThanOrEqual(fetchesUp);
      await sleep(Math.max(0, t0 + 3500 - Date.now())); // past TTL + staleIfErrorSec
      const token = await fresh();
      r.decisions.length = 0;
      const down = await send(r, token);
      expect({ status: down.status, reason: down.json<{ reason?: string }>().reason }).toEqual({
        status: 503,
        reason: 'jwks_unavailable',
      });
      expect(down.headers['retry-after']).toBeDefined();
      expect(Number(down.headers['retry-after'])).toBeGreaterThan(0);
      expect(r.decisions.at(-1)?.reason).toBe('jwks_unavailable');
      r.fetch.opUp = true;
      await sleep(1100); // failureBackoffSec
      await expectOk(r, await fresh());
    });

    it('503 Retry-After is an integer number of seconds (RFC 9110 delay-seconds), also inside the failure backoff', async () => {
      const r = await startGuard((f) => ({
        policies: policies(),
        jwt: {
          fetch: f.fetch,
          issuers: [
            { issuer: op.issuer, jwksUri: op.jwksUri, audiences: [AUDIENCE], profile: 'rfc9068' },
          ],
          keyStore: { failureBackoffSec: 3 },
        },
      }));
      r.fetch.opUp = false;
      const token = await op.getToken(SECRET_CLIENT);
      const first = await send(r, token);
      expect(first.status).toBe(503);
      await sleep(300);
      const second = await send(r, await op.getToken(SECRET_CLIENT));
      expect(second.status).toBe(503);
      expect([first.headers['retry-after'], second.headers['retry-after']]).toEqual([
        expect.stringMatching(/^[1-9]\d*$/),
        expect.stringMatching(/^[1-9]\d*$/),
      ]);
    });

    it('key rotation: a token signed with the new kid is accepted at once', async () => {
      const r = await startGuard((f) => ({
        policies: policies(),
        jwt: {
          fetch: f.fetch,
          issuers: [{ issuer: op.issuer, audiences: [AUDIENCE], profile: 'rfc9068' }],
        },
      }));
      const before = await op.getToken(SECRET_CLIENT);
      await expectOk(r, before);
      const oldKid = headerOf(before)['kid'];
      const newKid = await op.rotateSigningKey();
      const after = await op.getToken(SECRET_CLIENT);
      expect(headerOf(after)['kid']).toBe(newKid);
      expect(newKid).not.toBe(oldKid);
      await expectOk(r, after);
      expect(r.fetch.count(op.jwksUri)).toBe(2);
    });
  });
}
