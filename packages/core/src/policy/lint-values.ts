/**
 * Value-level checks used by the policy linter: each one answers a yes/no question about a single
 * policy value, with Istio's string-matching semantics (istio-semantics.md §4, §5).
 */

/**
 * True when `value` holds a `*` that Istio reads as a literal character. Istio's generic string
 * match knows only `*` (any non-empty value), `*x` (suffix) and `x*` (prefix); any other `*`
 * (in the middle, or at the end of a suffix pattern such as `*x*`) is compared literally, so the
 * value almost never matches (istio-semantics.md §4; istio/istio `matcher/string.go`).
 */
export function hasLiteralWildcard(value: string): boolean {
  if (value === '*') return false;
  if (value.startsWith('*')) return value.slice(1).includes('*');
  if (value.endsWith('*')) return value.slice(0, -1).includes('*');
  return value.includes('*');
}

/**
 * `requestPrincipals` / `request.auth.principal`: the value is split at its last `/` into an
 * issuer and a subject pattern, each matched on its own (istio-semantics.md §5), so a `*` is a
 * wildcard only at the start or end of either part.
 */
export function hasLiteralWildcardInRequestPrincipal(value: string): boolean {
  const slash = value.lastIndexOf('/');
  if (slash === -1) return hasLiteralWildcard(value);
  const iss = value.slice(0, slash);
  const sub = value.slice(slash + 1);
  return (iss !== '' && hasLiteralWildcard(iss)) || (sub !== '' && hasLiteralWildcard(sub));
}

/**
 * A principal written with its URI scheme. Istio prepends `spiffe://` itself when it compiles a
 * principal, so `spiffe://cluster.local/ns/a/sa/b` is compared with `spiffe://spiffe://…` and never
 * matches (istio-semantics.md §5).
 */
export function hasSpiffeScheme(value: string): boolean {
  return /^\*?spiffe:\/\//i.test(value);
}

/**
 * A principal that admits every service account of one namespace: `<td>/ns/<ns>/sa/*` or
 * `<td>/ns/<ns>/*` (a prefix match on `spiffe://<td>/ns/<ns>/`). Returns the namespace, or
 * `undefined` for any other value.
 */
export function namespaceWidePrincipal(value: string): string | undefined {
  const m = /^[^*/]+\/ns\/([^*/]+)\/(?:sa\/)?\*$/.exec(value);
  return m ? m[1] : undefined;
}

/** True when a `hosts` value names a port (`name:port`, `[v6]:port`). */
function hasPort(host: string): boolean {
  const rest = host.startsWith('[') ? host.slice(host.indexOf(']') + 1) : host;
  return rest.includes(':');
}

/**
 * An exact host without a port that no other value of the same list covers with a port. Istio
 * compares `hosts` with the raw `Host` / `:authority` header, port included, so
 * `example.com` does not match `example.com:8080` (istio-semantics.md §4, §9 "2021-008").
 * A sibling `example.com:*`, or a prefix such as `example.com*`, covers the ported forms.
 */
export function isUncoveredExactHost(value: string, siblings: readonly string[]): boolean {
  if (value.includes('*') || hasPort(value)) return false;
  const withPort = `${value}:8080`.toLowerCase();
  return !siblings.some((s) => {
    const p = s.toLowerCase();
    if (p === '*') return true;
    if (p.endsWith('*') && !p.startsWith('*')) return withPort.startsWith(p.slice(0, -1));
    return false;
  });
}
