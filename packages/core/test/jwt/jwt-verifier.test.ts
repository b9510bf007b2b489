import { SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { JwtIssuerConfig } from '../../src/jwt/issuer-keys.js';
import { JwtVerifier, type TokenResult } from '../../src/jwt/jwt-verifier.js';
import {
  b64url,
  deadOrigin,
  json,
  makeKey,
  nowSec,
  signToken,
  startServer,
  type TestKey,
  type TestServer,
} from '../helpers/jwks.js';

const ISS = 'https://issuer.test';

let server: TestServer;
let key: TestKey;
let attacker: TestKey;
let routeSeq = 0;

beforeAll(async () => {
  server = await startServer();
  [key, attacker] = await Promise.all([makeKey('k1'), makeKey('k1')]);
});
afterAll(async () => {
  await server.close();
});

/** A fresh JWKS route (so request counts are per test) and the issuer config that points at it. */
function jwksRoute(
  keys: JWK[],
  extra: Partial<JwtIssuerConfig> = {},
  issuer = ISS,
): { path: string; config: JwtIssuerConfig } {
  const path = `/jwks/${++routeSeq}`;
  server.route(path, json({ keys }));
  return { path, config: { issuer, jwksUri: server.origin + path, ...extra } };
}

function verifierFor(
  keys: JWK[],
  extra: Partial<JwtIssuerConfig> = {},
  options: { clockToleranceSec?: number; algorithms?: string[] } = {},
) {
  const { path, config } = jwksRoute(keys, extra);
  return { path, verifier: new JwtVerifier({ issuers: [config], ...options }) };
}

function reasonOf(result: TokenResult): string {
  return result.kind === 'ok' ? 'ok' : result.reason;
}

describe('JwtVerifier: valid tokens', () => {
  it('verifies a token against the issuer JWKS, then (seen twice) answers from the cache', async () => {
    const { path, verifier } = verifierFor([key.publicJwk], { audiences: ['api'] });
    expect(verifier.enabled).toBe(true);
    const token = await signToken(key, { iss: ISS, sub: 'alice', aud: 'api', scope: 'read' });
    const first = await verifier.verify(token);
    expect(first).toMatchObject({
      kind: 'ok',
      cached: false,
      token: { issuer: ISS, subject: 'alice', alg: 'ES256', kid: 'k1' },
    });
    if (first.kind === 'ok')
      expect(first.token.claims).toMatchObject({
        iss: ISS,
        sub: 'alice',
        aud: 'api',
        scope: 'read',
      });
    // Seen once: verified, not cached yet. Seen again: verified and cached. Then: cache hits.
    expect(await verifier.verify(token)).toMatchObject({ kind: 'ok', cached: false });
    const third = await verifier.verify(token);
    expect(third).toMatchObject({
      kind: 'ok',
      cached: true,
      token: { issuer: ISS, subject: 'alice' },
    });
    expect(server.hitCount(path)).toBe(1);
  });

  it('accepts any overlap of aud with the configured audiences', async () => {
    const { verifier } = verifierFor([key.publicJwk], { audiences: ['api', 'other'] });
    const token = await signToken(key, { iss: ISS, sub: 's', aud: ['x', 'other'] });
    expect(reasonOf(await verifier.verify(token))).toBe('ok');
  });

  it('does not check aud when no audiences are configured (Istio)', async () => {
    const { verifier } = verifierFor([key.publicJwk]);
    expect(
      reasonOf(
        await verifier.verify(await signToken(key, { iss: ISS, sub: 's', aud: 'anything' })),
      ),
    ).toBe('ok');
    expect(reasonOf(await verifier.verify(await signToken(key, { iss: ISS, sub: 's' })))).toBe(
      'ok',
    );
  });

  it('a token without sub verifies with subject undefined', async () => {
    const { verifier } = verifierFor([key.publicJwk]);
    const r = await verifier.verify(await signToken(key, { iss: ISS }));
    expect(r).toMatchObject({ kind: 'ok', token: { subject: undefined } });
  });

  it('is disabled without issuers', () => {
    expect(new JwtVerifier({ issuers: [] }).enabled).toBe(false);
  });
});

describe('JwtVerifier: time claims', () => {
  it('expired → jwt_expired', async () => {
    const { verifier } = verifierFor([key.publicJwk]);
    const r = await verifier.verify(
      await signToken(key, { iss: ISS, sub: 's', exp: nowSec() - 3600 }),
    );
    expect(r).toMatchObject({
      kind: 'fail',
      reason: 'jwt_expired',
      issuer: ISS,
      alg: 'ES256',
      kid: 'k1',
    });
  });

  it('accepts 30 s of clock skew by default', async () => {
    const { verifier } = verifierFor([key.publicJwk]);
    expect(
      reasonOf(
        await verifier.verify(await signToken(key, { iss: ISS, sub: 's', exp: nowSec() - 10 })),
      ),
    ).toBe('ok');
    expect(
      reasonOf(
        await verifier.verify(await signToken(key, { iss: ISS, sub: 's', exp: nowSec() - 60 })),
      ),
    ).toBe('jwt_expired');
  });

  it('clockToleranceSec 0 accepts no skew', async () => {
    const { verifier } = verifierFor([key.publicJwk], {}, { clockToleranceSec: 0 });
    expect(
      reasonOf(
        await verifier.verify(await signToken(key, { iss: ISS, sub: 's', exp: nowSec() - 5 })),
      ),
    ).toBe('jwt_expired');
  });

  it('clockToleranceSec is capped at 300', async () => {
    const { verifier } = verifierFor([key.publicJwk], {}, { clockToleranceSec: 100_000 });
    expect(
      reasonOf(
        await verifier.verify(await signToken(key, { iss: ISS, sub: 's', exp: nowSec() - 200 })),
      ),
    ).toBe('ok');
    expect(
      reasonOf(
        await verifier.verify(await signToken(key, { iss: ISS, sub: 's', exp: nowSec() - 400 })),
      ),
    ).toBe('jwt_expired');
  });

  it('nbf in the future → jwt_not_yet_valid (within the skew → ok)', async () => {
    const { verifier } = verifierFor([key.publicJwk]);
    expect(
      reasonOf(
        await verifier.verify(await signToken(key, { iss: ISS, sub: 's', nbf: nowSec() + 3600 })),
      ),
    ).toBe('jwt_not_yet_valid');
    expect(
      reasonOf(
        await verifier.verify(await signToken(key, { iss: ISS, sub: 's', nbf: nowSec() + 10 })),
      ),
    ).toBe('ok');
  });

  it('exp is required → jwt_claims_invalid', async () => {
    const { verifier } = verifierFor([key.publicJwk]);
    expect(
      reasonOf(await verifier.verify(await signToken(key, { iss: ISS, sub: 's', exp: undefined }))),
    ).toBe('jwt_claims_invalid');
  });

  it('a cached token expires: a later check reports jwt_expired', async () => {
    const { path, verifier } = verifierFor([key.publicJwk]);
    const now = Date.now();
    const token = await signToken(key, { iss: ISS, sub: 's', exp: Math.floor(now / 1000) + 60 });
    expect(await verifier.verify(token, now)).toMatchObject({ kind: 'ok', cached: false });
    expect(await verifier.verify(token, now + 500)).toMatchObject({ kind: 'ok', cached: false });
    expect(await verifier.verify(token, now + 1000)).toMatchObject({ kind: 'ok', cached: true });
    expect(reasonOf(await verifier.verify(token, now + 60_000 + 31_000))).toBe('jwt_expired');
    expect(reasonOf(await verifier.verify(token, now + 3_600_000))).toBe('jwt_expired');
    expect(server.hitCount(path)).toBe(1);
  });
});

describe('JwtVerifier: audience', () => {
  it('wrong aud → jwt_audience_mismatch', async () => {
    const { verifier } = verifierFor([key.publicJwk], { audiences: ['api'] });
    expect(
      reasonOf(await verifier.verify(await signToken(key, { iss: ISS, sub: 's', aud: 'other' }))),
    ).toBe('jwt_audience_mismatch');
    expect(
      reasonOf(
        await verifier.verify(await signToken(key, { iss: ISS, sub: 's', aud: ['x', 'y'] })),
      ),
    ).toBe('jwt_audience_mismatch');
  });

  it('missing aud when audiences are configured → jwt_audience_mismatch', async () => {
    const { verifier } = verifierFor([key.publicJwk], { audiences: ['api'] });
    expect(reasonOf(await verifier.verify(await signToken(key, { iss: ISS, sub: 's' })))).toBe(
      'jwt_audience_mismatch',
    );
  });
});

describe('JwtVerifier: issuer selection before any network I/O', () => {
  it.each([
    ['an unknown iss', { iss: 'https://evil.test' }],
    ['iss with a trailing slash', { iss: `${ISS}/` }],
    ['iss differing in case', { iss: ISS.toUpperCase() }],
    ['no iss', {}],
    ['a non-string iss', { iss: 42 }],
  ])('%s → jwt_issuer_unknown, JWKS never fetched', async (_name, claims) => {
    const { path, verifier } = verifierFor([key.publicJwk]);
    const r = await verifier.verify(
      await signToken(key, { sub: 's', ...(claims as Record<string, unknown>) }),
    );
    expect(reasonOf(r)).toBe('jwt_issuer_unknown');
    expect(server.hitCount(path)).toBe(0);
  });
});

describe('JwtVerifier: algorithms', () => {
  it('alg none with an empty signature → jwt_malformed; with any signature → jwt_alg_not_allowed; JWKS never fetched', async () => {
    const { path, verifier } = verifierFor([key.publicJwk]);
    const head = b64url({ alg: 'none', typ: 'JWT' });
    const body = b64url({ iss: ISS, sub: 'admin', exp: nowSec() + 600 });
    expect(reasonOf(await verifier.verify(`${head}.${body}.`))).toMatch(
      /^(jwt_malformed|jwt_alg_not_allowed)$/,
    );
    expect(reasonOf(await verifier.verify(`${head}.${body}.AAAA`))).toBe('jwt_alg_not_allowed');
    expect(reasonOf(await verifier.verify(`${b64url({ alg: 'NONE' })}.${body}.AAAA`))).toBe(
      'jwt_alg_not_allowed',
    );
    expect(server.hitCount(path)).toBe(0);
  });

  it('HS256 → jwt_alg_not_allowed, even when signed with the issuer public key bytes', async () => {
    const { path, verifier } = verifierFor([key.publicJwk]);
    const secrets = [
      new TextEncoder().encode('a-shared-secret-of-32-bytes-long'),
      new TextEncoder().encode(JSON.stringify(key.publicJwk)),
    ];
    for (const secret of secrets) {
      const token = await new SignJWT({ iss: ISS, sub: 'admin', exp: nowSec() + 600 })
        .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
        .sign(secret);
      expect(reasonOf(await verifier.verify(token))).toBe('jwt_alg_not_allowed');
    }
    expect(server.hitCount(path)).toBe(0);
  });

  it('a header without alg, or a non-string alg → jwt_alg_not_allowed', async () => {
    const { verifier } = verifierFor([key.publicJwk]);
    const body = b64url({ iss: ISS, sub: 's', exp: nowSec() + 600 });
    expect(reasonOf(await verifier.verify(`${b64url({ kid: 'k1' })}.${body}.AAAA`))).toBe(
      'jwt_alg_not_allowed',
    );
    expect(reasonOf(await verifier.verify(`${b64url({ alg: 256 })}.${body}.AAAA`))).toBe(
      'jwt_alg_not_allowed',
    );
  });

  it('honours a custom allowlist', async () => {
    const { path, verifier } = verifierFor([key.publicJwk], {}, { algorithms: ['RS256'] });
    expect(reasonOf(await verifier.verify(await signToken(key, { iss: ISS, sub: 's' })))).toBe(
      'jwt_alg_not_allowed',
    );
    expect(server.hitCount(path)).toBe(0);
  });
});

describe('JwtVerifier: signatures and keys', () => {
  it('a tampered signature → jwt_signature_invalid', async () => {
    const { verifier } = verifierFor([key.publicJwk]);
    const token = await signToken(key, { iss: ISS, sub: 's' });
    const [h, p, s] = token.split('.') as [string, string, string];
    const tampered = `${h}.${p}.${s[0] === 'A' ? 'B' : 'A'}${s.slice(1)}`;
    expect(reasonOf(await verifier.verify(tampered))).toBe('jwt_signature_invalid');
  });

  it('a tampered payload → jwt_signature_invalid', async () => {
    const { verifier } = verifierFor([key.publicJwk]);
    const token = await signToken(key, { iss: ISS, sub: 'alice' });
    const [h, , s] = token.split('.') as [string, string, string];
    const forged = `${h}.${b64url({ iss: ISS, sub: 'admin', exp: nowSec() + 600 })}.${s}`;
    expect(reasonOf(await verifier.verify(forged))).toBe('jwt_signature_invalid');
  });

  it('an unknown kid → jwt_signature_invalid', async () => {
    const { verifier } = verifierFor([key.publicJwk]);
    const other = await makeKey('k-unknown');
    expect(reasonOf(await verifier.verify(await signToken(other, { iss: ISS, sub: 's' })))).toBe(
      'jwt_signature_invalid',
    );
  });

  it('an attacker key that reuses the legitimate kid → jwt_signature_invalid', async () => {
    const { verifier } = verifierFor([key.publicJwk]);
    expect(
      reasonOf(await verifier.verify(await signToken(attacker, { iss: ISS, sub: 'admin' }))),
    ).toBe('jwt_signature_invalid');
  });

  it.each([
    ['with the legitimate kid', { kid: 'k1' }],
    ['without kid', { kid: undefined }],
  ])(
    'an embedded `jwk` header signed by an attacker key is rejected (%s)',
    async (_name, kidHeader) => {
      const { verifier } = verifierFor([key.publicJwk]);
      const { kid: _kid, alg: _alg, use: _use, ...bareJwk } = attacker.publicJwk;
      const token = await signToken(
        attacker,
        { iss: ISS, sub: 'admin' },
        { jwk: bareJwk, ...kidHeader },
      );
      expect(reasonOf(await verifier.verify(token))).toBe('jwt_signature_invalid');
    },
  );

  it('a `jku` header is never fetched', async () => {
    const { verifier } = verifierFor([key.publicJwk]);
    const evil = `/evil-jwks/${++routeSeq}`;
    server.route(evil, json({ keys: [attacker.publicJwk] }));
    const token = await signToken(
      attacker,
      { iss: ISS, sub: 'admin' },
      { jku: server.origin + evil, x5u: server.origin + evil },
    );
    expect(reasonOf(await verifier.verify(token))).toBe('jwt_signature_invalid');
    expect(server.hitCount(evil)).toBe(0);
  });

  it('kid collisions across issuers are harmless (one key store per issuer)', async () => {
    const a = await makeKey('shared');
    const b = await makeKey('shared');
    const ra = jwksRoute([a.publicJwk], {}, 'https://a.test');
    const rb = jwksRoute([b.publicJwk], {}, 'https://b.test');
    const verifier = new JwtVerifier({ issuers: [ra.config, rb.config] });
    expect(
      reasonOf(await verifier.verify(await signToken(b, { iss: 'https://a.test', sub: 's' }))),
    ).toBe('jwt_signature_invalid');
    expect(
      reasonOf(await verifier.verify(await signToken(b, { iss: 'https://b.test', sub: 's' }))),
    ).toBe('ok');
    expect(
      reasonOf(await verifier.verify(await signToken(a, { iss: 'https://a.test', sub: 's' }))),
    ).toBe('ok');
  });

  it('a failed verification is not cached as a success', async () => {
    const { verifier } = verifierFor([key.publicJwk]);
    const forged = await signToken(attacker, { iss: ISS, sub: 'admin' });
    expect(reasonOf(await verifier.verify(forged))).toBe('jwt_signature_invalid');
    expect(reasonOf(await verifier.verify(forged))).toBe('jwt_signature_invalid');
  });
});

describe('JwtVerifier: malformed tokens', () => {
  const body = b64url({ iss: ISS, sub: 's', exp: 9_999_999_999 });
  it.each([
    ['empty', ''],
    ['garbage', 'not-a-jwt'],
    ['two segments', `${b64url({ alg: 'ES256' })}.${body}`],
    ['four segments', `${b64url({ alg: 'ES256' })}.${body}.AAAA.AAAA`],
    ['empty payload', `${b64url({ alg: 'ES256' })}..AAAA`],
    ['padding', `${b64url({ alg: 'ES256' })}.${body}.AAAA=`],
    ['standard base64 characters', `${b64url({ alg: 'ES256' })}.${body}.AA+/`],
    ['whitespace', ` ${b64url({ alg: 'ES256' })}.${body}.AAAA`],
    ['header not JSON', `abc.${body}.AAAA`],
    ['header a JSON string', `${b64url('ES256')}.${body}.AAAA`],
    ['payload not JSON', `${b64url({ alg: 'ES256' })}.abc.AAAA`],
    ['payload a JSON array', `${b64url({ alg: 'ES256' })}.${b64url([1])}.AAAA`],
  ])('%s → jwt_malformed', async (_name, token) => {
    const { path, verifier } = verifierFor([key.publicJwk]);
    expect(reasonOf(await verifier.verify(token))).toBe('jwt_malformed');
    expect(server.hitCount(path)).toBe(0);
  });

  it('a validly signed token over 8 KiB → jwt_malformed, before any I/O', async () => {
    const { path, verifier } = verifierFor([key.publicJwk]);
    const token = await signToken(key, { iss: ISS, sub: 's', pad: 'x'.repeat(8 * 1024) });
    expect(token.length).toBeGreaterThan(8192);
    expect(reasonOf(await verifier.verify(token))).toBe('jwt_malformed');
    expect(server.hitCount(path)).toBe(0);
  });
});

describe('JwtVerifier: JWKS unavailable', () => {
  it.each([
    ['HTTP 500', json({ error: 'boom' }, 500)],
    ['HTTP 404', json({}, 404)],
    ['not JSON', (_req, res) => res.end('<html>')],
    ['not a JWKS', json({ nokeys: true })],
    ['a redirect', (_req, res) => res.writeHead(302, { location: '/jwks/1' }).end()],
  ])('JWKS answering %s → jwks_unavailable', async (_name, handler) => {
    const path = `/jwks-bad/${++routeSeq}`;
    server.route(path, handler);
    const verifier = new JwtVerifier({ issuers: [{ issuer: ISS, jwksUri: server.origin + path }] });
    const r = await verifier.verify(await signToken(key, { iss: ISS, sub: 's' }));
    expect(r).toMatchObject({ kind: 'fail', reason: 'jwks_unavailable', issuer: ISS });
    expect(server.hitCount(path)).toBeGreaterThanOrEqual(1);
  });

  it('JWKS server down → jwks_unavailable', async () => {
    const origin = await deadOrigin();
    const verifier = new JwtVerifier({ issuers: [{ issuer: ISS, jwksUri: `${origin}/jwks` }] });
    expect(reasonOf(await verifier.verify(await signToken(key, { iss: ISS, sub: 's' })))).toBe(
      'jwks_unavailable',
    );
  });
});

describe('JwtVerifier: OIDC discovery (no jwksUri)', () => {
  function discoveryIssuer(
    doc: (issuer: string, jwksUri: string) => unknown,
    trailingSlash = false,
  ) {
    const base = `/oidc/${++routeSeq}`;
    const issuer = `${server.origin}${base}${trailingSlash ? '/' : ''}`;
    const jwksPath = `${base}/keys`;
    const discoveryPath = `${base}/.well-known/openid-configuration`;
    server.route(jwksPath, json({ keys: [key.publicJwk] }));
    server.route(discoveryPath, json(doc(issuer, server.origin + jwksPath)));
    return {
      issuer,
      jwksPath,
      discoveryPath,
      verifier: new JwtVerifier({ issuers: [{ issuer }] }),
    };
  }

  it('finds jwks_uri through /.well-known/openid-configuration, once', async () => {
    const d = discoveryIssuer((issuer, jwks_uri) => ({ issuer, jwks_uri }));
    expect(
      reasonOf(await d.verifier.verify(await signToken(key, { iss: d.issuer, sub: 'a' }))),
    ).toBe('ok');
    expect(
      reasonOf(await d.verifier.verify(await signToken(key, { iss: d.issuer, sub: 'b' }))),
    ).toBe('ok');
    expect(server.hitCount(d.discoveryPath)).toBe(1);
    expect(server.hitCount(d.jwksPath)).toBe(1);
  });

  it('an issuer with a trailing slash discovers at <issuer without slash>/.well-known/…', async () => {
    const d = discoveryIssuer((issuer, jwks_uri) => ({ issuer, jwks_uri }), true);
    expect(d.issuer.endsWith('/')).toBe(true);
    expect(
      reasonOf(await d.verifier.verify(await signToken(key, { iss: d.issuer, sub: 'a' }))),
    ).toBe('ok');
  });

  it('a discovery document naming another issuer → jwks_unavailable, and its jwks_uri is not fetched', async () => {
    const d = discoveryIssuer((_issuer, jwks_uri) => ({ issuer: 'https://evil.test', jwks_uri }));
    expect(
      reasonOf(await d.verifier.verify(await signToken(key, { iss: d.issuer, sub: 'a' }))),
    ).toBe('jwks_unavailable');
    expect(server.hitCount(d.jwksPath)).toBe(0);
  });

  it('a discovery document without jwks_uri → jwks_unavailable', async () => {
    const d = discoveryIssuer((issuer) => ({ issuer }));
    expect(
      reasonOf(await d.verifier.verify(await signToken(key, { iss: d.issuer, sub: 'a' }))),
    ).toBe('jwks_unavailable');
  });

  it('a failed discovery fails fast for a cooldown, then is retried', async () => {
    const d = discoveryIssuer((issuer, jwks_uri) => ({ issuer, jwks_uri }));
    const good = json({ issuer: d.issuer, jwks_uri: `${server.origin}${d.jwksPath}` });
    server.route(d.discoveryPath, json({ error: 'down' }, 503));
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const token = await signToken(key, { iss: d.issuer, sub: 'a' });
      expect(reasonOf(await d.verifier.verify(token))).toBe('jwks_unavailable');
      server.route(d.discoveryPath, good);
      // within the cooldown: no request reaches the issuer
      expect(reasonOf(await d.verifier.verify(token))).toBe('jwks_unavailable');
      expect(server.hitCount(d.discoveryPath)).toBe(1);
      vi.setSystemTime(Date.now() + 6_000);
      expect(reasonOf(await d.verifier.verify(token, Date.now()))).toBe('ok');
      expect(server.hitCount(d.discoveryPath)).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('discovery server down → jwks_unavailable', async () => {
    const issuer = `${await deadOrigin()}/oidc`;
    const verifier = new JwtVerifier({ issuers: [{ issuer }] });
    expect(reasonOf(await verifier.verify(await signToken(key, { iss: issuer, sub: 'a' })))).toBe(
      'jwks_unavailable',
    );
  });
});

describe('JwtVerifier: failure details never contain the token or claim values', () => {
  it('holds for every failure reason', async () => {
    const SECRETS = [
      'SECRET-SUBJECT-7f3a',
      'SECRET-AUD-91bc',
      'SECRET-CLAIM-44de',
      'SECRET-KID-0a0a',
    ] as const;
    const { verifier } = verifierFor([key.publicJwk], { audiences: ['api'] });
    const down = new JwtVerifier({
      issuers: [{ issuer: ISS, jwksUri: `${await deadOrigin()}/jwks` }],
    });
    const claims = { iss: ISS, sub: SECRETS[0], aud: SECRETS[1], custom: SECRETS[2] };
    const goodAud = { ...claims, aud: 'api' };
    const tokens: [JwtVerifier, string][] = [
      [verifier, await signToken(key, { ...goodAud, exp: nowSec() - 3600 })],
      [verifier, await signToken(key, { ...goodAud, nbf: nowSec() + 3600 })],
      [verifier, await signToken(key, claims)],
      [verifier, await signToken(key, { ...goodAud, exp: undefined })],
      [verifier, await signToken(key, { ...goodAud, iss: `https://${SECRETS[2]}.test` })],
      [verifier, await signToken(attacker, goodAud)],
      [verifier, await signToken(attacker, goodAud, { kid: SECRETS[3] })],
      [verifier, `${b64url({ alg: 'HS256' })}.${b64url(goodAud)}.AAAA`],
      [verifier, `${b64url({ alg: 'ES256' })}.${b64url(goodAud)}`],
      [verifier, `${SECRETS[2]}.${SECRETS[0]}.${SECRETS[1]}`],
      [down, await signToken(key, goodAud)],
    ];
    const seen = new Set<string>();
    for (const [v, token] of tokens) {
      const r = await v.verify(token);
      expect(r.kind, token).toBe('fail');
      if (r.kind !== 'fail') continue;
      seen.add(r.reason);
      const text = JSON.stringify({ detail: r.detail, reason: r.reason });
      expect(text).not.toContain(token);
      for (const segment of token.split('.'))
        if (segment.length > 8) expect(text).not.toContain(segment);
      for (const s of SECRETS) expect(text).not.toContain(s);
    }
    expect([...seen].sort()).toEqual(
      [
        'jwks_unavailable',
        'jwt_alg_not_allowed',
        'jwt_audience_mismatch',
        'jwt_claims_invalid',
        'jwt_expired',
        'jwt_issuer_unknown',
        'jwt_malformed',
        'jwt_not_yet_valid',
        'jwt_signature_invalid',
      ].sort(),
    );
  });
});

describe('JwtVerifier: cache admission', () => {
  it('a token enters the cache on its second use; one-off tokens cannot evict a reused one', async () => {
    const { verifier } = verifierFor([key.publicJwk]);
    const hot = await signToken(key, { iss: ISS, sub: 'hot' });
    await verifier.verify(hot);
    await verifier.verify(hot);
    expect(await verifier.verify(hot)).toMatchObject({ kind: 'ok', cached: true });
    // 10,050 distinct valid tokens, each used once: more than the cache holds.
    const oneOff = await Promise.all(
      Array.from({ length: 10_050 }, (_, i) => signToken(key, { iss: ISS, sub: `s${i}` })),
    );
    for (const token of oneOff)
      expect(await verifier.verify(token)).toMatchObject({ kind: 'ok', cached: false });
    expect(await verifier.verify(hot)).toMatchObject({ kind: 'ok', cached: true });
    // The last one-off tokens are remembered as seen: their next use caches them.
    const last = oneOff.at(-1) as string;
    expect(await verifier.verify(last)).toMatchObject({ kind: 'ok', cached: false });
    expect(await verifier.verify(last)).toMatchObject({ kind: 'ok', cached: true });
  }, 60_000);

  it('a reused token whose cache entry lapsed (60 s) is cached again at once', async () => {
    const { verifier } = verifierFor([key.publicJwk]);
    const now = Date.now();
    const token = await signToken(key, { iss: ISS, sub: 's', exp: Math.floor(now / 1000) + 600 });
    await verifier.verify(token, now);
    expect(await verifier.verify(token, now + 1)).toMatchObject({ cached: false });
    expect(await verifier.verify(token, now + 2)).toMatchObject({ cached: true });
    expect(await verifier.verify(token, now + 61_000)).toMatchObject({ kind: 'ok', cached: false });
    expect(await verifier.verify(token, now + 61_001)).toMatchObject({ kind: 'ok', cached: true });
  });
});
