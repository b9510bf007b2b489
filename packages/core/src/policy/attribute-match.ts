import type { AuthzAttributes } from './compile-policy.js';
import { compileIpBlocks } from './ip-match.js';
import { compileStringMatch, type StringMatcher } from './string-match.js';

/** A compiled condition over the request attributes. @internal */
export type Predicate = (a: AuthzAttributes) => boolean;

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

export function field(
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
export function multiField(
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

export function ipField(
  values: string[] | undefined,
  notValues: string[] | undefined,
  get: (a: AuthzAttributes) => string | undefined,
): Predicate | undefined {
  return field(values, notValues, (v) => [compileIpBlocks([v])], get);
}

export function headerValues(a: AuthzAttributes, name: string): readonly string[] | undefined {
  const v = a.headers?.[name];
  return v === undefined ? undefined : typeof v === 'string' ? [v] : v;
}

/** `aud` / `azp` style claims: a string, or the strings of a list. */
export function stringsOf(v: unknown): readonly string[] | undefined {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return undefined;
}

/** Claims Envoy splits on spaces before matching (`spaceDelimitedClaims` defaults). */
const SPACE_DELIMITED = new Set(['scope', 'permission']);

/** `request.auth.claims[a][b]…`: a string claim, or the string elements of a list. */
export function claimValues(
  a: AuthzAttributes,
  path: readonly string[],
): readonly string[] | undefined {
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

export function all(preds: (Predicate | undefined)[]): Predicate {
  const list = preds.filter((p): p is Predicate => p !== undefined);
  return (a) => list.every((p) => p(a));
}

export function requestPrincipal(
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
