/** A compiled matcher over one attribute value. */
export type StringMatcher = (value: string) => boolean;

/**
 * Istio's generic string match: `*` = any non-empty value, `*x` = suffix, `x*` = prefix, anything
 * else exact. A `*` in the middle is a literal. Case-sensitive.
 */
export function compileStringMatch(pattern: string): StringMatcher {
  if (pattern === '*') return (v) => v.length > 0;
  if (pattern.startsWith('*')) {
    const suffix = pattern.slice(1);
    return (v) => v.endsWith(suffix);
  }
  if (pattern.endsWith('*')) {
    const prefix = pattern.slice(0, -1);
    return (v) => v.startsWith(prefix);
  }
  return (v) => v === pattern;
}

/** `*x` / `x*` / exact, with a fixed prefix in front of the pattern (used for `spiffe://`). */
export function compileStringMatchWithPrefix(pattern: string, prefix: string): StringMatcher {
  if (pattern === '*') return (v) => v.length > 0;
  if (pattern.startsWith('*')) {
    // Istio compiles this to the regex `spiffe://.*<suffix>` (CVE-2020-16844 got it wrong).
    const suffix = pattern.slice(1);
    return (v) =>
      v.startsWith(prefix) && v.length >= prefix.length + suffix.length && v.endsWith(suffix);
  }
  return compileStringMatch(prefix + pattern);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `namespaces` values: the peer ID must contain `/ns/<value>/`, each `*` matching anything. */
export function compileNamespaceMatch(pattern: string): StringMatcher {
  const body = pattern.split('*').map(escapeRegex).join('.*');
  const re = new RegExp(`^.*/ns/${body}/.*$`);
  return (v) => re.test(v);
}

/**
 * `serviceAccounts` values: `ns/sa`, or a bare `sa` in the policy's namespace, become the regex
 * `spiffe://.+/ns/<ns>/(.+/|)sa/<sa>(/.+)?` over the peer ID, literals escaped (CVE-2026-39350).
 */
export function compileServiceAccountMatch(value: string, policyNamespace: string): StringMatcher {
  const slash = value.indexOf('/');
  const ns = slash === -1 ? policyNamespace : value.slice(0, slash);
  const sa = slash === -1 ? value : value.slice(slash + 1);
  const re = new RegExp(
    `^spiffe://.+/ns/${escapeRegex(ns)}/(.+/|)sa/${escapeRegex(sa)}(/.+)?$`,
    's',
  );
  return (v) => re.test(v);
}

const MATCH_ONE = '{*}';
const MATCH_ANY = '{**}';
/** RFC 3986 pchar as Envoy's `uri_template` reads it: `*` and `=` excluded, `%` kept. */
const PCHAR = "A-Za-z0-9\\-._~%!$&'()+,;:@";

/** True when a `paths` value uses the `{*}` / `{**}` template operators. */
export function isPathTemplate(path: string): boolean {
  return path.includes(MATCH_ONE) || path.includes(MATCH_ANY);
}

/**
 * Why a `paths` value is invalid (Istio `CheckValidPathTemplate`), or `undefined` when it is
 * valid: operators are whole segments, `{**}` is the last operator, and no other `{`, `}` (nor,
 * in a template, any character outside pchar such as `*`) may appear.
 */
export function pathTemplateProblem(path: string): string | undefined {
  const template = isPathTemplate(path);
  let foundAny = false;
  for (const segment of path.split('/')) {
    if (segment === MATCH_ONE || segment === MATCH_ANY) {
      if (foundAny) return '{**} must be the last operator of a path template';
      if (segment === MATCH_ANY) foundAny = true;
      continue;
    }
    if (/[{}]/.test(segment)) return "'{' or '}' outside a {*} or {**} operator";
    if (template && !new RegExp(`^[${PCHAR}]*$`).test(segment))
      return `path template segment "${segment}" holds a character outside pchar`;
  }
  return undefined;
}

/** Compiles a valid path template to an anchored regex: `{*}` = `[pchar]+`, `{**}` = `[pchar/]*`. */
export function compilePathTemplate(path: string): StringMatcher {
  const body = path
    .split('/')
    .map((s) =>
      s === MATCH_ONE ? `[${PCHAR}]+` : s === MATCH_ANY ? `[${PCHAR}/]*` : escapeRegex(s),
    )
    .join('/');
  const re = new RegExp(`^${body}$`);
  return (v) => re.test(v);
}
