/**
 * PeerAuthentication composition.
 *
 * Sources: istio.io reference "PeerAuthentication" (security.istio.io/v1) and istio/istio
 * `pilot/pkg/security/authn` `ComposePeerAuthentication` / `getOldestPeerAuthn`, as
 * summarized in istio-semantics.md §8, §2.
 */
import { describe, expect, it } from 'vitest';
import { loadPolicies } from '../../src/policy/load-policies.js';
import type { PeerAuthentication } from '../../src/policy/model.js';
import {
  composePeerAuthentication,
  peerModeByPort,
  type EffectiveMtlsMode,
} from '../../src/policy/peer-authentication.js';
import type { WorkloadScope } from '../../src/policy/scope.js';

const pa = (
  metadata: Record<string, unknown>,
  spec: Record<string, unknown> = {},
): Record<string, unknown> => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'PeerAuthentication',
  metadata,
  spec,
});

const WORKLOAD: WorkloadScope = {
  namespace: 'payments',
  labels: { app: 'payments', tier: 'api' },
  rootNamespace: 'istio-system',
};

function docs(...raw: Record<string, unknown>[]): readonly PeerAuthentication[] {
  return loadPolicies(raw).peerAuthentications ?? [];
}

function compose(raw: Record<string, unknown>[], defaultMode: EffectiveMtlsMode = 'STRICT') {
  return composePeerAuthentication(docs(...raw), WORKLOAD, defaultMode);
}

const mesh = (mode: string, extra: Record<string, unknown> = {}) =>
  pa({ name: 'default', namespace: 'istio-system', ...extra }, { mtls: { mode } });
const ns = (mode: string, extra: Record<string, unknown> = {}) =>
  pa({ name: 'default', namespace: 'payments', ...extra }, { mtls: { mode } });
const wl = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  pa(
    { name: 'payments', namespace: 'payments', ...extra },
    { selector: { matchLabels: { app: 'payments' } }, ...spec },
  );

describe('ComposePeerAuthentication: precedence (mesh < namespace < workload)', () => {
  it.each<[string, Record<string, unknown>[], EffectiveMtlsMode]>([
    ['no document: the guard default', [], 'STRICT'],
    ['mesh-wide only', [mesh('PERMISSIVE')], 'PERMISSIVE'],
    ['namespace overrides mesh', [mesh('PERMISSIVE'), ns('STRICT')], 'STRICT'],
    [
      'workload overrides namespace',
      [mesh('STRICT'), ns('STRICT'), wl({ mtls: { mode: 'DISABLE' } })],
      'DISABLE',
    ],
    ['UNSET namespace inherits mesh', [mesh('DISABLE'), ns('UNSET')], 'DISABLE'],
    [
      'UNSET workload inherits namespace',
      [ns('PERMISSIVE'), wl({ mtls: { mode: 'UNSET' } })],
      'PERMISSIVE',
    ],
    ['workload without mtls inherits', [mesh('PERMISSIVE'), wl({})], 'PERMISSIVE'],
    ['UNSET everywhere: the guard default', [mesh('UNSET'), ns('UNSET'), wl({})], 'STRICT'],
    [
      'a selector policy in the root namespace is ignored',
      [
        pa(
          { name: 'r', namespace: 'istio-system' },
          { selector: { matchLabels: { app: 'payments' } }, mtls: { mode: 'DISABLE' } },
        ),
      ],
      'STRICT',
    ],
    [
      'other namespaces do not apply',
      [pa({ name: 'o', namespace: 'other' }, { mtls: { mode: 'DISABLE' } })],
      'STRICT',
    ],
    [
      'a selector that does not match',
      [wl({ selector: { matchLabels: { app: 'web' } }, mtls: { mode: 'DISABLE' } })],
      'STRICT',
    ],
    [
      'no namespace: the workload namespace',
      [pa({ name: 'n' }, { mtls: { mode: 'PERMISSIVE' } })],
      'PERMISSIVE',
    ],
  ])('%s', (_, raw, expected) => {
    expect(compose(raw).mode).toBe(expected);
  });

  it("the guard default replaces Istio's top-level PERMISSIVE only where nothing is set", () => {
    expect(compose([], 'PERMISSIVE').mode).toBe('PERMISSIVE');
    expect(compose([ns('UNSET')], 'DISABLE').mode).toBe('DISABLE');
    expect(compose([mesh('STRICT')], 'PERMISSIVE').mode).toBe('STRICT');
  });

  it('within one scope the oldest creationTimestamp wins, then name order; undated counts as newest', () => {
    const old = { creationTimestamp: '2020-01-01T00:00:00Z' };
    const young = { creationTimestamp: '2025-01-01T00:00:00Z' };
    expect(
      compose([ns('DISABLE', { name: 'b', ...young }), ns('STRICT', { name: 'a', ...old })]).mode,
    ).toBe('STRICT');
    expect(
      compose([ns('STRICT', { name: 'b', ...old }), ns('PERMISSIVE', { name: 'a', ...young })])
        .mode,
    ).toBe('STRICT');
    expect(compose([ns('DISABLE', { name: 'b' }), ns('PERMISSIVE', { name: 'a' })]).mode).toBe(
      'PERMISSIVE',
    );
    expect(
      compose([ns('DISABLE', { name: 'a' }), ns('PERMISSIVE', { name: 'b', ...young })]).mode,
    ).toBe('PERMISSIVE');
    // The oldest document decides even when its mode is UNSET (it inherits; the younger one is not consulted).
    expect(
      compose([
        mesh('PERMISSIVE'),
        ns('UNSET', { name: 'a', ...old }),
        ns('DISABLE', { name: 'b', ...young }),
      ]).mode,
    ).toBe('PERMISSIVE');
    expect(
      compose([
        wl({ mtls: { mode: 'DISABLE' } }, { name: 'w2', ...young }),
        wl({ mtls: { mode: 'PERMISSIVE' } }, { name: 'w1', ...old }),
      ]).mode,
    ).toBe('PERMISSIVE');
  });
});

