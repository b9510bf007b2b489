/**
 * HTTPRoute matches → Istio operations, and the checks that make an ORed set of ALLOW rules give
 * the same answer as Linkerd's "one route per request" (Gateway API precedence).
 */
import { PolicyError } from '../../errors.js';
import type { ConditionSpec, OperationSpec } from '../model.js';
import type { LinkerdHttpRoute, PathMatch, RouteMatch } from './linkerd-model.js';

/**
 * Istio path values for a Gateway API path match. PathPrefix is segment-aware: `/a` matches `/a`
 * and `/a/…`, never `/ab`, hence `['/a', '/a/*']`. PathPrefix `/` matches every path: no values.
 */
export function pathValues(p: PathMatch): string[] | undefined {
  if (p.type === 'Exact') return [p.value];
  return p.value === '' ? undefined : [p.value, `${p.value}/*`];
}

/** The `to` operation and `when` conditions of one match on one port. */
export function matchToRule(
  route: LinkerdHttpRoute,
  m: RouteMatch,
  port: number,
): { operation: OperationSpec; when: ConditionSpec[] } {
  const paths = pathValues(m.path);
  const operation: OperationSpec = {
    ports: [String(port)],
    ...(paths && { paths }),
    ...(m.method !== undefined && { methods: [m.method] }),
    // Gateway API hostnames ignore the port; Istio `hosts` compares the Host header with it.
    ...(route.hostnames.length > 0 && {
      hosts: route.hostnames.flatMap((h) => [h, `${h}:*`]),
    }),
  };
  const when = m.headers.map((h) => ({ key: `request.headers[${h.name}]`, values: [h.value] }));
  return { operation, when };
}

function under(path: string, prefix: string): boolean {
  return prefix === '' || path === prefix || path.startsWith(`${prefix}/`);
}

function pathsMayOverlap(a: PathMatch, b: PathMatch): boolean {
  if (a.type === 'Exact' && b.type === 'Exact') return a.value === b.value;
  if (a.type === 'Exact') return under(a.value, b.value);
  if (b.type === 'Exact') return under(b.value, a.value);
  return under(a.value, b.value) || under(b.value, a.value);
}

/** Conservative: `false` only when no request can match both. */
function matchesMayOverlap(
  ra: LinkerdHttpRoute,
  a: RouteMatch,
  rb: LinkerdHttpRoute,
  b: RouteMatch,
): boolean {
  if (!pathsMayOverlap(a.path, b.path)) return false;
  if (a.method !== undefined && b.method !== undefined && a.method !== b.method) return false;
  for (const h of a.headers) {
    const o = b.headers.find((x) => x.name === h.name);
    if (o && o.value !== h.value) return false;
  }
  if (ra.hostnames.length > 0 && rb.hostnames.length > 0)
    return ra.hostnames.some((h) => rb.hostnames.includes(h));
  return true;
}

/**
 * Linkerd picks one route per request and applies only that route's authorizations. meshless ORs
 * every ALLOW rule, so two routes that can match the same request must carry the same
 * authorizations; otherwise the set is refused (which route wins depends on Gateway API
 * precedence and creation timestamps meshless does not reproduce).
 */
export function checkRouteOverlap(
  routes: readonly LinkerdHttpRoute[],
  authzKey: (r: LinkerdHttpRoute) => string,
  server: string,
): void {
  for (let i = 0; i < routes.length; i++)
    for (let j = i + 1; j < routes.length; j++) {
      const a = routes[i] as LinkerdHttpRoute;
      const b = routes[j] as LinkerdHttpRoute;
      if (authzKey(a) === authzKey(b)) continue;
      const clash = a.matches.some((ma) => b.matches.some((mb) => matchesMayOverlap(a, ma, b, mb)));
      if (clash)
        throw new PolicyError(
          'ERR_POLICY_UNSUPPORTED',
          `HTTPRoutes "${a.name}" and "${b.name}" on Server "${server}" can match the same request but carry different AuthorizationPolicies: Gateway API route precedence is not reproduced by meshless`,
          { ...b.origin.loc, field: 'spec.rules' },
        );
    }
}

/**
 * When every match of every route is a plain path match (no method, header or hostname), "no route
 * matched" is one DENY rule: the port AND none of the paths. Returns `undefined` otherwise.
 */
export function noRouteOperation(
  routes: readonly LinkerdHttpRoute[],
  port: number,
): OperationSpec | undefined {
  const notPaths: string[] = [];
  for (const r of routes) {
    if (r.hostnames.length > 0) return undefined;
    for (const m of r.matches) {
      if (m.method !== undefined || m.headers.length > 0) return undefined;
      notPaths.push(...(pathValues(m.path) ?? ['/*']));
    }
  }
  return { ports: [String(port)], notPaths: [...new Set(notPaths)] };
}
