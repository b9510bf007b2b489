/** One round of a paired measurement: the reference and the subject, one run each. */
export interface PairedRound {
  referenceRps: number;
  subjectRps: number;
  /** Server CPU per response; undefined without /proc. */
  referenceCpuUs: number | undefined;
  subjectCpuUs: number | undefined;
}

/** Subject against reference over the rounds of a paired measurement. */
export interface PairedRatios {
  rounds: number;
  /** Median of the per-round subject/reference req/s ratios. */
  rps: number;
  rpsMin: number;
  rpsMax: number;
  /** Median of the per-round reference/subject CPU-per-request ratios (higher is better, like req/s). */
  cpu: number | undefined;
}

/** The median of a non-empty list (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Per-round ratios, then their median: a round lost to a hiccup on either side does not decide. */
export function pairedRatios(rounds: readonly PairedRound[]): PairedRatios {
  const rps = rounds.map((r) => r.subjectRps / r.referenceRps);
  const cpu = rounds.flatMap((r) =>
    r.referenceCpuUs === undefined || r.subjectCpuUs === undefined
      ? []
      : [r.referenceCpuUs / r.subjectCpuUs],
  );
  return {
    rounds: rounds.length,
    rps: median(rps),
    rpsMin: Math.min(...rps),
    rpsMax: Math.max(...rps),
    cpu: cpu.length === rounds.length ? median(cpu) : undefined,
  };
}
