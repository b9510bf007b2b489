import { UnsecuredJWT, type JWTClaimVerificationOptions, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { classify } from '../../src/jwt/failure-reason.js';
import { checkClaims, type ClaimChecks } from '../../src/jwt/token-claims.js';

const ISS = 'https://issuer.test';
const NOW_MS = 1_800_000_000_500; // half a second into a whole second: jose compares whole seconds
const NOW = Math.floor(NOW_MS / 1000);
const TOLERANCE = 30;

/** jose's own claim validation (UnsecuredJWT.decode runs the same checks as jwtVerify). */
function joseReason(payload: Record<string, unknown>, checks: ClaimChecks): string {
  const options: JWTClaimVerificationOptions = {
    clockTolerance: TOLERANCE,
    currentDate: new Date(NOW_MS),
    requiredClaims: [...checks.requiredClaims],
    ...(checks.issuer !== undefined ? { issuer: checks.issuer } : {}),
    ...(checks.audiences !== undefined ? { audience: [...checks.audiences] } : {}),
  };
  try {
    UnsecuredJWT.decode(new UnsecuredJWT(payload).encode(), options);
    return 'ok';
  } catch (error) {
    return classify(error).reason;
  }
}

/** As a token carries it: through JSON (`undefined` members are left out). */
const asJson = (payload: Record<string, unknown>): JWTPayload =>
  JSON.parse(JSON.stringify(payload)) as JWTPayload;

function ourReason(payload: Record<string, unknown>, checks: ClaimChecks): string {
  return checkClaims(checks, asJson(payload), NOW_MS, TOLERANCE)?.reason ?? 'ok';
}

const oidc: ClaimChecks = { issuer: ISS, audiences: ['api'], requiredClaims: ['exp'] };
const noAud: ClaimChecks = { issuer: ISS, audiences: undefined, requiredClaims: ['exp'] };
const profile: ClaimChecks = {
  issuer: ISS,
  audiences: ['api'],
  requiredClaims: ['exp', 'iss', 'sub', 'aud', 'iat', 'jti', 'client_id'],
};
const svid: ClaimChecks = { issuer: undefined, audiences: ['api'], requiredClaims: ['exp'] };
const good = { iss: ISS, aud: 'api', sub: 's', iat: NOW, exp: NOW + 600 };

// [name, checks, payload]: jose and meshless must give the same reason.
const PARITY: [string, ClaimChecks, Record<string, unknown>][] = [
  ['a good token', oidc, good],
  ['no exp', oidc, { ...good, exp: undefined }],
  ['exp a string', oidc, { ...good, exp: String(NOW + 600) }],
  ['exp exactly now - tolerance (expired)', oidc, { ...good, exp: NOW - TOLERANCE }],
  ['exp one second inside the tolerance', oidc, { ...good, exp: NOW - TOLERANCE + 1 }],
  ['exp a fraction', oidc, { ...good, exp: NOW + 0.5 }],
  ['nbf exactly now + tolerance', oidc, { ...good, nbf: NOW + TOLERANCE }],
  ['nbf one second past the tolerance', oidc, { ...good, nbf: NOW + TOLERANCE + 1 }],
  ['nbf and exp both failing (nbf first)', oidc, { ...good, nbf: NOW + 99, exp: NOW - 99 }],
  ['iat a string', oidc, { ...good, iat: 'yesterday' }],
  ['iat a string and expired (iat first)', oidc, { ...good, iat: 'x', exp: NOW - 99 }],
  ['no aud', oidc, { ...good, aud: undefined }],
  ['no aud and no exp (aud first)', oidc, { ...good, aud: undefined, exp: undefined }],
  ['aud another audience', oidc, { ...good, aud: 'other' }],
  ['aud an array with ours', oidc, { ...good, aud: ['other', 'api'] }],
  ['aud an array without ours', oidc, { ...good, aud: ['other'] }],
  ['aud a number', oidc, { ...good, aud: 7 }],
  ['aud null', oidc, { ...good, aud: null }],
  ['aud not checked without audiences', noAud, { ...good, aud: 'anything' }],
  ['no aud, not checked', noAud, { ...good, aud: undefined }],
  ['iss different', oidc, { ...good, iss: `${ISS}/` }],
  ['no iss', oidc, { ...good, iss: undefined }],
  ['JWT-SVID rule: no iss check', svid, { ...good, iss: undefined }],
  ['profile: all present', profile, { ...good, jti: 'j', client_id: 'c' }],
  ['profile: no jti', profile, { ...good, client_id: 'c' }],
  ['profile: no client_id and no jti (last listed first)', profile, good],
  ['profile: no sub', profile, { ...good, sub: undefined, jti: 'j', client_id: 'c' }],
  ['profile: no iat', profile, { ...good, iat: undefined, jti: 'j', client_id: 'c' }],
  ['exp null', oidc, { ...good, exp: null }],
];

describe('checkClaims: the same answers as jose', () => {
  it.each(PARITY)('%s', (_name, checks, payload) => {
    const expected = joseReason(payload, checks);
    expect(ourReason(payload, checks)).toBe(expected);
  });

  it('the table covers refusals of every kind, not only accepted tokens', () => {
    const reasons = new Set(PARITY.map(([, checks, payload]) => joseReason(payload, checks)));
    expect([...reasons].sort()).toEqual([
      'jwt_audience_mismatch',
      'jwt_claims_invalid',
      'jwt_expired',
      'jwt_not_yet_valid',
      'ok',
    ]);
  });
});

describe('checkClaims: where meshless is stricter or more precise than jose', () => {
  it('iat more than the tolerance in the future is refused (jose accepts it)', () => {
    const payload = { ...good, iat: NOW + TOLERANCE + 1 };
    expect(joseReason(payload, oidc)).toBe('ok');
    expect(checkClaims(oidc, payload, NOW_MS, TOLERANCE)).toEqual({
      reason: 'jwt_claims_invalid',
      detail: 'claim iat is in the future',
    });
    expect(ourReason({ ...good, iat: NOW + TOLERANCE }, oidc)).toBe('ok');
  });

  it('a non-numeric nbf is an invalid claim, not a token that is not yet valid', () => {
    const payload = { ...good, nbf: 'tomorrow' };
    expect(joseReason(payload, oidc)).toBe('jwt_not_yet_valid');
    expect(checkClaims(oidc, asJson(payload), NOW_MS, TOLERANCE)).toEqual({
      reason: 'jwt_claims_invalid',
      detail: 'claim nbf failed validation',
    });
  });

  it('details name the claim and never carry its value', () => {
    const failure = checkClaims(oidc, asJson({ ...good, exp: 'secret-value' }), NOW_MS, TOLERANCE);
    expect(failure).toEqual({
      reason: 'jwt_claims_invalid',
      detail: 'claim exp failed validation',
    });
  });
});
