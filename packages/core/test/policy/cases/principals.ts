/**
 * Istio `principals` / `notPrincipals` / `namespaces` cases: the peer's SPIFFE ID from its
 * verified X.509-SVID. Citation labels: see ./types.ts.
 *
 * The mesh these run in: trust domain `example.org`, alias `old.example` (policy/helpers.ts CTX).
 */

/** [principal value, peer SPIFFE ID (undefined: no peer identity), expected, ref]. */
export type PrincipalCase = [
  value: string,
  principal: string | undefined,
  expected: boolean,
  ref: string,
];

const ID = 'spiffe://example.org/ns/x/sa/y';

export const PRINCIPAL_CASES: PrincipalCase[] = [
  // [PROTO] principals: "<TRUST_DOMAIN>/ns/<NAMESPACE>/sa/<SERVICE_ACCOUNT>", exact match.
  ['example.org/ns/x/sa/y', ID, true, 'PROTO'],
  // [TDMIG] the mesh trust domain, cluster.local and the aliases all mean "this mesh".
  ['example.org/ns/x/sa/y', 'spiffe://old.example/ns/x/sa/y', true, 'TDMIG'],
  // [TDMIG] an alias in the policy matches the current trust domain.
  ['old.example/ns/x/sa/y', ID, true, 'TDMIG'],
  // [TDMIG] "cluster.local" in a policy is the mesh's own trust domain.
  ['cluster.local/ns/x/sa/y', ID, true, 'TDMIG'],
  // [TDMIG] cluster.local is expanded to the aliases too.
  ['cluster.local/ns/x/sa/y', 'spiffe://old.example/ns/x/sa/y', true, 'TDMIG'],
  // [TDMIG] cluster.local is replaced (not kept) when the mesh trust domain is another one.
  ['cluster.local/ns/x/sa/y', 'spiffe://cluster.local/ns/x/sa/y', false, 'TDMIG'],
  // [TDMIG] a foreign trust domain is not the mesh.
  ['cluster.local/ns/x/sa/y', 'spiffe://other.org/ns/x/sa/y', false, 'TDMIG'],
  // [PROTO] exact match: another service account does not match.
  ['cluster.local/ns/x/sa/y', 'spiffe://example.org/ns/x/sa/y2', false, 'PROTO'],
  // [PROTO] exact match: extra segments do not match.
  ['cluster.local/ns/x/sa/y', 'spiffe://example.org/ns/x/sa/y/z', false, 'PROTO'],
  // [MODEL] string matchers are case-sensitive.
  ['example.org/ns/x/sa/y', 'spiffe://example.org/ns/x/sa/Y', false, 'MODEL'],
  // [TDMIG] a foreign trust domain is not expanded.
  ['other.org/ns/x/sa/y', 'spiffe://other.org/ns/x/sa/y', true, 'TDMIG'],
  // [TDMIG] a foreign trust domain does not match the mesh's IDs.
  ['other.org/ns/x/sa/y', ID, false, 'TDMIG'],
  // [TDMIG] only `<td>/ns/<ns>/sa/<sa>` (5 segments) is expanded: left as is otherwise.
  ['cluster.local/ns/x/sa/y/extra', 'spiffe://example.org/ns/x/sa/y/extra', false, 'TDMIG'],
  // [TDMIG] not expanded, so it matches the literal cluster.local ID.
  ['cluster.local/ns/x/sa/y/extra', 'spiffe://cluster.local/ns/x/sa/y/extra', true, 'TDMIG'],
  // [MODEL] the matcher prepends `spiffe://`: a value that carries the scheme never matches.
  ['spiffe://example.org/ns/x/sa/y', ID, false, 'MODEL'],
  // [MODEL] same, with cluster.local.
  ['spiffe://cluster.local/ns/x/sa/y', ID, false, 'MODEL'],
  // [MODEL] same, with a prefix.
  ['spiffe://*', ID, false, 'MODEL'],
  // [REF] `*`: presence match, any (non-empty) principal.
  ['*', ID, true, 'REF'],
  // [REF] `*` needs a peer identity (plaintext never matches).
  ['*', undefined, false, 'REF'],
  // [REF] prefix match `abc*`: raw, not segment-aware.
  ['example.org/ns/x*', ID, true, 'REF'],
  // [REF] prefix match crosses segment boundaries.
  ['example.org/ns/x*', 'spiffe://example.org/ns/xyz/sa/a', true, 'REF'],
  // [TDMIG] a prefix value is not expanded to the aliases.
  ['example.org/ns/x*', 'spiffe://old.example/ns/x/sa/y', false, 'TDMIG'],
  // CVE-2020-16844: suffix `*x` compiles to `spiffe://.*x`.
  ['*/sa/y', ID, true, 'CVE-2020-16844'],
  // CVE-2020-16844: any trust domain matches a suffix.
  ['*/sa/y', 'spiffe://evil.org/ns/z/sa/y', true, 'CVE-2020-16844'],
  // CVE-2020-16844: an ID that does not start with spiffe:// never matches.
  ['*/sa/y', 'https://example.org/ns/x/sa/y', false, 'CVE-2020-16844'],
  // CVE-2020-16844: same, without any scheme.
  ['*/sa/y', 'example.org/ns/x/sa/y', false, 'CVE-2020-16844'],
  // CVE-2020-16844: the suffix cannot overlap `spiffe://`.
  ['*/sa/y', 'spiffe:/sa/y', false, 'CVE-2020-16844'],
  // CVE-2020-16844: suffix without a leading slash.
  ['*sa/y', ID, true, 'CVE-2020-16844'],
  // CVE-2020-16844: suffix that includes the trust domain tail.
  ['*.org/ns/x/sa/y', ID, true, 'CVE-2020-16844'],
  // CVE-2020-16844: another trust domain with the same tail matches.
  ['*.org/ns/x/sa/y', 'spiffe://evil.org/ns/x/sa/y', true, 'CVE-2020-16844'],
  // CVE-2020-16844: the alias does not end with `.org`.
  ['*.org/ns/x/sa/y', 'spiffe://old.example/ns/x/sa/y', false, 'CVE-2020-16844'],
  // [REF] only a leading or trailing `*` is a wildcard: a middle `*` is a literal.
  ['example.org/ns/*/sa/y', ID, false, 'REF'],
];

