/**
 * PeerAuthentication loading and validation.
 *
 * Sources: istio.io reference "PeerAuthentication" (security.istio.io/v1) and istio/istio
 * `pkg/config/validation` `ValidatePeerAuthentication`, as summarized in istio-semantics.md §8, §2.
 */
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../src/errors.js';
import { loadPolicies, mergePolicySets } from '../../src/policy/load-policies.js';

const pa = (
  metadata: Record<string, unknown>,
  spec: Record<string, unknown> = {},
): Record<string, unknown> => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'PeerAuthentication',
  metadata,
  spec,
});

function loadError(raw: unknown): PolicyError {
  try {
    loadPolicies(raw as object);
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
  throw new Error('expected a PolicyError');
}

describe('PeerAuthentication: loading (reference page fields)', () => {
  it('loads v1 and v1beta1 documents into peerAuthentications', () => {
    const set = loadPolicies(`
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata:
  name: default
  namespace: foo
  creationTimestamp: "2024-01-02T03:04:05Z"
spec:
  mtls:
    mode: STRICT
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: finance, namespace: foo }
spec:
  selector: { matchLabels: { app: finance } }
  mtls: { mode: PERMISSIVE }
  portLevelMtls:
    "8080": { mode: DISABLE }
    "9090": {}
`);
    expect(set.authorizationPolicies).toEqual([]);
    expect(set.peerAuthentications).toEqual([
      {
        kind: 'PeerAuthentication',
        metadata: {
          name: 'default',
          namespace: 'foo',
          creationTimestamp: '2024-01-02T03:04:05.000Z',
        },
        spec: { mtls: { mode: 'STRICT' } },
      },
      {
        kind: 'PeerAuthentication',
        metadata: { name: 'finance', namespace: 'foo' },
        spec: {
          selector: { matchLabels: { app: 'finance' } },
          mtls: { mode: 'PERMISSIVE' },
          portLevelMtls: { '8080': { mode: 'DISABLE' }, '9090': { mode: 'UNSET' } },
        },
      },
    ]);
  });

  it('accepts an empty spec and mtls: {} (UNSET), and merges sets', () => {
    const a = loadPolicies([pa({ name: 'a' }), pa({ name: 'b' }, { mtls: {} })]);
    expect(a.peerAuthentications?.map((d) => d.spec)).toEqual([{}, { mtls: { mode: 'UNSET' } }]);
    expect(mergePolicySets([a, a]).peerAuthentications).toHaveLength(4);
    expect(
      mergePolicySets([{ authorizationPolicies: [], requestAuthentications: [] }])
        .peerAuthentications,
    ).toEqual([]);
  });

  it.each([
    [
      'unknown spec field',
      pa({ name: 'x' }, { targetRef: {} }),
      'ERR_POLICY_FIELD',
      'spec.targetRef',
    ],
    [
      'unknown mtls field',
      pa({ name: 'x' }, { mtls: { mod: 'STRICT' } }),
      'ERR_POLICY_FIELD',
      'spec.mtls.mod',
    ],
    [
      'unknown mode',
      pa({ name: 'x' }, { mtls: { mode: 'strict' } }),
      'ERR_POLICY_VALUE',
      'spec.mtls.mode',
    ],
    [
      'numeric mode',
      pa({ name: 'x' }, { mtls: { mode: 3 } }),
      'ERR_POLICY_VALUE',
      'spec.mtls.mode',
    ],
    ['mtls not an object', pa({ name: 'x' }, { mtls: 'STRICT' }), 'ERR_POLICY_FIELD', 'spec.mtls'],
    [
      'portLevelMtls without selector (mesh/namespace policy)',
      pa({ name: 'x' }, { portLevelMtls: { '8080': { mode: 'DISABLE' } } }),
      'ERR_POLICY_VALUE',
      'spec.portLevelMtls',
    ],
    [
      'portLevelMtls with an empty selector',
      pa({ name: 'x' }, { selector: {}, portLevelMtls: { '8080': { mode: 'DISABLE' } } }),
      'ERR_POLICY_VALUE',
      'spec.portLevelMtls',
    ],
    [
      'empty portLevelMtls',
      pa({ name: 'x' }, { selector: { matchLabels: { a: 'b' } }, portLevelMtls: {} }),
      'ERR_POLICY_VALUE',
      'spec.portLevelMtls',
    ],
    ...['0', '65536', 'http', '-1', '80.5'].map((port) => [
      `port ${port}`,
      pa({ name: 'x' }, { selector: { matchLabels: { a: 'b' } }, portLevelMtls: { [port]: {} } }),
      'ERR_POLICY_VALUE',
      `spec.portLevelMtls.${port}`,
    ]),
    [
      'bad port-level mode',
      pa(
        { name: 'x' },
        { selector: { matchLabels: { a: 'b' } }, portLevelMtls: { '80': { mode: 'ON' } } },
      ),
      'ERR_POLICY_VALUE',
      'spec.portLevelMtls.80.mode',
    ],
    [
      'label value not a string',
      pa({ name: 'x' }, { selector: { matchLabels: { a: 1 } } }),
      'ERR_POLICY_VALUE',
      'spec.selector.matchLabels.a',
    ],
    [
      'bad creationTimestamp',
      pa({ name: 'x', creationTimestamp: 'yesterday' }),
      'ERR_POLICY_VALUE',
      'metadata.creationTimestamp',
    ],
    ['missing name', pa({}), 'ERR_POLICY_VALUE', 'metadata.name'],
  ] as [string, unknown, string, string][])('%s → %s at %s', (_, raw, code, field) => {
    const error = loadError(raw);
    expect(error.code).toBe(code);
    expect(error.location.field).toBe(field);
  });
});
