/** Linkerd authorizations resolved to one shape, and the meshless rules and policies built from them. */
import { PolicyError } from '../../errors.js';
import type { AuthorizationPolicy, OperationSpec, RuleSpec, SourceSpec } from '../model.js';
import type {
  ClientAuthorization,
  LinkerdAuthorizationPolicy,
  LinkerdDefaultPolicy,
  LinkerdResource,
  LinkerdServerAuthorization,
  Origin,
} from './linkerd-model.js';

export interface TranslateContext {
  namespace: string;
  labels: Record<string, string>;
  ports: Record<string, number>;
  trustDomain: string;
  defaultPolicy: LinkerdDefaultPolicy;
  clusterNetworks?: string[];
}

export function refuse(message: string, origin: Origin, field?: string): never {
  const loc = field ? { ...origin.loc, field } : origin.loc;
  throw new PolicyError('ERR_POLICY_UNSUPPORTED', `${origin.label}: ${message}`, loc);
}

type ByKind<K extends LinkerdResource['kind']> = Extract<LinkerdResource, { kind: K }>;

export class Index {
  private readonly map = new Map<string, LinkerdResource>();
  readonly all: readonly LinkerdResource[];
  constructor(all: readonly LinkerdResource[]) {
    this.all = all;
    for (const r of all) {
      const key = `${r.kind}/${r.namespace}/${r.name}`;
      if (this.map.has(key))
        throw new PolicyError(
          'ERR_POLICY_VALUE',
          `duplicate ${r.kind} ${r.namespace}/${r.name}`,
          r.origin.loc,
        );
      this.map.set(key, r);
    }
  }
  get<K extends LinkerdResource['kind']>(kind: K, ns: string, name: string): ByKind<K> | undefined {
    return this.map.get(`${kind}/${ns}/${name}`) as ByKind<K> | undefined;
  }
  of<K extends LinkerdResource['kind']>(kind: K, ns: string): ByKind<K>[] {
    return this.all.filter((r): r is ByKind<K> => r.kind === kind && r.namespace === ns);
  }
}

/** The default policies as authorizations (`deny`: none; `audit`: allow all, flagged apart). */
export function defaultAuthorizations(
  p: LinkerdDefaultPolicy,
  ctx: TranslateContext,
  origin: Origin | undefined,
): ClientAuthorization[] {
  const source = `default:${p}`;
  const cluster = () => {
    if (!ctx.clusterNetworks || ctx.clusterNetworks.length === 0) {
      const msg = `"${p}" needs the clusterNetworks option (Linkerd's clusterNetworks setting)`;
      if (origin) refuse(msg, origin, 'spec.accessPolicy');
      throw new PolicyError('ERR_POLICY_VALUE', msg);
    }
    return ctx.clusterNetworks.map((cidr) => ({ cidr, except: [] }));
  };
  switch (p) {
    case 'deny':
      return [];
    case 'all-unauthenticated':
    case 'audit':
      return [{ source, networks: [] }];
    case 'all-authenticated':
      return [{ source, principals: ['*'], networks: [] }];
    case 'cluster-authenticated':
      return [{ source, principals: ['*'], networks: cluster() }];
    case 'cluster-unauthenticated':
      return [{ source, networks: cluster() }];
  }
}

/** OR over networks of (principals AND cidr AND NOT except); no `from` when anyone qualifies. */
export function rule(
  a: ClientAuthorization,
  to: OperationSpec | undefined,
  when: RuleSpec['when'] = [],
): RuleSpec {
  const base: SourceSpec = a.principals ? { principals: a.principals } : {};
  const from =
    a.networks.length > 0
      ? a.networks.map((n) => ({
          source: {
            ...base,
            ipBlocks: [n.cidr],
            ...(n.except.length > 0 && { notIpBlocks: n.except }),
          },
        }))
      : a.principals
        ? [{ source: base }]
        : undefined;
  return {
    ...(from && { from }),
    ...(to && { to: [{ operation: to }] }),
    ...(when.length > 0 && { when }),
  };
}

export function policy(
  ctx: TranslateContext,
  name: string,
  action: 'ALLOW' | 'DENY' | 'AUDIT',
  rules: RuleSpec[],
): AuthorizationPolicy {
  return {
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace: ctx.namespace },
    spec: { action, rules },
  };
}

export function resolvePolicy(
  p: LinkerdAuthorizationPolicy,
  idx: Index,
  td: string,
): ClientAuthorization {
  const out: ClientAuthorization = { source: p.origin.label, networks: [] };
  p.authns.forEach((ref, i) => {
    const field = `spec.requiredAuthenticationRefs[${i}]`;
    if (ref.kind === 'ServiceAccount') {
      out.principals = [`${td}/ns/${ref.namespace}/sa/${ref.name}`];
      return;
    }
    const found = idx.get(ref.kind, ref.namespace, ref.name);
    // Linkerd ignores a policy whose authentication is missing; meshless refuses the input instead.
    if (!found)
      refuse(`${ref.kind} ${ref.namespace}/${ref.name} is not in the input`, p.origin, field);
    if (found.kind === 'MeshTLSAuthentication') out.principals = found.principals;
    else if (found.kind === 'NetworkAuthentication') out.networks = found.networks;
  });
  return out;
}

export function fromServerAuthorization(s: LinkerdServerAuthorization): ClientAuthorization {
  return {
    source: s.origin.label,
    ...(s.principals && { principals: s.principals }),
    networks: s.networks,
  };
}
