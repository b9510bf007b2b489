/**
 * Istio `PeerAuthentication` (security.istio.io/v1, v1beta1): loading and composition.
 *
 * Validation follows `ValidatePeerAuthentication` (istio/istio `pkg/config/validation`); composition
 * follows `ComposePeerAuthentication` (istio/istio `pilot/pkg/security/authn`), see
 * istio-semantics.md §8.
 */
import { PolicyError } from '../errors.js';
import type { PeerAuthentication, PeerAuthenticationMode } from './model.js';
import type { WorkloadScope } from './scope.js';
import {
  at,
  expectObject,
  onlyKeys,
  validateMetadata,
  validateSelector,
  type Loc,
} from './validate.js';

const MODES: readonly PeerAuthenticationMode[] = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'];

/** A mode that decides: UNSET resolved through inheritance. */
export type EffectiveMtlsMode = Exclude<PeerAuthenticationMode, 'UNSET'>;

function validateMutualTls(raw: unknown, loc: Loc): { mode: PeerAuthenticationMode } {
  const obj = expectObject(raw, loc);
  onlyKeys(obj, ['mode'], loc);
  const mode = obj['mode'] ?? 'UNSET';
  if (typeof mode !== 'string' || !MODES.includes(mode as PeerAuthenticationMode))
    throw new PolicyError(
      'ERR_POLICY_VALUE',
      'mode must be UNSET, DISABLE, PERMISSIVE or STRICT',
      at(loc, 'mode'),
    );
  return { mode: mode as PeerAuthenticationMode };
}

function validateCreationTimestamp(raw: unknown, loc: Loc): string {
  const time =
    raw instanceof Date ? raw.getTime() : typeof raw === 'string' ? Date.parse(raw) : NaN;
  if (Number.isNaN(time))
    throw new PolicyError('ERR_POLICY_VALUE', 'must be an RFC 3339 timestamp', loc);
  return new Date(time).toISOString();
}

/** Validates one `kind: PeerAuthentication` document (apiVersion and kind already checked). */
export function validatePeerAuthentication(
  doc: Record<string, unknown>,
  loc: Loc,
): PeerAuthentication {
  const spec = expectObject(doc['spec'] ?? {}, at(loc, 'spec'));
  const sloc = at(loc, 'spec');
  onlyKeys(spec, ['selector', 'mtls', 'portLevelMtls'], sloc);
  const mloc = at(loc, 'metadata');
  const out: PeerAuthentication = {
    kind: 'PeerAuthentication',
    metadata: validateMetadata(doc['metadata'], mloc),
    spec: {},
  };
  const created = (doc['metadata'] as Record<string, unknown>)['creationTimestamp'];
  if (created !== undefined && created !== null)
    out.metadata.creationTimestamp = validateCreationTimestamp(
      created,
      at(mloc, 'creationTimestamp'),
    );
  if (spec['selector'] !== undefined)
    out.spec.selector = validateSelector(spec['selector'], at(sloc, 'selector'));
  if (spec['mtls'] !== undefined) out.spec.mtls = validateMutualTls(spec['mtls'], at(sloc, 'mtls'));
  if (spec['portLevelMtls'] !== undefined) {
    const ploc = at(sloc, 'portLevelMtls');
    const ports = expectObject(spec['portLevelMtls'], ploc);
    if (Object.keys(out.spec.selector?.matchLabels ?? {}).length === 0)
      throw new PolicyError(
        'ERR_POLICY_VALUE',
        'mesh/namespace peer authentication cannot have port level mTLS (set a selector)',
        ploc,
      );
    if (Object.keys(ports).length === 0)
      throw new PolicyError(
        'ERR_POLICY_VALUE',
        'port level mTLS, if defined, must have at least one element',
        ploc,
      );
    const portLevelMtls: Record<string, { mode: PeerAuthenticationMode }> = {};
    for (const [port, value] of Object.entries(ports)) {
      const n = /^[0-9]{1,5}$/.test(port) ? Number(port) : NaN;
      if (!(n >= 1 && n <= 65535))
        throw new PolicyError(
          'ERR_POLICY_VALUE',
          'port must be a number from 1 to 65535',
          at(ploc, port),
        );
      portLevelMtls[String(n)] = validateMutualTls(value, at(ploc, port));
    }
    out.spec.portLevelMtls = portLevelMtls;
  }
  return out;
}

