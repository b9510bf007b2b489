/** Small validators shared by the policy loaders: each error names its field path. */
import { PolicyError, type PolicyErrorLocation } from '../errors.js';

/** Where a value is, for error messages. */
export type Loc = PolicyErrorLocation;

export function at(loc: Loc, field: string): Loc {
  return { ...loc, field: loc.field ? `${loc.field}.${field}` : field };
}

export function index(loc: Loc, i: number): Loc {
  return { ...loc, field: `${loc.field ?? ''}[${i}]` };
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function expectObject(v: unknown, loc: Loc): Record<string, unknown> {
  if (!isObject(v)) throw new PolicyError('ERR_POLICY_FIELD', 'expected an object', loc);
  return v;
}

export function onlyKeys(
  obj: Record<string, unknown>,
  allowed: readonly string[],
  loc: Loc,
  later: readonly string[] = [],
): void {
  for (const key of Object.keys(obj)) {
    if (later.includes(key))
      throw new PolicyError(
        'ERR_POLICY_UNSUPPORTED',
        `field "${key}" is not supported by meshless yet`,
        at(loc, key),
      );
    if (!allowed.includes(key))
      throw new PolicyError('ERR_POLICY_FIELD', `unknown field "${key}"`, at(loc, key));
  }
}

export function stringList(v: unknown, loc: Loc): string[] {
  if (!Array.isArray(v) || v.length === 0)
    throw new PolicyError('ERR_POLICY_VALUE', 'expected a non-empty list of strings', loc);
  return v.map((item, i) => {
    if (typeof item !== 'string' || item === '')
      throw new PolicyError('ERR_POLICY_VALUE', 'expected a non-empty string', index(loc, i));
    return item;
  });
}
