import type { JWTPayload } from 'jose';
import type { JwtLocation, JwtRule } from '../policy/model.js';

/** The output fields of a rule. */
export type OutputRule = Partial<
  Pick<JwtRule, 'outputPayloadToHeader' | 'outputClaimToHeaders' | 'forwardOriginalToken'>
>;
import { cookieValues } from './locations.js';

/** Changes the adapters apply to the request before the application sees it. */
export interface RequestChanges {
  /** Lower-case header names to remove. */
  remove: string[];
  /** Headers to set (after removal). */
  set: Record<string, string>;
  /** Query parameters to remove from the URL the application receives. */
  removeParams: string[];
}

/** Every header a rule writes: incoming headers of these names are removed from every request. */
export function outputHeaderNames(rules: readonly OutputRule[]): string[] {
  const names = new Set<string>();
  for (const r of rules) {
    if (r.outputPayloadToHeader) names.add(r.outputPayloadToHeader);
    for (const o of r.outputClaimToHeaders ?? []) names.add(o.header);
  }
  return [...names];
}

/** A claim by dotted path; only strings, integers and booleans are output (as in Istio). */
function claimValue(payload: JWTPayload, path: string): string | undefined {
  let v: unknown = payload;
  for (const part of path.split('.')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean' || (typeof v === 'number' && Number.isInteger(v))) return String(v);
  return undefined;
}

/**
 * The request changes after a token verified under `rules` (the rules of its issuer): output
 * headers are set from the payload, and the token is removed from where it was found unless a
 * rule sets `forwardOriginalToken`.
 */
export function tokenOutputs(
  rules: readonly OutputRule[],
  payload: JWTPayload,
  location: JwtLocation,
  headers: Record<string, string | string[] | undefined>,
  changes: RequestChanges,
): void {
  for (const r of rules) {
    if (r.outputPayloadToHeader)
      changes.set[r.outputPayloadToHeader] = Buffer.from(JSON.stringify(payload)).toString(
        'base64url',
      );
    for (const o of r.outputClaimToHeaders ?? []) {
      const value = claimValue(payload, o.claim);
      if (value !== undefined && !/[\r\n\0]/.test(value)) changes.set[o.header] = value;
    }
  }
  if (rules.some((r) => r.forwardOriginalToken === true)) return;
  if ('header' in location) changes.remove.push(location.header);
  else if ('param' in location) changes.removeParams.push(location.param);
  else {
    // Keep the other cookies: rewrite the Cookie header without this one.
    const kept: string[] = [];
    const lines = headers['cookie'];
    for (const line of Array.isArray(lines) ? lines : lines ? [lines] : [])
      for (const pair of line.split(';')) {
        const eq = pair.indexOf('=');
        if (eq > 0 && pair.slice(0, eq).trim() === location.cookie) continue;
        if (pair.trim() !== '') kept.push(pair.trim());
      }
    if (cookieValues(headers, location.cookie).length > 0) {
      if (kept.length > 0) changes.set['cookie'] = kept.join('; ');
      else changes.remove.push('cookie');
    }
  }
}

/** Removes query parameters from a normalized URL (path + optional query). */
export function withoutParams(url: string, names: readonly string[]): string {
  if (names.length === 0) return url;
  const q = url.indexOf('?');
  if (q === -1) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const n of names) params.delete(n);
  const rest = params.toString();
  return rest === '' ? url.slice(0, q) : `${url.slice(0, q)}?${rest}`;
}
