import {
  all,
  claimValues,
  field,
  headerValues,
  ipField,
  multiField,
  requestPrincipal,
  stringsOf,
  type Predicate,
} from './attribute-match.js';
import { parseConditionKey } from './conditions.js';
import type {
  AuthorizationAction,
  AuthorizationPolicy,
  ConditionSpec,
  OperationSpec,
  RuleSpec,
  SourceSpec,
} from './model.js';
import { parseBool } from './parse-bool.js';
import { buildRuleIndex, type RuleIndex } from './rule-index.js';
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

/** One condition of a rule, named by its field path (e.g. `from[0].source.principals`). */
export interface NamedCheck {
  readonly path: string;
  readonly test: Predicate;
}

/** A rule's conditions one by one, for `guard.explain`: OR(from) AND OR(to) AND AND(when). */
export interface RuleParts {
  readonly from?: readonly (readonly NamedCheck[])[];
  readonly to?: readonly (readonly NamedCheck[])[];
  readonly when?: readonly NamedCheck[];
}

/** A policy compiled once into predicates. */
export interface CompiledPolicy {
  /** `namespace/name`. */
  readonly name: string;
  readonly action: AuthorizationAction;
  readonly dryRun: boolean;
  /** CUSTOM only: the provider name. */
  readonly provider?: string;
  readonly rules: readonly Predicate[];
  /** Each rule's conditions apart, for `guard.explain`: compiled on first call, off the hot path. */
  readonly parts?: () => readonly RuleParts[];
  /** Rules worth trying per request path; absent for small policies (see {@link buildRuleIndex}). */
  readonly index?: RuleIndex;
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

const principalMatcher =
  (ctx: CompileContext) =>
  (v: string): StringMatcher[] =>
    expandPrincipal(v, ctx).map((p) => compileStringMatchWithPrefix(p, 'spiffe://'));

type Part = readonly [name: string, test: Predicate | undefined];
type Make = (
  values: string[] | undefined,
  notValues: string[] | undefined,
) => Predicate | undefined;

/** One field: one predicate (hot path), or with `split` its `values` and `notValues` apart (explain). */
function part(
  split: boolean,
  name: string,
  v: string[] | undefined,
  nv: string[] | undefined,
  m: Make,
): Part[] {
  if (!split) return [[name, m(v, nv)]];
  const not = `not${name.charAt(0).toUpperCase()}${name.slice(1)}`;
  return [
    [name, v && m(v, undefined)],
    [not, nv && m(undefined, nv)],
  ];
}

function sourceParts(s: SourceSpec, ctx: CompileContext, ns: string, split: boolean): Part[] {
  const principal = principalMatcher(ctx);
  const serviceAccount = (v: string) => [compileServiceAccountMatch(v, ns)];
  return [
    ...part(split, 'ipBlocks', s.ipBlocks, s.notIpBlocks, (v, n) =>
      ipField(v, n, (a) => a.sourceIp),
    ),
    ...part(split, 'remoteIpBlocks', s.remoteIpBlocks, s.notRemoteIpBlocks, (v, n) =>
      ipField(v, n, (a) => a.remoteIp),
    ),
    ...part(split, 'serviceAccounts', s.serviceAccounts, s.notServiceAccounts, (v, n) =>
      field(v, n, serviceAccount, (a) => a.principal),
    ),
    ...part(split, 'principals', s.principals, s.notPrincipals, (v, n) =>
      field(v, n, principal, (a) => a.principal),
    ),
    ...part(split, 'requestPrincipals', s.requestPrincipals, s.notRequestPrincipals, (v, n) =>
      requestPrincipal(v, n),
    ),
    ...part(split, 'namespaces', s.namespaces, s.notNamespaces, (v, n) =>
      field(
        v,
        n,
        (x) => [compileNamespaceMatch(x)],
        (a) => a.principal,
      ),
    ),
  ];
}

function compileSource(s: SourceSpec, ctx: CompileContext, policyNamespace: string): Predicate {
  return all(sourceParts(s, ctx, policyNamespace, false).map(([, p]) => p));
}

function operationParts(o: OperationSpec, split: boolean): Part[] {
  const one = (v: string) => [compileStringMatch(v)];
  const lowerHost = (v: string) => [compileStringMatch(v.toLowerCase())];
  const port = (v: string) => [(p: string) => p === String(Number(v))];
  const path = (v: string) => [isPathTemplate(v) ? compilePathTemplate(v) : compileStringMatch(v)];
  return [
    ...part(split, 'hosts', o.hosts, o.notHosts, (v, n) =>
      field(v, n, lowerHost, (a) => a.host.toLowerCase()),
    ),
    ...part(split, 'ports', o.ports, o.notPorts, (v, n) =>
      field(v, n, port, (a) => String(a.port)),
    ),
    ...part(split, 'methods', o.methods, o.notMethods, (v, n) => field(v, n, one, (a) => a.method)),
    ...part(split, 'paths', o.paths, o.notPaths, (v, n) => field(v, n, path, (a) => a.path)),
  ];
}

function compileOperation(o: OperationSpec): Predicate {
  return all(operationParts(o, false).map(([, p]) => p));
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

const named = (prefix: string, parts: Part[]): NamedCheck[] =>
  parts.flatMap(([name, test]) => (test ? [{ path: `${prefix}.${name}`, test }] : []));

/** One `when` condition as its `values` check and its `notValues` check (`when[i] <key>`). */
function conditionParts(c: ConditionSpec, i: number, ctx: CompileContext): NamedCheck[] {
  const path = `when[${i}] ${c.key}`;
  return [
    ...(c.values ? [{ path, test: compileCondition({ key: c.key, values: c.values }, ctx) }] : []),
    ...(c.notValues
      ? [
          {
            path: `${path} notValues`,
            test: compileCondition({ key: c.key, notValues: c.notValues }, ctx),
          },
        ]
      : []),
  ];
}

/** A rule's conditions apart, each named by its field path (for `guard.explain`). */
function ruleParts(rule: RuleSpec, ctx: CompileContext, namespace: string): RuleParts {
  return {
    ...(rule.from && {
      from: rule.from.map((f, i) =>
        named(`from[${i}].source`, sourceParts(f.source, ctx, namespace, true)),
      ),
    }),
    ...(rule.to && {
      to: rule.to.map((t, i) => named(`to[${i}].operation`, operationParts(t.operation, true))),
    }),
    ...(rule.when &&
      rule.when.length > 0 && { when: rule.when.flatMap((c, i) => conditionParts(c, i, ctx)) }),
  };
}

/**
 * Compiles a validated policy: rule = OR(from) AND OR(to) AND AND(when); a policy without rules
 * never matches.
 */
export function compilePolicy(policy: AuthorizationPolicy, ctx: CompileContext): CompiledPolicy {
  const namespace = policy.metadata.namespace ?? ctx.namespace;
  let parts: readonly RuleParts[] | undefined;
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
    ...withIndex(buildRuleIndex(policy.spec.rules ?? [])),
    parts: () => (parts ??= (policy.spec.rules ?? []).map((r) => ruleParts(r, ctx, namespace))),
  };
}

function withIndex(index: RuleIndex | undefined): { index?: RuleIndex } {
  return index ? { index } : {};
}
