/**
 * Linkerd policy for one workload → meshless AuthorizationPolicies (Istio semantics).
 *
 * Composition (evaluated DENY → ALLOW, default-deny once any ALLOW applies):
 * - one ALLOW policy per Server selecting the workload, every rule scoped to the Server's port;
 *   a Server without authorizations yields an ALLOW policy without rules, so its port is denied;
 * - `linkerd.default`: the default policy, scoped with `notPorts` to the ports no Server selects
 *   (always present, so the per-port default-deny above holds even when nothing else allows);
 * - `linkerd.no-route.<server>` (DENY): requests on a routed port that match no HTTPRoute, when
 *   the routes are plain path matches (otherwise they fall to the ALLOW default-deny);
 * - `audit` adds an AUDIT policy over the same scope as its allow-all rule.
 */
import type { AuthorizationPolicy, OperationSpec } from '../model.js';
import {
  defaultAuthorizations,
  fromServerAuthorization,
  Index,
  policy,
  refuse,
  resolvePolicy,
  rule,
  type TranslateContext,
} from './linkerd-authorizations.js';
import type {
  ClientAuthorization,
  LinkerdHttpRoute,
  LinkerdResource,
  LinkerdServer,
} from './linkerd-model.js';
import { checkRouteOverlap, matchToRule, noRouteOperation } from './linkerd-routes.js';
import { selects } from './linkerd-validate.js';

export type { TranslateContext };

function serverPort(s: LinkerdServer, ctx: TranslateContext): number {
  if (typeof s.port === 'number') return s.port;
  const n = ctx.ports[s.port];
  if (n === undefined)
    refuse(
      `port "${s.port}" is a name: declare it in workload.ports (container port names → numbers)`,
      s.origin,
      'spec.port',
    );
  return n;
}

/** Checks every reference in the workload's namespace resolves, so nothing is dropped unseen. */
function checkReferences(idx: Index, ns: string): void {
  for (const p of idx.of('AuthorizationPolicy', ns)) {
    const t = p.target;
    if (t.kind !== 'Namespace' && !idx.get(t.kind, ns, t.name))
      refuse(`target ${t.kind} "${t.name}" is not in the input`, p.origin, 'spec.targetRef');
  }
  for (const r of idx.of('HTTPRoute', ns))
    for (const s of r.servers)
      if (!idx.get('Server', ns, s))
        refuse(`parent Server "${s}" is not in the input`, r.origin, 'spec.parentRefs');
  for (const a of idx.of('ServerAuthorization', ns))
    if ('name' in a.server && !idx.get('Server', ns, a.server.name))
      refuse(`Server "${a.server.name}" is not in the input`, a.origin, 'spec.server.name');
}

