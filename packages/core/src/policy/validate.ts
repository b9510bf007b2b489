/** Small validators shared by the policy loaders: each error names its field path. */
import { PolicyError, type PolicyErrorLocation } from '../errors.js';
import type { PolicyMetadata } from './model.js';
import { parseBool } from './parse-bool.js';

const DRY_RUN_ANNOTATION = 'istio.io/dry-run';

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

export function validateSelector(raw: unknown, loc: Loc): { matchLabels?: Record<string, string> } {
  const obj = expectObject(raw, loc);
  onlyKeys(obj, ['matchLabels'], loc);
  if (obj['matchLabels'] === undefined) return {};
  const labels = expectObject(obj['matchLabels'], at(loc, 'matchLabels'));
  for (const [k, v] of Object.entries(labels))
    if (typeof v !== 'string')
      throw new PolicyError(
        'ERR_POLICY_VALUE',
        'label values are strings',
        at(loc, `matchLabels.${k}`),
      );
  return { matchLabels: labels as Record<string, string> };
}

export function validateMetadata(raw: unknown, loc: Loc): PolicyMetadata {
  const obj = expectObject(raw, loc);
  if (typeof obj['name'] !== 'string' || obj['name'] === '')
    throw new PolicyError('ERR_POLICY_VALUE', 'metadata.name is required', at(loc, 'name'));
  const meta: PolicyMetadata = { name: obj['name'] };
  if (obj['namespace'] !== undefined) {
    if (typeof obj['namespace'] !== 'string' || obj['namespace'] === '')
      throw new PolicyError(
        'ERR_POLICY_VALUE',
        'metadata.namespace must be a string',
        at(loc, 'namespace'),
      );
    meta.namespace = obj['namespace'];
  }
  if (obj['annotations'] !== undefined) {
    const annotations = expectObject(obj['annotations'], at(loc, 'annotations'));
    for (const [k, v] of Object.entries(annotations)) {
      if (typeof v !== 'string')
        throw new PolicyError(
          'ERR_POLICY_VALUE',
          'annotation values are strings (quote them)',
          at(loc, `annotations.${k}`),
        );
    }
    const dryRun = annotations[DRY_RUN_ANNOTATION];
    if (dryRun !== undefined && parseBool(dryRun as string) === undefined)
      throw new PolicyError(
        'ERR_POLICY_VALUE',
        'must be a boolean string ("true", "false", "1", "0", …)',
        at(loc, `annotations.${DRY_RUN_ANNOTATION}`),
      );
    meta.annotations = annotations as Record<string, string>;
  }
  return meta;
}
