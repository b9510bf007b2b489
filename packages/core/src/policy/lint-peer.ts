/**
 * Lint rules for PeerAuthentication.
 *
 * Istio "Security Best Practices", section "Mutual TLS"
 * (https://istio.io/latest/docs/ops/best-practices/security/#mutual-tls): permissive mode accepts
 * plaintext as well as mutual TLS and weakens the security stance; migrate to strict mode.
 * Modes: istio-semantics.md §8; decision to lint it: §11 item 7 ("PERMISSIVE anywhere").
 */
import type { LintEmit } from './lint.js';
import type { PeerAuthentication } from './model.js';

function scopeOf(doc: PeerAuthentication): string {
  if (doc.spec.selector?.matchLabels && Object.keys(doc.spec.selector.matchLabels).length > 0)
    return 'the selected workloads';
  return doc.metadata.namespace === undefined
    ? 'the namespace'
    : `namespace ${doc.metadata.namespace} (mesh-wide if it is the root namespace)`;
}

/** `PERMISSIVE` in `spec.mtls.mode` or in any `portLevelMtls` entry. */
export function lintPeerAuthentication(doc: PeerAuthentication, emit: LintEmit): void {
  if (doc.spec.mtls?.mode === 'PERMISSIVE')
    emit(
      'lint_permissive',
      'warning',
      'spec.mtls.mode',
      `PERMISSIVE lets plaintext peers without any identity reach ${scopeOf(doc)}, so identity-based rules cannot hold for them; switch to STRICT once every client sends mTLS.`,
    );
  for (const [port, { mode }] of Object.entries(doc.spec.portLevelMtls ?? {}))
    if (mode === 'PERMISSIVE')
      emit(
        'lint_permissive',
        'warning',
        `spec.portLevelMtls["${port}"].mode`,
        `PERMISSIVE on port ${port} lets plaintext peers without any identity connect to that port; switch it to STRICT (or UNSET to inherit a STRICT mode) once every client sends mTLS.`,
      );
}
