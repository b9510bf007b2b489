import { parseConditionKey } from './conditions.js';
import { compileIpBlocks } from './ip-match.js';
import type {
  AuthorizationAction,
  AuthorizationPolicy,
  ConditionSpec,
  OperationSpec,
  SourceSpec,
} from './model.js';
import { parseBool } from './parse-bool.js';
import {
  compileNamespaceMatch,
  compilePathTemplate,
  compileServiceAccountMatch,
  compileStringMatch,
  compileStringMatchWithPrefix,
  isPathTemplate,
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
  /** Direct peer IP, `::ffff:` unwrapped (see `normalizeIp`). */
  sourceIp?: string | undefined;
  /** Client IP: the peer IP, or the trusted `X-Forwarded-For` entry. */
  remoteIp?: string | undefined;
  /** Local address and TLS SNI of the connection. */
  destinationIp?: string | undefined;
  sni?: string | undefined;
  /** Lower-case header names; repeated headers as arrays. */
  headers?: Readonly<Record<string, string | readonly string[] | undefined>> | undefined;
  /** Verified token payload (`aud` and `azp` give `request.auth.audiences` / `.presenter`). */
  claims?: Readonly<Record<string, unknown>> | undefined;
}

type Predicate = (a: AuthzAttributes) => boolean;

/** A policy compiled once into predicates. */
export interface CompiledPolicy {
  /** `namespace/name`. */
  readonly name: string;
  readonly action: AuthorizationAction;
  readonly dryRun: boolean;
  /** CUSTOM only: the provider name. */
  readonly provider?: string;
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

/** Like {@link field} over an attribute with several values: a positive match needs any of them. */
function multiField(
  values: string[] | undefined,
  notValues: string[] | undefined,
  compile: (v: string) => StringMatcher[],
  get: (a: AuthzAttributes) => readonly string[] | undefined,
): Predicate | undefined {
  if (!values && !notValues) return undefined;
  const pos = values?.flatMap(compile);
  const neg = notValues?.flatMap(compile);
  const any = (ms: StringMatcher[], vs: readonly string[]) => vs.some((v) => ms.some((m) => m(v)));
  return (a) => {
    const vs = get(a);
    if (pos && (vs === undefined || !any(pos, vs))) return false;
    if (neg && vs !== undefined && any(neg, vs)) return false;
    return true;
  };
}

function ipField(
  values: string[] | undefined,
  notValues: string[] | undefined,
  get: (a: AuthzAttributes) => string | undefined,
): Predicate | undefined {
  return field(values, notValues, (v) => [compileIpBlocks([v])], get);
}

function headerValues(a: AuthzAttributes, name: string): readonly string[] | undefined {
  const v = a.headers?.[name];
  return v === undefined ? undefined : typeof v === 'string' ? [v] : v;
}

/** `aud` / `azp` style claims: a string, or the strings of a list. */
function stringsOf(v: unknown): readonly string[] | undefined {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return undefined;
}

/** Claims Envoy splits on spaces before matching (`spaceDelimitedClaims` defaults). */
const SPACE_DELIMITED = new Set(['scope', 'permission']);

/** `request.auth.claims[a][b]…`: a string claim, or the string elements of a list. */
function claimValues(a: AuthzAttributes, path: readonly string[]): readonly string[] | undefined {
  let node: unknown = a.claims;
  for (const name of path) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(node, name)) return undefined;
    node = (node as Record<string, unknown>)[name];
  }
  if (path.length === 1 && SPACE_DELIMITED.has(path[0] as string) && typeof node === 'string')
    return node.split(' ').filter((s) => s !== '');
  return stringsOf(node);
}

function all(preds: (Predicate | undefined)[]): Predicate {
  const list = preds.filter((p): p is Predicate => p !== undefined);
  return (a) => list.every((p) => p(a));
}

function requestPrincipal(
  values: string[] | undefined,
  notValues: string[] | undefined,
): Predicate | undefined {
  if (!values && !notValues) return undefined;
  const pos = values?.map(compileRequestPrincipal);
  const neg = notValues?.map(compileRequestPrincipal);
  return (a) => {
    const iss = a.requestIssuer;
    if (pos && (iss === undefined || !pos.some((m) => m(iss, a.requestSubject)))) return false;
    if (neg && iss !== undefined && neg.some((m) => m(iss, a.requestSubject))) return false;
    return true;
  };
}

