/** Validation shared by the Linkerd resources, and the `Server` resource itself. */
import { PolicyError } from '../../errors.js';
import { parseIpBlock } from '../ip-match.js';
import { at, expectObject, index, isObject, onlyKeys, type Loc } from '../validate.js';
import {
  LINKERD_DEFAULT_POLICIES,
  type LabelSelector,
  type LinkerdDefaultPolicy,
  type LinkerdServer,
  type Network,
  type Origin,
} from './linkerd-model.js';

/** Top-level fields of a Kubernetes object; `status` is ignored. */
export const DOCUMENT_FIELDS = ['apiVersion', 'kind', 'metadata', 'spec', 'status'];

export interface Meta {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  origin: Origin;
}

function stringMap(raw: unknown, loc: Loc): Record<string, string> {
  const obj = expectObject(raw, loc);
  for (const [k, v] of Object.entries(obj))
    if (typeof v !== 'string')
      throw new PolicyError('ERR_POLICY_VALUE', 'values are strings (quote them)', at(loc, k));
  return obj as Record<string, string>;
}

/** `metadata`: name required, namespace defaults to the workload's (as `kubectl apply`). */
export function validateMeta(doc: Record<string, unknown>, loc: Loc, defaultNs: string): Meta {
  const mloc = at(loc, 'metadata');
  const m = expectObject(doc['metadata'], mloc);
  if (typeof m['name'] !== 'string' || m['name'] === '')
    throw new PolicyError('ERR_POLICY_VALUE', 'metadata.name is required', at(mloc, 'name'));
  const ns = m['namespace'] ?? defaultNs;
  if (typeof ns !== 'string' || ns === '')
    throw new PolicyError('ERR_POLICY_VALUE', 'must be a string', at(mloc, 'namespace'));
  const labels = m['labels'] === undefined ? {} : stringMap(m['labels'], at(mloc, 'labels'));
  return {
    name: m['name'],
    namespace: ns,
    labels,
    origin: { loc, label: `${String(doc['kind'])} ${ns}/${m['name']}` },
  };
}

/** Kubernetes `LabelSelector`. */
export function validateLabelSelector(raw: unknown, loc: Loc): LabelSelector {
  const obj = expectObject(raw, loc);
  onlyKeys(obj, ['matchLabels', 'matchExpressions'], loc);
  const out: LabelSelector = {
    matchLabels:
      obj['matchLabels'] === undefined ? {} : stringMap(obj['matchLabels'], at(loc, 'matchLabels')),
    matchExpressions: [],
  };
  const exprs = obj['matchExpressions'] ?? [];
  if (!Array.isArray(exprs))
    throw new PolicyError('ERR_POLICY_FIELD', 'must be a list', at(loc, 'matchExpressions'));
  exprs.forEach((e, i) => {
    const eloc = index(at(loc, 'matchExpressions'), i);
    const x = expectObject(e, eloc);
    onlyKeys(x, ['key', 'operator', 'values'], eloc);
    const op = x['operator'];
    if (typeof x['key'] !== 'string' || x['key'] === '')
      throw new PolicyError('ERR_POLICY_VALUE', 'key is required', at(eloc, 'key'));
    if (op !== 'In' && op !== 'NotIn' && op !== 'Exists' && op !== 'DoesNotExist')
      throw new PolicyError(
        'ERR_POLICY_VALUE',
        'operator must be In, NotIn, Exists or DoesNotExist',
        at(eloc, 'operator'),
      );
    const values = x['values'] ?? [];
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string'))
      throw new PolicyError('ERR_POLICY_VALUE', 'values is a list of strings', at(eloc, 'values'));
    // Kubernetes: In/NotIn need values, Exists/DoesNotExist take none.
    if ((op === 'In' || op === 'NotIn') !== values.length > 0)
      throw new PolicyError(
        'ERR_POLICY_VALUE',
        `${op} ${op === 'In' || op === 'NotIn' ? 'needs' : 'takes no'} values`,
        at(eloc, 'values'),
      );
    out.matchExpressions.push({ key: x['key'], operator: op, values: values as string[] });
  });
  return out;
}

/** Kubernetes selector semantics: every matchLabels entry and every expression must hold. */
export function selects(sel: LabelSelector, labels: Record<string, string>): boolean {
  const has = (k: string) => Object.prototype.hasOwnProperty.call(labels, k);
  if (!Object.entries(sel.matchLabels).every(([k, v]) => has(k) && labels[k] === v)) return false;
  return sel.matchExpressions.every((e) => {
    switch (e.operator) {
      case 'In':
        return has(e.key) && e.values.includes(labels[e.key] as string);
      case 'NotIn':
        return !has(e.key) || !e.values.includes(labels[e.key] as string);
      case 'Exists':
        return has(e.key);
      case 'DoesNotExist':
        return !has(e.key);
    }
  });
}

function cidr(raw: unknown, loc: Loc): string {
  if (typeof raw !== 'string' || parseIpBlock(raw) === undefined)
    throw new PolicyError('ERR_POLICY_VALUE', 'expected an IP address or CIDR', loc);
  return raw;
}

