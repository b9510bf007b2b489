/** Istio mesh `pathNormalization` options, plus meshless's strict default. */
export type PathNormalization = 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';

/** The request-target split and normalized, or the reason it is refused (answered with 400). */
export type NormalizedPath =
  | { readonly ok: true; readonly path: string; readonly query: string | undefined }
  | { readonly ok: false; readonly detail: string };

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const NEEDS_WORK = /%|\\|\/\/|\/\.\.?(?:\/|$)/;

function decodeUnreserved(path: string, alsoSlashes: boolean): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (match, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    if (UNRESERVED.test(ch)) return ch;
    if (alsoSlashes && (ch === '/' || ch === '\\')) return ch;
    // Other escapes are kept, with upper-case hex so equal paths compare equal.
    return match.toUpperCase();
  });
}

/** RFC 3986 §5.2.4 dot-segment removal on an absolute path. */
function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i] as string;
    const last = i === segments.length - 1;
    if (seg === '.' || seg === '..') {
      if (seg === '..') out.pop();
      if (last) out.push('');
      continue;
    }
    out.push(seg);
  }
  return '/' + out.join('/');
}

/**
 * Normalizes a raw request-target the way Envoy does for Istio: the fragment and query are never
 * part of the matched path; `%00` is refused; BASE removes dot segments, turns `\` into `/` and
 * decodes unreserved escapes; MERGE_SLASHES also merges `//`; DECODE_AND_MERGE_SLASHES (the
 * meshless default) first decodes `%2F` and `%5C`. The application must receive the normalized
 * path, so routing agrees with the decision.
 */
export function normalizeRequestPath(
  raw: string,
  mode: PathNormalization = 'DECODE_AND_MERGE_SLASHES',
): NormalizedPath {
  const hash = raw.indexOf('#');
  const target = hash === -1 ? raw : raw.slice(0, hash);
  const q = target.indexOf('?');
  let path = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? undefined : target.slice(q + 1);
  if (/%00/.test(path)) return { ok: false, detail: 'path contains an encoded NUL' };
  if (!path.startsWith('/')) {
    if (path === '*') return { ok: true, path, query };
    return { ok: false, detail: 'path must be absolute' };
  }
  // Fast path: nothing to decode, no backslash, no dot segment, no empty segment.
  if (mode === 'NONE' || !NEEDS_WORK.test(path)) return { ok: true, path, query };
  path = decodeUnreserved(path, mode === 'DECODE_AND_MERGE_SLASHES');
  path = path.replace(/\\/g, '/');
  // Envoy's order: unescape slashes, then remove dot segments, then merge slashes.
  path = removeDotSegments(path);
  if (mode === 'MERGE_SLASHES' || mode === 'DECODE_AND_MERGE_SLASHES')
    path = path.replace(/\/{2,}/g, '/');
  return { ok: true, path, query };
}