const principalMatcher =
  (ctx: CompileContext) =>
  (v: string): StringMatcher[] =>
    expandPrincipal(v, ctx).map((p) => compileStringMatchWithPrefix(p, 'spiffe://'));

function compileSource(s: SourceSpec, ctx: CompileContext, policyNamespace: string): Predicate {
  const principal = principalMatcher(ctx);
  const serviceAccount = (v: string) => [compileServiceAccountMatch(v, policyNamespace)];
  return all([
    ipField(s.ipBlocks, s.notIpBlocks, (a) => a.sourceIp),
    ipField(s.remoteIpBlocks, s.notRemoteIpBlocks, (a) => a.remoteIp),
    field(s.serviceAccounts, s.notServiceAccounts, serviceAccount, (a) => a.principal),
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
    field(
      o.paths,
      o.notPaths,
      (v) => [isPathTemplate(v) ? compilePathTemplate(v) : compileStringMatch(v)],
      (a) => a.path,
    ),
  ]);
}

/** One `when` condition (validated at load). */
function compileCondition(c: ConditionSpec, ctx: CompileContext): Predicate {
  const key = parseConditionKey(c.key);
  if (typeof key === 'string') throw new Error(key);
  const { values, notValues } = c;
  const one = (v: string) => [compileStringMatch(v)];
  let p: Predicate | undefined;
  switch (key.kind) {
    case 'header': {
      const name = key.name;
      // `*` is Envoy's present_match: a present header matches even when empty.
      const header = (v: string): StringMatcher[] =>
        v === '*' ? [() => true] : [compileStringMatch(v)];
      p = multiField(values, notValues, header, (a) => headerValues(a, name));
      break;
    }
    case 'claim': {
      const path = key.path;
      p = multiField(values, notValues, one, (a) => claimValues(a, path));
      break;
    }
    case 'source.ip':
      p = ipField(values, notValues, (a) => a.sourceIp);
      break;
    case 'remote.ip':
      p = ipField(values, notValues, (a) => a.remoteIp);
      break;
    case 'destination.ip':
      p = ipField(values, notValues, (a) => a.destinationIp);
      break;
    case 'destination.port':
      p = field(
        values,
        notValues,
        (v) => [(port: string) => port === String(Number(v))],
        (a) => String(a.port),
      );
      break;
    case 'source.namespace':
      p = field(
        values,
        notValues,
        (v) => [compileNamespaceMatch(v)],
        (a) => a.principal,
      );
      break;
    case 'source.principal':
      p = field(values, notValues, principalMatcher(ctx), (a) => a.principal);
      break;
    case 'request.auth.principal':
      p = requestPrincipal(values, notValues);
      break;
    case 'request.auth.audiences':
      p = multiField(values, notValues, one, (a) => stringsOf(a.claims?.['aud']));
      break;
    case 'request.auth.presenter':
      p = multiField(values, notValues, one, (a) => stringsOf(a.claims?.['azp']));
      break;
    case 'connection.sni':
      p = field(values, notValues, one, (a) => a.sni || undefined);
      break;
  }
  return p ?? (() => true);
}

/**
 * Compiles a validated policy: rule = OR(from) AND OR(to) AND AND(when); a policy without rules
 * never matches.
 */
export function compilePolicy(policy: AuthorizationPolicy, ctx: CompileContext): CompiledPolicy {
  const namespace = policy.metadata.namespace ?? ctx.namespace;
  const rules = (policy.spec.rules ?? []).map((rule): Predicate => {
    const from = rule.from?.map((f) => compileSource(f.source, ctx, namespace));
    const to = rule.to?.map((t) => compileOperation(t.operation));
    const when =
      rule.when && rule.when.length > 0
        ? all(rule.when.map((c) => compileCondition(c, ctx)))
        : undefined;
    return (a) =>
      (!from || from.some((p) => p(a))) && (!to || to.some((p) => p(a))) && (!when || when(a));
  });
  return {
    name: `${namespace}/${policy.metadata.name}`,
    action: policy.spec.action ?? 'ALLOW',
    dryRun: parseBool(policy.metadata.annotations?.['istio.io/dry-run'] ?? '') === true,
    ...(policy.spec.provider ? { provider: policy.spec.provider.name } : {}),
    rules,
  };
}