/** The composed PeerAuthentication of one workload (Istio `MergedPeerAuthentication`). */
export interface ComposedPeerAuthentication {
  /** The workload-wide mode. */
  mode: EffectiveMtlsMode;
  /** Destination port → mode, from the workload policy's `portLevelMtls`. */
  perPort: ReadonlyMap<number, EffectiveMtlsMode>;
}

/**
 * Istio's `getOldestPeerAuthn`: the oldest `creationTimestamp` wins. A document without one counts
 * as created now (newer than every dated one, as `kubectl apply` would stamp it); ties fall to the
 * namespace/name order.
 */
function oldest(docs: readonly PeerAuthentication[]): PeerAuthentication | undefined {
  const time = (d: PeerAuthentication): number =>
    d.metadata.creationTimestamp === undefined
      ? Infinity
      : Date.parse(d.metadata.creationTimestamp);
  const key = (d: PeerAuthentication): string => `${d.metadata.namespace ?? ''}/${d.metadata.name}`;
  let best: PeerAuthentication | undefined;
  for (const doc of docs) {
    if (
      best === undefined ||
      time(doc) < time(best) ||
      (time(doc) === time(best) && key(doc) < key(best))
    )
      best = doc;
  }
  return best;
}

const modeOf = (doc: PeerAuthentication | undefined): PeerAuthenticationMode =>
  doc?.spec.mtls?.mode ?? 'UNSET';

/**
 * Istio `ComposePeerAuthentication`: mesh-wide (root namespace, no selector) < namespace-wide
 * (workload namespace, no selector) < workload (selector matching the workload's labels; selector
 * policies in the root namespace are ignored). The narrowest non-UNSET mode wins; UNSET inherits.
 * Istio's top-level default is PERMISSIVE; meshless uses `defaultMode` (the guard's `mtls.mode`,
 * STRICT unless set). `portLevelMtls` of the workload policy overrides per port (UNSET = the
 * workload mode).
 */
export function composePeerAuthentication(
  docs: readonly PeerAuthentication[],
  workload: WorkloadScope,
  defaultMode: EffectiveMtlsMode,
): ComposedPeerAuthentication {
  const mesh: PeerAuthentication[] = [];
  const namespace: PeerAuthentication[] = [];
  const selected: PeerAuthentication[] = [];
  for (const doc of docs) {
    const ns = doc.metadata.namespace ?? workload.namespace;
    if (ns !== workload.namespace && ns !== workload.rootNamespace) continue;
    const labels = doc.spec.selector?.matchLabels ?? {};
    if (Object.keys(labels).length === 0) {
      (ns === workload.rootNamespace ? mesh : namespace).push(doc);
    } else if (ns !== workload.rootNamespace) {
      if (Object.entries(labels).every(([k, v]) => workload.labels[k] === v)) selected.push(doc);
    }
  }
  let mode: EffectiveMtlsMode = defaultMode;
  for (const scopeDoc of [oldest(mesh), oldest(namespace), oldest(selected)]) {
    const m = modeOf(scopeDoc);
    if (m !== 'UNSET') mode = m;
  }
  const perPort = new Map<number, EffectiveMtlsMode>();
  for (const [port, { mode: m }] of Object.entries(oldest(selected)?.spec.portLevelMtls ?? {}))
    perPort.set(Number(port), m === 'UNSET' ? mode : m);
  return { mode, perPort };
}

/** Compiles a composition into the per-request lookup: destination port → mode. */
export function peerModeByPort(
  composed: ComposedPeerAuthentication,
): (port: number | undefined) => EffectiveMtlsMode {
  const { mode, perPort } = composed;
  if (perPort.size === 0) return () => mode;
  return (port) => (port === undefined ? mode : (perPort.get(port) ?? mode));
}
