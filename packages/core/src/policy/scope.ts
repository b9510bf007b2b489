import type { PolicyMetadata } from './model.js';

/** The workload a guard protects, as far as policy scope is concerned. */
export interface WorkloadScope {
  namespace: string;
  labels: Record<string, string>;
  rootNamespace: string;
}

/**
 * Istio scope: a policy without `targetRef(s)` applies when it lives in the workload's namespace (or has none) or in the
 * root namespace (mesh-wide), and its `selector.matchLabels` are a subset of the workload's labels.
 */
export function appliesTo(
  doc: {
    metadata: PolicyMetadata;
    spec: { selector?: { matchLabels?: Record<string, string> }; targetRefs?: unknown[] };
  },
  workload: WorkloadScope,
): boolean {
  // Policies attached by targetRef(s) apply to gateways, waypoints or Services, never in-process.
  if (doc.spec.targetRefs !== undefined) return false;
  const ns = doc.metadata.namespace;
  if (ns !== undefined && ns !== workload.namespace && ns !== workload.rootNamespace) return false;
  const labels = doc.spec.selector?.matchLabels ?? {};
  return Object.entries(labels).every(([k, v]) => workload.labels[k] === v);
}
