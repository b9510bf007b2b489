import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../../src/policy/compile-policy.js';
import { evaluatePolicies } from '../../src/policy/evaluate.js';
import type { RuleSpec } from '../../src/policy/model.js';
import { buildRuleIndex } from '../../src/policy/rule-index.js';
import { attrs, CTX, policy } from './helpers.js';

const paths = (...p: string[]): RuleSpec => ({ to: [{ operation: { paths: p } }] });
/** Pads a rule list past the size under which no index is built. */
const padded = (rules: RuleSpec[]): RuleSpec[] => [
  ...rules,
  ...Array.from({ length: 20 }, (_, i) => paths(`/pad/${i}`)),
];

describe('buildRuleIndex', () => {
  it('is not built for small policies or when no rule can be indexed', () => {
    expect(buildRuleIndex([paths('/a'), paths('/b')])).toBeUndefined();
    expect(buildRuleIndex(Array.from({ length: 20 }, () => ({})))).toBeUndefined();
  });

  it('returns, in rule order, the rules whose exact or prefix paths fit, plus every unindexed rule', () => {
    const index = buildRuleIndex(
      padded([
        paths('/api/orders'), // 0 exact
        paths('/api/*'), // 1 prefix
        {}, // 2 no `to`: any path
        { to: [{ operation: { methods: ['GET'] } }] }, // 3 no paths: any path
        paths('*/admin'), // 4 suffix: any path
        paths('/users/{*}/profile'), // 5 template: any path
        paths('/api/orders', '/v2/*'), // 6 exact or prefix
        { to: [{ operation: { paths: ['/x'] } }, { operation: { hosts: ['h'] } }] }, // 7 one `to` without paths
        paths('/api/orders*'), // 8 prefix that also covers /api/orders-archive
        paths('/mid*dle'), // 9 middle * is literal (Istio): exact
        paths('*'), // 10 any non-empty path
      ]),
    );
    if (!index) throw new Error('expected an index');
    const always = [2, 3, 4, 5, 7, 10];
    expect(index.candidates('/api/orders')).toEqual([0, 1, ...always, 6, 8].sort((a, b) => a - b));
    expect(index.candidates('/api/orders-archive')).toEqual(
      [1, ...always, 8].sort((a, b) => a - b),
    );
    expect(index.candidates('/v2/anything')).toEqual([...always, 6].sort((a, b) => a - b));
    expect(index.candidates('/mid*dle')).toEqual([...always, 9].sort((a, b) => a - b));
    expect(index.candidates('/middle')).toEqual(always);
    expect(index.candidates('/pad/3')).toEqual([...always, 14].sort((a, b) => a - b));
    expect(index.candidates('/')).toEqual(always);
  });
});

describe('indexed evaluation', () => {
  it('reports the same first matching rule as a full scan, on random policies and requests', () => {
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const segment = () => ['api', 'v1', 'orders', 'admin', 'x', 'a*b'][random(6)] as string;
    const somePath = () => `/${segment()}/${segment()}${random(3) === 0 ? `/${segment()}` : ''}`;
    const pathValue = (): string => {
      const p = somePath();
      switch (random(7)) {
        case 0:
          return `${p}*`;
        case 1:
          return `${p.slice(0, 1 + random(p.length))}*`;
        case 2:
          return `*${p.slice(random(p.length))}`;
        case 3:
          return '/{*}/orders';
        default:
          return p;
      }
    };
    const ruleOf = (): RuleSpec => {
      const kind = random(10);
      if (kind === 0) return {};
      if (kind === 1) return { to: [{ operation: { methods: ['POST'] } }] };
      const to = Array.from({ length: 1 + random(2) }, () => ({
        operation: {
          paths: Array.from({ length: 1 + random(3) }, pathValue),
          ...(random(3) === 0 ? { methods: ['GET'] } : {}),
        },
      }));
      return { to };
    };
    let laterRuleMatches = 0;
    for (let round = 0; round < 40; round++) {
      const rules = Array.from({ length: 16 + random(60) }, ruleOf);
      const compiled = compilePolicy(policy('p', { action: 'ALLOW', rules }), CTX);
      expect(compiled.index).toBeDefined();
      const { index: _index, ...scan } = compiled; // the same policy, scanned rule by rule
      for (let r = 0; r < 50; r++) {
        const request = attrs({ path: somePath(), method: random(2) ? 'GET' : 'POST' });
        const indexed = evaluatePolicies([compiled], request);
        expect(indexed).toEqual(evaluatePolicies([scan], request));
        if (indexed.allow && (indexed.rule ?? 0) > 0) laterRuleMatches++;
      }
    }
    // The table is not trivial: many requests are decided by a rule other than the first.
    expect(laterRuleMatches).toBeGreaterThan(200);
  });
});
