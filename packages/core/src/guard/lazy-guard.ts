import { internalErrorDecision, type Decision } from './decision.js';
import { createGuard, type Guard } from './guard.js';
import type { GuardOptions } from './options.js';

/** A {@link Guard} that may still be starting. */
export interface PendingGuard extends Guard {
  /** Resolves when the guard is built; rejects with the configuration error if it cannot be. */
  readonly ready: Promise<Guard>;
}

function isGuard(value: GuardOptions | Guard): value is Guard {
  return typeof (value as Partial<Guard>).check === 'function';
}

const UNAVAILABLE: Decision = internalErrorDecision('the guard could not be created');

/**
 * For adapters whose factory must return synchronously (Express middleware): takes a built guard
 * or options, and answers requests that arrive before the guard is ready once it is. If the
 * guard cannot be built, every request is denied with 503 (fail closed) and `ready` rejects.
 */
export function toPendingGuard(options: GuardOptions | Guard): PendingGuard {
  if (isGuard(options)) {
    const built = options;
    return {
      ready: Promise.resolve(built),
      get policies() {
        return built.policies;
      },
      check: (facts) => built.check(facts),
      explain: (facts) => built.explain(facts),
    };
  }
  const ready = createGuard(options);
  let guard: Guard | undefined;
  let failed = false;
  ready.then(
    (g) => (guard = g),
    () => (failed = true),
  );
  return {
    ready,
    get policies() {
      return guard?.policies ?? { authorizationPolicies: [], requestAuthentications: [] };
    },
    // Not async: once built, a check is the guard's own promise (no extra hops per request).
    check(facts) {
      if (guard) return guard.check(facts);
      if (failed) return Promise.resolve(UNAVAILABLE);
      // Before the guard is ready (rare): a failed build or check is a 503, as it always was.
      return ready.then((g) => g.check(facts)).then(undefined, () => UNAVAILABLE);
    },
    async explain(facts) {
      if (guard) return guard.explain(facts);
      if (failed) return { decision: UNAVAILABLE, stage: 'internal', policies: [] };
      try {
        return await (await ready).explain(facts);
      } catch {
        return { decision: UNAVAILABLE, stage: 'internal', policies: [] };
      }
    },
  };
}
