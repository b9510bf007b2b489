import { describe, expect, it } from 'vitest';
import { appliesTo, type WorkloadScope } from '../../src/policy/scope.js';

const WORKLOAD: WorkloadScope = {
  namespace: 'payments',
  labels: { app: 'payments', version: 'v2' },
  rootNamespace: 'istio-system',
};
const doc = (namespace: string | undefined, matchLabels?: Record<string, string>) => ({
  metadata: { name: 'p', ...(namespace === undefined ? {} : { namespace }) },
  spec: matchLabels ? { selector: { matchLabels } } : {},
});

describe('appliesTo (policy scope)', () => {
  it.each<[string | undefined, Record<string, string> | undefined, boolean]>([
    ['payments', undefined, true],
    [undefined, undefined, true],
    ['istio-system', undefined, true],
    ['other', undefined, false],
    ['payments', {}, true],
    ['payments', { app: 'payments' }, true],
    ['payments', { app: 'payments', version: 'v2' }, true],
    ['payments', { app: 'payments', version: 'v1' }, false],
    ['payments', { app: 'payments', tier: 'x' }, false],
    ['payments', { app: 'Payments' }, false],
    ['istio-system', { app: 'payments' }, true],
    ['other', { app: 'payments' }, false],
  ])('namespace %j, matchLabels %j → %s', (ns, labels, expected) => {
    expect(appliesTo(doc(ns, labels), WORKLOAD)).toBe(expected);
  });

  it('honours a custom root namespace', () => {
    expect(appliesTo(doc('mesh-root'), { ...WORKLOAD, rootNamespace: 'mesh-root' })).toBe(true);
    expect(appliesTo(doc('istio-system'), { ...WORKLOAD, rootNamespace: 'mesh-root' })).toBe(false);
  });
});