function serverPolicies(
  s: LinkerdServer,
  port: number,
  idx: Index,
  ctx: TranslateContext,
): AuthorizationPolicy[] {
  const ns = ctx.namespace;
  const name = `linkerd.server.${s.name}`;
  const to: OperationSpec = { ports: [String(port)] };
  const serverAuthz = [
    ...idx
      .of('ServerAuthorization', ns)
      .filter((a) =>
        'name' in a.server ? a.server.name === s.name : selects(a.server.selector, s.labels),
      )
      .map(fromServerAuthorization),
    ...idx
      .of('AuthorizationPolicy', ns)
      .filter(
        (p) =>
          p.target.kind === 'Namespace' || (p.target.kind === 'Server' && p.target.name === s.name),
      )
      .map((p) => resolvePolicy(p, idx, ctx.trustDomain)),
  ];
  const routes = idx.of('HTTPRoute', ns).filter((r) => r.servers.includes(s.name));
  if (routes.length === 0) {
    if (s.accessPolicy === 'audit' && serverAuthz.length > 0)
      refuse(
        `accessPolicy "audit" with authorizations (${serverAuthz[0]?.source}) cannot be expressed: meshless would have to flag only the requests no authorization allows`,
        s.origin,
        'spec.accessPolicy',
      );
    const all = [...serverAuthz, ...defaultAuthorizations(s.accessPolicy, ctx, s.origin)];
    const out = [
      policy(
        ctx,
        name,
        'ALLOW',
        all.map((a) => rule(a, to)),
      ),
    ];
    if (s.accessPolicy === 'audit')
      out.push(policy(ctx, `${name}.audit`, 'AUDIT', [{ to: [{ operation: to }] }]));
    return out;
  }
  if (s.proxyProtocol === 'opaque' || s.proxyProtocol === 'TLS')
    refuse(
      `HTTPRoute "${routes[0]?.name}" is attached to a Server whose proxyProtocol is ${s.proxyProtocol} (no HTTP routing)`,
      s.origin,
      'spec.proxyProtocol',
    );
  if (s.accessPolicy !== 'deny')
    refuse(
      `accessPolicy "${s.accessPolicy}" on a Server with HTTPRoutes is not supported (its effect on routed traffic differs between Linkerd versions)`,
      s.origin,
      'spec.accessPolicy',
    );
  if (serverAuthz.length > 0)
    refuse(
      `${serverAuthz[0]?.source} authorizes the whole Server, which also has HTTPRoutes: whether Server-level authorizations apply to routed requests differs between Linkerd versions; target the HTTPRoutes instead`,
      s.origin,
    );
  const routeAuthz = new Map<LinkerdHttpRoute, ClientAuthorization[]>(
    routes.map((r) => [
      r,
      idx
        .of('AuthorizationPolicy', ns)
        .filter((p) => p.target.kind === 'HTTPRoute' && p.target.name === r.name)
        .map((p) => resolvePolicy(p, idx, ctx.trustDomain)),
    ]),
  );
  checkRouteOverlap(
    routes,
    (r) =>
      (routeAuthz.get(r) ?? [])
        .map((a) => a.source)
        .sort()
        .join('\n'),
    s.name,
  );
  const rules = routes.flatMap((r) =>
    (routeAuthz.get(r) ?? []).flatMap((a) =>
      r.matches.map((m) => {
        const { operation, when } = matchToRule(r, m, port);
        return rule(a, operation, when);
      }),
    ),
  );
  const out = [policy(ctx, name, 'ALLOW', rules)];
  const noRoute = noRouteOperation(routes, port);
  if (noRoute)
    out.push(policy(ctx, `linkerd.no-route.${s.name}`, 'DENY', [{ to: [{ operation: noRoute }] }]));
  return out;
}

/** Translates validated Linkerd resources for the workload described by `ctx`. */
export function translateLinkerd(
  resources: readonly LinkerdResource[],
  ctx: TranslateContext,
): AuthorizationPolicy[] {
  const idx = new Index(resources);
  checkReferences(idx, ctx.namespace);
  const servers = idx
    .of('Server', ctx.namespace)
    .filter((s) => s.podSelector !== undefined && selects(s.podSelector, ctx.labels));
  const byPort = new Map<number, LinkerdServer>();
  const out: AuthorizationPolicy[] = [];
  for (const s of servers) {
    const port = serverPort(s, ctx);
    const other = byPort.get(port);
    if (other)
      refuse(
        `Servers "${other.name}" and "${s.name}" both select port ${port} of this workload (Linkerd forbids overlapping Servers)`,
        s.origin,
        'spec.port',
      );
    byPort.set(port, s);
    out.push(...serverPolicies(s, port, idx, ctx));
  }
  const ports = [...byPort.keys()].sort((a, b) => a - b).map(String);
  const to: OperationSpec | undefined = ports.length > 0 ? { notPorts: ports } : undefined;
  const defaults = defaultAuthorizations(ctx.defaultPolicy, ctx, undefined);
  out.push(
    policy(
      ctx,
      'linkerd.default',
      'ALLOW',
      defaults.map((a) => rule(a, to)),
    ),
  );
  if (ctx.defaultPolicy === 'audit')
    out.push(
      policy(ctx, 'linkerd.default.audit', 'AUDIT', [to ? { to: [{ operation: to }] } : {}]),
    );
  return out;
}
