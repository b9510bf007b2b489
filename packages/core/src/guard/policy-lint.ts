import { lintPolicies, type LintFinding } from '../policy/lint.js';
import type { PolicySet } from '../policy/model.js';
import type { ComposedPeerAuthentication } from '../policy/peer-authentication.js';
import { appliesTo, type WorkloadScope } from '../policy/scope.js';

const STRENGTH = { DISABLE: 0, PERMISSIVE: 1, STRICT: 2 } as const;

/**
 * Lints the policies that apply to this workload, once, when the guard is built. The mTLS mode
 * given to the linter is the weakest the workload accepts on any port (a field that needs a peer
 * identity is worth a warning if any port can be reached without one).
 */
export function lintWorkloadPolicies(
  policies: PolicySet,
  scope: WorkloadScope,
  composed: ComposedPeerAuthentication,
): LintFinding[] {
  let mode = composed.mode;
  for (const portMode of composed.perPort.values())
    if (STRENGTH[portMode] < STRENGTH[mode]) mode = portMode;
  const applying: PolicySet = {
    authorizationPolicies: policies.authorizationPolicies.filter((p) => appliesTo(p, scope)),
    requestAuthentications: policies.requestAuthentications.filter((r) => appliesTo(r, scope)),
    peerAuthentications: (policies.peerAuthentications ?? []).filter((p) => appliesTo(p, scope)),
  };
  return lintPolicies(applying, { mtlsMode: mode, namespace: scope.namespace });
}

/**
 * The default report of lint findings: one Node process warning per finding
 * (`MeshlessPolicyWarning`, the finding's code as the warning code), printed once to stderr and
 * observable with `process.on('warning', …)`. Info findings are not reported.
 */
export function emitLintWarnings(findings: readonly LintFinding[]): void {
  for (const f of findings) {
    if (f.severity !== 'warning') continue;
    process.emitWarning(`${f.kind} ${f.policy} ${f.path}: ${f.message}`, {
      type: 'MeshlessPolicyWarning',
      code: f.code,
    });
  }
}
