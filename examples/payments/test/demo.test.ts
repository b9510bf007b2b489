import { createSpanRecorder } from '@meshless/testing';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../src/demo.js';

describe('examples/payments', () => {
  it('every scenario ends as expected, with one decision line per guarded request and spans', async () => {
    const spans = createSpanRecorder();
    const lines: string[] = [];
    const { ok, outcomes } = await runDemo({
      log: (l) => lines.push(l),
      tracerProviderFor: () => spans.provider,
    });
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    expect(ok).toBe(true);
    expect(outcomes.length).toBeGreaterThanOrEqual(4);
    const decisions = lines.filter((l) =>
      /^\[(checkout|payment-processor)\s*\] (ALLOW|DENY)/.test(l),
    );
    // the allowed chain makes two decisions (checkout, then payment-processor); each denied call one
    expect(decisions).toHaveLength(outcomes.length + 1);
    expect(spans.byName('authz.decision')).toHaveLength(decisions.length);
    await spans.shutdown();
  });
});
