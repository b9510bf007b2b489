/**
 * Explains one compiled AuthorizationPolicy against one request: which rules matched and, for the
 * others, the first condition that did not. For humans and tooling (`guard.explain`), never on
 * the hot path. Reports field paths and policy names only, never attribute or claim values.
 */
import type { AuthzAttributes, CompiledPolicy, NamedCheck, RuleParts } from './compile-policy.js';

/** One rule of a policy, as evaluated for one request. */
export interface RuleExplanation {
  /** Index of the rule in `spec.rules`. */
  index: number;
  matched: boolean;
  /**
   * For a rule that did not match: the field path of the first condition that failed, in Istio's
   * order `from`, then `to`, then `when`, e.g. `from[0].source.principals`,
   * `to[0].operation.notPaths`, `when[1] request.auth.claims[groups]` (a `when` entry's
   * `notValues` ends with ` notValues`). With several `from` (or `to`) entries, none of which
   * matched, it is the first entry's; `alternatives` then lists each entry's.
   */
  failed?: string;
  /** When `failed` is in a `from` or `to` section of several entries: each entry's first failure. */
  alternatives?: string[];
}

/** One AuthorizationPolicy in scope for the workload, as evaluated for one request. */
export interface PolicyExplanation {
  /** `namespace/name`. */
  policy: string;
  action: 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';
  /** `istio.io/dry-run: "true"`: evaluated and reported, never enforced. */
  dryRun: boolean;
  /**
   * False when the request was decided before this policy's stage ran (CUSTOM policies run before
   * the token, DENY/ALLOW/AUDIT after it): `matched` is then false and `rules` empty.
   */
  evaluated: boolean;
  /** True when any rule matched (a policy without rules never matches). */
  matched: boolean;
  /** Index of the first matching rule, the one `check` reports. */
  rule?: number;
  /** Every rule, in order (also those after the first match). */
  rules: RuleExplanation[];
}

/** The first check of a list that fails, or undefined when all hold. */
function firstFailure(checks: readonly NamedCheck[], attrs: AuthzAttributes): string | undefined {
  for (const c of checks) if (!c.test(attrs)) return c.path;
  return undefined;
}

/** An OR section (`from` or `to`): undefined when an entry holds, else each entry's first failure. */
function failedEntries(
  entries: readonly (readonly NamedCheck[])[] | undefined,
  attrs: AuthzAttributes,
): string[] | undefined {
  if (!entries) return undefined;
  const failures: string[] = [];
  for (const checks of entries) {
    const failure = firstFailure(checks, attrs);
    if (failure === undefined) return undefined;
    failures.push(failure);
  }
  return failures;
}

/** Where a rule that did not match failed (undefined when its parts find no failure). */
function explainFailure(
  parts: RuleParts,
  attrs: AuthzAttributes,
): Pick<RuleExplanation, 'failed' | 'alternatives'> {
  const section = failedEntries(parts.from, attrs) ?? failedEntries(parts.to, attrs);
  if (section && section.length > 0)
    return { failed: section[0] as string, ...(section.length > 1 && { alternatives: section }) };
  const when = parts.when && firstFailure(parts.when, attrs);
  return when === undefined ? {} : { failed: when };
}

/**
 * Evaluates every rule of `policy` against `attrs`. Whether a rule matched comes from the same
 * compiled predicate `check` uses, so it always agrees with `check`; the failing field comes from
 * the rule's parts (compiled on first use).
 */
export function explainPolicy(policy: CompiledPolicy, attrs: AuthzAttributes): PolicyExplanation {
  const parts = policy.parts?.();
  let first: number | undefined;
  const rules = policy.rules.map((predicate, index): RuleExplanation => {
    if (predicate(attrs)) {
      first ??= index;
      return { index, matched: true };
    }
    const rule = parts?.[index];
    return { index, matched: false, ...(rule && explainFailure(rule, attrs)) };
  });
  return {
    policy: policy.name,
    action: policy.action,
    dryRun: policy.dryRun,
    evaluated: true,
    matched: first !== undefined,
    ...(first !== undefined && { rule: first }),
    rules,
  };
}

/** A policy whose stage did not run for this request. */
export function notEvaluated(policy: CompiledPolicy): PolicyExplanation {
  return {
    policy: policy.name,
    action: policy.action,
    dryRun: policy.dryRun,
    evaluated: false,
    matched: false,
    rules: [],
  };
}
