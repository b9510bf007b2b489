import type { RuleSpec } from './model.js';
import { isPathTemplate } from './string-match.js';

/**
 * Which rules of one policy can match a request path, so that evaluation runs those predicates
 * only. A rule whose every `to` entry lists `paths` made only of exact values and `prefix*` values
 * is indexed by them (a request on another path cannot match it: the `paths` field is ANDed into
 * each `to`, and the `to` entries are ORed); any other rule (no `to`, a `to` without `paths`,
 * `*`, `*suffix` or `{*}` templates) is a candidate for every path. Candidates come back in rule
 * order, so the first that matches is the rule a linear scan would report. @internal
 */
export interface RuleIndex {
  /** Ascending rule indexes that may match `path`. */
  candidates(path: string): readonly number[];
}

interface PathKeys {
  exact: string[];
  prefixes: string[];
}

/** The paths a rule requires, or undefined when it can match any path. */
function pathKeysOf(rule: RuleSpec): PathKeys | undefined {
  const to = rule.to;
  if (!to || to.length === 0) return undefined;
  const keys: PathKeys = { exact: [], prefixes: [] };
  for (const { operation } of to) {
    const paths = operation.paths;
    if (!paths || paths.length === 0) return undefined;
    for (const p of paths) {
      if (p.startsWith('*') || isPathTemplate(p)) return undefined;
      if (p.endsWith('*')) keys.prefixes.push(p.slice(0, -1));
      else keys.exact.push(p);
    }
  }
  return keys;
}

/** Fewer rules than this are scanned directly: an index does not pay for itself. */
const MIN_RULES = 8;

/** Builds the index of a policy's rules; undefined when scanning is as good. */
export function buildRuleIndex(rules: readonly RuleSpec[]): RuleIndex | undefined {
  if (rules.length < MIN_RULES) return undefined;
  const always: number[] = [];
  const exact = new Map<string, number[]>();
  const prefixes = new Map<string, number[]>();
  const add = (map: Map<string, number[]>, key: string, rule: number) => {
    const list = map.get(key);
    if (list === undefined) map.set(key, [rule]);
    else if (list[list.length - 1] !== rule) list.push(rule);
  };
  rules.forEach((rule, i) => {
    const keys = pathKeysOf(rule);
    if (!keys) {
      always.push(i);
      return;
    }
    for (const p of keys.exact) add(exact, p, i);
    for (const p of keys.prefixes) add(prefixes, p, i);
  });
  if (always.length === rules.length) return undefined;
  const prefixLengths = [...new Set([...prefixes.keys()].map((p) => p.length))].sort(
    (a, b) => a - b,
  );
  return {
    candidates(path) {
      const lists: (readonly number[])[] = [];
      if (always.length > 0) lists.push(always);
      const hit = exact.get(path);
      if (hit) lists.push(hit);
      for (const length of prefixLengths) {
        if (length > path.length) break;
        const list = prefixes.get(path.slice(0, length));
        if (list) lists.push(list);
      }
      return merge(lists);
    },
  };
}

const NONE: readonly number[] = [];

/** Ascending union of ascending lists (usually zero, one or two short lists). */
function merge(lists: (readonly number[])[]): readonly number[] {
  if (lists.length === 0) return NONE;
  if (lists.length === 1) return lists[0] as readonly number[];
  const all = new Set<number>();
  for (const list of lists) for (const i of list) all.add(i);
  return [...all].sort((a, b) => a - b);
}
