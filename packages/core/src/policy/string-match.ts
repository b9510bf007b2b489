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