export const NOT_PRINCIPAL_CASES: PrincipalCase[] = [
  // [TDMIG] notPrincipals are expanded like principals: excludes the mesh ID.
  ['cluster.local/ns/x/sa/y', ID, false, 'TDMIG'],
  // [TDMIG] excludes the alias ID too.
  ['cluster.local/ns/x/sa/y', 'spiffe://old.example/ns/x/sa/y', false, 'TDMIG'],
  // [PROTO] notPrincipals: other identities pass.
  ['cluster.local/ns/x/sa/y', 'spiffe://example.org/ns/x/sa/z', true, 'PROTO'],
  // ISTIO-SECURITY-2021-004: a missing identity makes notPrincipals true.
  ['*', undefined, true, 'ISTIO-SECURITY-2021-004'],
  // [REF] notPrincipals ["*"] excludes every peer identity.
  ['*', ID, false, 'REF'],
];

/** [namespace value, peer SPIFFE ID, expected, ref]. */
export const NAMESPACE_CASES: PrincipalCase[] = [
  // [MODEL] namespaces compile to the regex `.*/ns/<v>/.*` over the peer ID.
  ['x', 'spiffe://example.org/ns/x/sa/y', true, 'MODEL'],
  // [MODEL] any trust domain.
  ['x', 'spiffe://other.org/ns/x/sa/y', true, 'MODEL'],
  // [MODEL] the namespace is a whole segment (not a prefix).
  ['x', 'spiffe://example.org/ns/xy/sa/y', false, 'MODEL'],
  // [MODEL] not a suffix either.
  ['x', 'spiffe://example.org/ns/yx/sa/y', false, 'MODEL'],
  // [MODEL] case-sensitive.
  ['x', 'spiffe://example.org/ns/X/sa/y', false, 'MODEL'],
  // [MODEL] the `/ns/` segment is required.
  ['x', 'spiffe://example.org/x/sa/y', false, 'MODEL'],
  // [PROTO] namespaces come from the peer certificate: none without one.
  ['x', undefined, false, 'PROTO'],
  // [REF] prefix match.
  ['foo*', 'spiffe://example.org/ns/foobar/sa/y', true, 'REF'],
  // [REF] a prefix matches the prefix itself.
  ['foo*', 'spiffe://example.org/ns/foo/sa/y', true, 'REF'],
  // CVE-2020-16844: suffix match on namespaces.
  ['*bar', 'spiffe://example.org/ns/foobar/sa/y', true, 'CVE-2020-16844'],
  // [MODEL] generator.go replaces every `*` of a namespace with `.*`: a middle `*` matches any run.
  ['a*c', 'spiffe://example.org/ns/abbc/sa/y', true, 'MODEL'],
  // [MODEL] the middle wildcard still needs the literal ends.
  ['a*c', 'spiffe://example.org/ns/abbd/sa/y', false, 'MODEL'],
  // [REF] `*`: presence match.
  ['*', 'spiffe://example.org/ns/any/sa/y', true, 'REF'],
  // [REF] `*` needs a peer identity.
  ['*', undefined, false, 'REF'],
  // [MODEL] literals are regex-escaped: a dot is a dot.
  ['x.y', 'spiffe://example.org/ns/x.y/sa/s', true, 'MODEL'],
  // [MODEL] a dot is not a wildcard.
  ['x.y', 'spiffe://example.org/ns/xzy/sa/s', false, 'MODEL'],
  // [MODEL] `+` is not a quantifier.
  ['a+', 'spiffe://example.org/ns/aa/sa/s', false, 'MODEL'],
  // [MODEL] `+` matches itself.
  ['a+', 'spiffe://example.org/ns/a+/sa/s', true, 'MODEL'],
];
