/**
 * The policy linter: reports the known Istio pitfalls in a loaded policy set as findings
 * (warnings or notes, never load errors). meshless evaluates policies faithfully to Istio, traps
 * included; the linter is where it says so (istio-semantics.md §11, items 2 and 7).
 */
import { lintAuthorizationPolicy } from './lint-authz.js';
import { lintPeerAuthentication } from './lint-peer.js';
import type { PolicyMetadata, PolicySet } from './model.js';

/** Every stable lint code. Match on `code`, never on `message`: codes are the contract. */
export type LintCode =
  /** A `*` that Istio compares literally (not first or last character). */
  | 'lint_middle_wildcard'
  /** A principal written with `spiffe://`: Istio adds the scheme itself, so it never matches. */
  | 'lint_spiffe_scheme'
  /** An exact host without a port in a DENY `hosts` (or an ALLOW `notHosts`): `Host` may carry a port. */
  | 'lint_exact_host'
  /** DENY with `paths`: any path spelling the policy does not list escapes it. */
  | 'lint_deny_paths'
  /** ALLOW with `notPaths`: any path spelling the policy does not list is allowed. */
  | 'lint_allow_not_paths'
  /** A field that needs a peer identity while the effective mTLS mode is not STRICT. */
  | 'lint_mtls_field_without_strict'
  /** A PeerAuthentication (or one of its ports) in PERMISSIVE mode. */
  | 'lint_permissive'
  /** An empty rule in an ALLOW policy: it allows every request. */
  | 'lint_allow_all'
  /** A policy without rules: ALLOW denies everything, any other action never matches. */
  | 'lint_no_rules'
  /** A principal admitting every service account of a namespace. */
  | 'lint_namespace_wide_principal'
  /** A `notX` in an ALLOW policy that is true when the attribute is missing (no mTLS, no token). */
  | 'lint_not_field_allow';

/** One lint finding. Messages name policy values (paths, hosts, principals), never secrets. */
export interface LintFinding {
  code: LintCode;
  severity: 'warning' | 'info';
  /** `namespace/name` (just `name` when neither the policy nor the context gives a namespace). */
  policy: string;
  kind: 'AuthorizationPolicy' | 'PeerAuthentication' | 'RequestAuthentication';
  /** Field path inside the document, e.g. `spec.rules[0].from[0].source.principals[1]`. */
  path: string;
  /** One sentence: the risk and the fix. */
  message: string;
}

/** What the linter knows about the workload the policies protect. */
export interface LintContext {
  /**
   * The composed effective PeerAuthentication mode of the workload (see
   * `composePeerAuthentication`). When absent, mTLS-dependent findings that need it are skipped.
   */
  mtlsMode?: 'STRICT' | 'PERMISSIVE' | 'DISABLE';
  /** Namespace of policies without `metadata.namespace` (the workload's namespace). */
  namespace?: string;
}

/** Reports one finding for the document being linted (policy name and kind already bound). */
export type LintEmit = (
  code: LintCode,
  severity: LintFinding['severity'],
  path: string,
  message: string,
) => void;

function policyName(metadata: PolicyMetadata, context: LintContext): string {
  const ns = metadata.namespace ?? context.namespace;
  return ns === undefined ? metadata.name : `${ns}/${metadata.name}`;
}

/** Compares `a[2]` with `a[10]` numerically, so paths sort as a reader expects. */
function comparePaths(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

function compareFindings(a: LintFinding, b: LintFinding): number {
  if (a.policy !== b.policy) return a.policy < b.policy ? -1 : 1;
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  const byPath = comparePaths(a.path, b.path);
  if (byPath !== 0) return byPath;
  return a.code < b.code ? -1 : a.code > b.code ? 1 : 0;
}

/**
 * Lints a policy set for the known Istio pitfalls: literal `*`, `spiffe://` principals, exact
 * hosts in DENY, DENY with `paths` / ALLOW with `notPaths`, identity fields without STRICT mTLS,
 * PERMISSIVE mode, allow-all and rule-less policies, namespace-wide principals and `notX` fields in
 * ALLOW that match a missing attribute. Findings never change how policies are evaluated.
 *
 * Findings are sorted by policy (then kind), then path, then code, so the output is stable.
 *
 * @param policies - The set returned by `loadPolicies` (or `mergePolicySets`).
 * @param context - The workload's effective mTLS mode and namespace, when known.
 * @example
 * ```ts
 * const set = loadPolicies(fs.readFileSync('policies.yaml', 'utf8'));
 * for (const f of lintPolicies(set, { mtlsMode: 'STRICT' }))
 *   console.warn(`${f.policy} ${f.path}: ${f.message} [${f.code}]`);
 * ```
 */
export function lintPolicies(policies: PolicySet, context: LintContext = {}): LintFinding[] {
  const findings: LintFinding[] = [];
  const emitterFor =
    (kind: LintFinding['kind'], metadata: PolicyMetadata): LintEmit =>
    (code, severity, path, message) =>
      findings.push({ code, severity, policy: policyName(metadata, context), kind, path, message });
  for (const p of policies.authorizationPolicies)
    lintAuthorizationPolicy(p, context, emitterFor('AuthorizationPolicy', p.metadata));
  for (const p of policies.peerAuthentications ?? [])
    lintPeerAuthentication(p, emitterFor('PeerAuthentication', p.metadata));
  // RequestAuthentication: no finding yet (its traps are load errors or need a token to see).
  return findings.sort(compareFindings);
}
