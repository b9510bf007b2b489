/**
 * Istio `requestPrincipals` cases: `<iss>/<sub>` of the verified JWT, the value split at its last
 * `/` into an issuer pattern and a subject pattern. Citation labels: see ./types.ts.
 */

/** [value, what, token iss (undefined: no token), token sub (undefined: no `sub`), expected, ref]. */
export type RequestPrincipalCase = [
  value: string,
  what: string,
  iss: string | undefined,
  sub: string | undefined,
  expected: boolean,
  ref: string,
];

export const RP_ISSUER = 'https://a.example';
const A = RP_ISSUER;

export const REQUEST_PRINCIPAL_CASES: RequestPrincipalCase[] = [
  // [REF] `*`: presence match, a non-empty iss and a non-empty sub.
  ['*', 'any iss and sub', 'i', 's', true, 'REF'],
  // [MODEL] `*` is iss `*` and sub `*`: a token without `sub` does not match.
  ['*', 'no sub claim', 'i', undefined, false, 'MODEL'],
  // [MODEL] an empty sub is not present.
  ['*', 'empty sub', 'i', '', false, 'MODEL'],
  // [REF] no token: no request principal.
  ['*', 'no token', undefined, undefined, false, 'REF'],
  // [PROTO] requestPrincipals: "<ISS>/<SUB>", exact match.
  [`${A}/alice`, 'exact', A, 'alice', true, 'PROTO'],
  // [PROTO] another subject.
  [`${A}/alice`, 'other sub', A, 'bob', false, 'PROTO'],
  // [MODEL] the subject is matched exactly, not as a prefix.
  [`${A}/alice`, 'sub prefix', A, 'alice2', false, 'MODEL'],
  // [PROTO] another issuer.
  [`${A}/alice`, 'other iss', 'https://b.example', 'alice', false, 'PROTO'],
  // [MODEL] the issuer is matched exactly (a trailing slash differs).
  [`${A}/alice`, 'iss with trailing slash', `${A}/`, 'alice', false, 'MODEL'],
  // [MODEL] `iss/*`: exact iss, non-empty sub.
  [`${A}/*`, 'any sub', A, 'x', true, 'MODEL'],
  // [MODEL] `iss/*` needs a sub.
  [`${A}/*`, 'no sub', A, undefined, false, 'MODEL'],
  // [MODEL] split at the last `/`: an iss under the issuer URL is another issuer.
  [`${A}/*`, 'issuer confusion: iss under the issuer URL', `${A}/tenant2`, 'x', false, 'MODEL'],
  // [MODEL] a sub that looks like a path does not move the split.
  [
    `${A}/*`,
    'issuer confusion with a sub that looks like a path',
    `${A}/tenant2`,
    'tenant2/x',
    false,
    'MODEL',
  ],
  // [MODEL] the iss is exact, not a prefix.
  [`${A}/*`, 'iss prefix-extends the issuer', `${A}.evil`, 'x', false, 'MODEL'],
  // [REF] prefix match on the sub part.
  [`${A}/svc-*`, 'sub prefix', A, 'svc-billing', true, 'REF'],
  // [REF] sub without the prefix.
  [`${A}/svc-*`, 'sub without prefix', A, 'user-1', false, 'REF'],
  // [REF] a prefix matches the prefix itself.
  [`${A}/svc-*`, 'sub equal to prefix', A, 'svc-', true, 'REF'],
  // [REF] suffix match on the iss part, exact sub.
  ['*.example/alice', 'iss suffix', A, 'alice', true, 'REF'],
  // [REF] iss suffix, other sub.
  ['*.example/alice', 'iss suffix, other sub', A, 'bob', false, 'REF'],
  // [REF] iss without the suffix.
  ['*.example/alice', 'iss without suffix', 'https://a.example.evil', 'alice', false, 'REF'],
  // [MODEL] `*/sub`: any iss, exact sub.
  ['*/alice', 'any iss', 'whatever', 'alice', true, 'MODEL'],
  // [MODEL] `*/sub`: other sub.
  ['*/alice', 'other sub', 'whatever', 'bob', false, 'MODEL'],
  // [REF] no token.
  ['*/alice', 'no token', undefined, undefined, false, 'REF'],
  // [MODEL] `pre*` without `/`: iss prefix, non-empty sub.
  ['issuer-*', 'iss prefix', 'issuer-foo', 's', true, 'MODEL'],
  // [MODEL] `pre*` without `/` needs a sub.
  ['issuer-*', 'iss prefix but no sub', 'issuer-foo', undefined, false, 'MODEL'],
  // [MODEL] iss without the prefix.
  ['issuer-*', 'iss without prefix', 'issue', 's', false, 'MODEL'],
  // [MODEL] `*x` without `/`: non-empty iss, sub suffix.
  ['*-bob', 'sub suffix', 'i', 'alice-bob', true, 'MODEL'],
  // [MODEL] sub without the suffix.
  ['*-bob', 'sub without suffix', 'i', 'bob-alice', false, 'MODEL'],
  // [MODEL] the suffix is on the sub, not the iss.
  ['*-bob', 'suffix on iss only', 'x-bob', 'alice', false, 'MODEL'],
  // [MODEL] `x` without `/`: exact iss, empty sub.
  ['issuer', 'exact iss, no sub', 'issuer', undefined, true, 'MODEL'],
  // [MODEL] an empty sub is the empty sub part.
  ['issuer', 'exact iss, empty sub', 'issuer', '', true, 'MODEL'],
  // [MODEL] a sub makes `<iss>/<sub>` differ from `issuer`.
  ['issuer', 'exact iss, a sub', 'issuer', 's', false, 'MODEL'],
  // [MODEL] another iss.
  ['issuer', 'other iss', 'issuer2', undefined, false, 'MODEL'],
  // [MODEL] the split is at the LAST `/`: a sub containing `/` cannot be matched exactly.
  [`${A}/team/alice`, 'sub with a slash', A, 'team/alice', false, 'MODEL'],
  // [MODEL] read as iss `.../team`, sub `alice`.
  [`${A}/team/alice`, 'read as iss .../team', `${A}/team`, 'alice', true, 'MODEL'],
];
