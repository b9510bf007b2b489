/** `pnpm bench` settings, read once from the environment (see run.ts for the variables). */
/** A problem with the benchmark itself (settings, a server, a run): reported without a stack. */
export class BenchError extends Error {}

function numberFromEnv(name: string, fallback: number, integer = false): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value)))
    throw new BenchError(
      `${name} must be a positive ${integer ? 'integer' : 'number'}, got "${raw}"`,
    );
  return value;
}

export const DURATION_SEC = numberFromEnv('BENCH_DURATION', 5);
export const WARMUP_SEC = numberFromEnv('BENCH_WARMUP', 1);
export const CONNECTIONS = numberFromEnv('BENCH_CONNECTIONS', 10, true);
/**
 * Distinct tokens for the uncached variants. More than meshless's verified-token cache holds
 * (10,000, LRU), so that even when a run goes round the pool, a token is evicted before it comes
 * back.
 */
export const TOKEN_POOL = numberFromEnv('BENCH_TOKEN_POOL', 20_000, true);
/** Rotating rounds of the uncached meshless rows against their jose row (see `measureGroup`). */
export const PAIR_ROUNDS = numberFromEnv('BENCH_PAIR_ROUNDS', 9, true);
/** Seconds per server per round: short rounds, many of them, make a steadier median. */
export const PAIR_ROUND_SEC = numberFromEnv('BENCH_PAIR_ROUND', 2);
