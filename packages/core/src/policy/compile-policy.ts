import type {
  AuthorizationAction,
  AuthorizationPolicy,
  OperationSpec,
  SourceSpec,
} from './model.js';
import { parseBool } from './parse-bool.js';
import {
  compileNamespaceMatch,
  compileStringMatch,
  compileStringMatchWithPrefix,
  type StringMatcher,
} from './string-match.js';

/** The request attributes an AuthorizationPolicy reads. `undefined` = attribute missing. */
export interface AuthzAttributes {
  /** Peer SPIFFE ID (`spiffe://…`), from a verified X.509-SVID. */
  principal: string | undefined;
  /** `iss` and `sub` of the verified request token. */
  requestIssuer: string | undefined;
  requestSubject: string | undefined;
  method: string;
  /** Normalized path, without query or fragment. */
  path: string;
  host: string;
  port: number;
}

type Predicate = (a: AuthzAttributes) => boolean;

/** A policy compiled once into predicates. */
export interface CompiledPolicy {
  /** `namespace/name`. */
  readonly name: string;
  readonly action: AuthorizationAction;
  readonly dryRun: boolean;
  readonly rules: readonly Predicate[];
}

/** What the workload is, for trust-domain alias expansion of principals. */
export interface CompileContext {
  trustDomain: string;
  trustDomainAliases: readonly string[];
  /** Namespace a policy without `metadata.namespace` belongs to. */
  namespace: string;
}

/** Values shaped `<td>/ns/<ns>/sa/<sa>` whose `<td>` is this mesh get one copy per trust domain. */
function expandPrincipal(value: string, ctx: CompileContext): string[] {
  const parts = value.split('/');
  if (parts.length !== 5 || parts[1] !== 'ns' || parts[3] !== 'sa') return [value];
  const td = parts[0] as string;
  const mesh = [ctx.trustDomain, ...ctx.trustDomainAliases];
  if (td.includes('*') || (td !== 'cluster.local' && !mesh.includes(td))) return [value];
  const rest = parts.slice(1).join('/');
  return [...new Set(mesh)].map((t) => `${t}/${rest}`);
}

/** Request principal `iss/sub` is split at the last `/`, each half matched separately. */
function compileRequestPrincipal(value: string): (iss: string, sub: string | undefined) => boolean {
  const slash = value.lastIndexOf('/');
  if (slash === -1) {
    if (value === '*') return (iss, sub) => iss.length > 0 && (sub ?? '').length > 0;
    if (value.endsWith('*')) {
      const issMatch = compileStringMatch(value);
      return (iss, sub) => issMatch(iss) && (sub ?? '').length > 0;
    }
    if (value.startsWith('*')) {
      const subMatch = compileStringMatch(value);
      return (iss, sub) => iss.length > 0 && subMatch(sub ?? '');
    }
    return (iss, sub) => iss === value && (sub ?? '') === '';
  }
  const issMatch = compileStringMatch(value.slice(0, slash));
  const subMatch = compileStringMatch(value.slice(slash + 1));
  return (iss, sub) => issMatch(iss) && subMatch(sub ?? '');
}

function field(
  values: string[] | undefined,
  notValues: string[] | undefined,
  compile: (v: string) => StringMatcher[],
  get: (a: AuthzAttributes) => string | undefined,
): Predicate | undefined {
  if (!values && !notValues) return undefined;
  const pos = values?.flatMap(compile);
  const neg = notValues?.flatMap(compile);
  return (a) => {
    const v = get(a);
    if (pos && (v === undefined || !pos.some((m) => m(v)))) return false;
    // A missing attribute makes every positive match false, so a `notX` is true (Istio semantics).
    if (neg && v !== undefined && neg.some((m) => m(v))) return false;
    return true;
  };
}

function all(preds: (Predicate | undefined)[]): Predicate {
  const list = preds.filter((p): p is Predicate => p !== undefined);
  return (a) => list.every((p) => p(a));
}

function compileSource(s: SourceSpec, ctx: CompileContext): Predicate {
  const principal = (v: string): StringMatcher[] =>
    expandPrincipal(v, ctx).map((p) => compileStringMatchWithPrefix(p, 'spiffe://'));
  const requestPrincipal = (
    values: string[] | undefined,
    notValues: string[] | undefined,
  ): Predicate | undefined => {
    if (!values && !notValues) return undefined;
    const pos = values?.map(compileRequestPrincipal);
    const neg = notValues?.map(compileRequestPrincipal);
    return (a) => {
      const iss = a.requestIssuer;
      if (pos && (iss === undefined || !pos.some((m) => m(iss, a.requestSubject)))) return false;
      if (neg && iss !== undefined && neg.some((m) => m(iss, a.requestSubject))) return false;
      return true;
    };
  };
  return all([
    field(s.principals, s.notPrincipals, principal, (a) => a.principal),
    requestPrincipal(s.requestPrincipals, s.notRequestPrincipals),
    field(
      s.namespaces,
      s.notNamespaces,
      (v) => [compileNamespaceMatch(v)],
      (a) => a.principal,
    ),
  ]);
}

function compileOperation(o: OperationSpec): Predicate {
  const one = (v: string) => [compileStringMatch(v)];
  const lowerHost = (v: string) => [compileStringMatch(v.toLowerCase())];
  return all([
    field(o.hosts, o.notHosts, lowerHost, (a) => a.host.toLowerCase()),
    field(
      o.ports,
      o.notPorts,
      (v) => [(p: string) => p === String(Number(v))],
      (a) => String(a.port),
    ),
    field(o.methods, o.notMethods, one, (a) => a.method),
    field(o.paths, o.notPaths, one, (a) => a.path),
  ]);
}

/** Compiles a validated policy: rule = OR(from) AND OR(to); a policy without rules never matches. */
export function compilePolicy(policy: AuthorizationPolicy, ctx: CompileContext): CompiledPolicy {
  const rules = (policy.spec.rules ?? []).map((rule): Predicate => {
    const from = rule.from?.map((f) => compileSource(f.source, ctx));
    const to = rule.to?.map((t) => compileOperation(t.operation));
    return (a) => (!from || from.some((p) => p(a))) && (!to || to.some((p) => p(a)));
  });
  return {
    name: `${policy.metadata.namespace ?? ctx.namespace}/${policy.metadata.name}`,
    action: policy.spec.action ?? 'ALLOW',
    dryRun: parseBool(policy.metadata.annotations?.['istio.io/dry-run'] ?? '') === true,
    rules,
  };
}