describe('ComposePeerAuthentication: portLevelMtls', () => {
  const ports = (raw: Record<string, unknown>[], defaultMode: EffectiveMtlsMode = 'STRICT') =>
    peerModeByPort(compose(raw, defaultMode));

  it('overrides the workload mode on its ports only', () => {
    const modeFor = ports([
      wl({
        mtls: { mode: 'STRICT' },
        portLevelMtls: { '8080': { mode: 'PERMISSIVE' }, '9000': { mode: 'DISABLE' } },
      }),
    ]);
    expect([modeFor(8080), modeFor(9000), modeFor(8443), modeFor(undefined)]).toEqual([
      'PERMISSIVE',
      'DISABLE',
      'STRICT',
      'STRICT',
    ]);
  });

  it('a port-level UNSET inherits the composed workload mode', () => {
    const modeFor = ports([
      ns('PERMISSIVE'),
      wl({ portLevelMtls: { '8080': { mode: 'UNSET' }, '9000': { mode: 'STRICT' } } }),
    ]);
    expect([modeFor(8080), modeFor(9000), modeFor(1)]).toEqual([
      'PERMISSIVE',
      'STRICT',
      'PERMISSIVE',
    ]);
    expect(
      compose([mesh('DISABLE'), wl({ portLevelMtls: { '8080': {} } })]).perPort.get(8080),
    ).toBe('DISABLE');
  });

  it('only the oldest workload policy contributes ports', () => {
    const modeFor = ports([
      wl(
        { portLevelMtls: { '8080': { mode: 'DISABLE' } } },
        { name: 'young', creationTimestamp: '2025-01-01T00:00:00Z' },
      ),
      wl(
        { portLevelMtls: { '9000': { mode: 'DISABLE' } } },
        { name: 'old', creationTimestamp: '2020-01-01T00:00:00Z' },
      ),
    ]);
    expect([modeFor(8080), modeFor(9000)]).toEqual(['STRICT', 'DISABLE']);
  });
});