/** `networks: [{cidr, except}]` (NetworkAuthentication, ServerAuthorization). */
export function validateNetworks(raw: unknown, loc: Loc): Network[] {
  if (!Array.isArray(raw) || raw.length === 0)
    throw new PolicyError('ERR_POLICY_VALUE', 'expected a non-empty list of networks', loc);
  return raw.map((n, i) => {
    const nloc = index(loc, i);
    const obj = expectObject(n, nloc);
    onlyKeys(obj, ['cidr', 'except'], nloc);
    const except = obj['except'] ?? [];
    if (!Array.isArray(except))
      throw new PolicyError('ERR_POLICY_FIELD', 'must be a list', at(nloc, 'except'));
    return {
      cidr: cidr(obj['cidr'], at(nloc, 'cidr')),
      except: except.map((e, j) => cidr(e, index(at(nloc, 'except'), j))),
    };
  });
}

export function validateDefaultPolicy(raw: unknown, loc: Loc): LinkerdDefaultPolicy {
  if (typeof raw !== 'string' || !LINKERD_DEFAULT_POLICIES.includes(raw as LinkerdDefaultPolicy))
    throw new PolicyError(
      'ERR_POLICY_VALUE',
      `must be one of ${LINKERD_DEFAULT_POLICIES.join(', ')}`,
      loc,
    );
  return raw as LinkerdDefaultPolicy;
}

const PROXY_PROTOCOLS = ['unknown', 'HTTP/1', 'HTTP/2', 'gRPC', 'opaque', 'TLS'];
/** IANA service name, as Kubernetes validates a container port name. */
const PORT_NAME = /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?=[a-z0-9]))*$/;

/** `Server` (policy.linkerd.io v1beta1..v1beta3). `accessPolicy` is read only from v1beta3. */
export function validateServer(
  doc: Record<string, unknown>,
  version: string,
  meta: Meta,
  loc: Loc,
): LinkerdServer {
  const sloc = at(loc, 'spec');
  const spec = expectObject(doc['spec'], sloc);
  const fields = ['podSelector', 'externalWorkloadSelector', 'port', 'proxyProtocol'];
  if (version === 'v1beta3') fields.push('accessPolicy');
  else if (spec['accessPolicy'] !== undefined)
    throw new PolicyError(
      'ERR_POLICY_UNSUPPORTED',
      `accessPolicy is read only from policy.linkerd.io/v1beta3 Servers (older schemas do not define it, so Linkerd would treat the Server as "deny")`,
      at(sloc, 'accessPolicy'),
    );
  onlyKeys(spec, fields, sloc);
  const hasPods = spec['podSelector'] !== undefined;
  if (hasPods === (spec['externalWorkloadSelector'] !== undefined))
    throw new PolicyError(
      'ERR_POLICY_VALUE',
      'exactly one of podSelector or externalWorkloadSelector is required',
      sloc,
    );
  if (!hasPods)
    validateLabelSelector(spec['externalWorkloadSelector'], at(sloc, 'externalWorkloadSelector'));
  const port = spec['port'];
  const ploc = at(sloc, 'port');
  if (typeof port === 'number') {
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new PolicyError('ERR_POLICY_VALUE', 'port must be 1-65535', ploc);
  } else if (typeof port !== 'string' || !PORT_NAME.test(port))
    throw new PolicyError('ERR_POLICY_VALUE', 'port must be a number or a port name', ploc);
  const proxyProtocol = spec['proxyProtocol'] ?? 'unknown';
  if (typeof proxyProtocol !== 'string' || !PROXY_PROTOCOLS.includes(proxyProtocol))
    throw new PolicyError(
      'ERR_POLICY_VALUE',
      `proxyProtocol must be one of ${PROXY_PROTOCOLS.join(', ')}`,
      at(sloc, 'proxyProtocol'),
    );
  return {
    kind: 'Server',
    ...meta,
    ...(hasPods && {
      podSelector: validateLabelSelector(spec['podSelector'], at(sloc, 'podSelector')),
    }),
    port,
    proxyProtocol,
    accessPolicy:
      spec['accessPolicy'] === undefined
        ? 'deny'
        : validateDefaultPolicy(spec['accessPolicy'], at(sloc, 'accessPolicy')),
  };
}

/** A `{group, kind, name, namespace}` reference, checked against the kinds a field accepts. */
export function validateRef(
  raw: unknown,
  loc: Loc,
  kinds: Record<string, readonly string[]>,
  fields: readonly string[] = ['group', 'kind', 'name', 'namespace'],
): { kind: string; name: string | undefined; namespace: string | undefined } {
  const obj = expectObject(raw, loc);
  onlyKeys(obj, fields, loc);
  const kind = obj['kind'];
  if (typeof kind !== 'string' || !Object.prototype.hasOwnProperty.call(kinds, kind))
    throw new PolicyError(
      'ERR_POLICY_UNSUPPORTED',
      `kind must be one of ${Object.keys(kinds).join(', ')}`,
      at(loc, 'kind'),
    );
  const group = obj['group'] ?? '';
  if (typeof group !== 'string' || !(kinds[kind] as readonly string[]).includes(group))
    throw new PolicyError(
      'ERR_POLICY_VALUE',
      `group of ${kind} must be ${(kinds[kind] as readonly string[]).map((g) => JSON.stringify(g)).join(' or ')}`,
      at(loc, 'group'),
    );
  for (const f of ['name', 'namespace'])
    if (obj[f] !== undefined && (typeof obj[f] !== 'string' || obj[f] === ''))
      throw new PolicyError('ERR_POLICY_VALUE', 'must be a non-empty string', at(loc, f));
  return {
    kind,
    name: obj['name'] as string | undefined,
    namespace: obj['namespace'] as string | undefined,
  };
}

export { isObject };
