/**
 * Istio AuthorizationPolicy fields beyond principals/namespaces/hosts/methods/paths/ports:
 * `serviceAccounts`, `ipBlocks`, `remoteIpBlocks`, path templates and `when` conditions.
 * The case tables live in ./cases/*.ts (each case carries its citation label as `ref`); they are
 * also run end to end through `guard.check` by ../guard/guard-policy-table.test.ts.
 *
 * Sources cited per case:
 * - [REF]   istio.io/latest/docs/reference/config/security/authorization-policy/
 * - [COND]  istio.io/latest/docs/reference/config/security/conditions/
 * - [PROTO] istio/api security/v1beta1/authorization_policy.proto (field comments)
 * - [MODEL] istio/istio pilot/pkg/security/authz/model (model.go, generator.go, matcher/)
 * - [VALID] istio/istio pkg/config/validation (AuthorizationPolicy) and pkg/config/security
 * - [ENVOY] Envoy uri_template_internal.cc / header matcher
 * - CVE / ISTIO-SECURITY ids: istio.io security bulletins
 */
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../src/errors.js';
import { compilePolicy, type AuthzAttributes } from '../../src/policy/compile-policy.js';
import { loadPolicies } from '../../src/policy/load-policies.js';
import { IP_BLOCK_CASES, REMOTE_IP_BLOCK_CASES } from './cases/ip-blocks.js';
import { PATH_TEMPLATE_CASES } from './cases/path-templates.js';
import { SERVICE_ACCOUNT_CASES } from './cases/service-accounts.js';
import { op, src, when } from './cases/types.js';
import { WHEN_AUTH_CASES } from './cases/when-auth-conditions.js';
import { WHEN_REQUEST_CASES } from './cases/when-conditions.js';
import { attrs, CTX } from './helpers.js';

const doc = (rule: unknown, metadata: Record<string, unknown> = {}) => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'p', ...metadata },
  spec: { rules: [rule] },
});

/** Loads (so validation runs) and compiles one rule, then evaluates it. */
function matches(rule: unknown, a: Partial<AuthzAttributes>, namespace?: string): boolean {
  const set = loadPolicies(doc(rule, namespace ? { namespace } : {}));
  const compiled = compilePolicy(set.authorizationPolicies[0]!, CTX);
  return compiled.rules[0]!(attrs(a));
}

describe('serviceAccounts / notServiceAccounts', () => {
  it.each(SERVICE_ACCOUNT_CASES)('%s', (_name, _ref, rule, a, expected) => {
    const namespace = _name.includes('namespace shop') ? 'shop' : undefined;
    expect(matches(rule, a, namespace)).toBe(expected);
  });
});

describe('ipBlocks / notIpBlocks (direct peer IP)', () => {
  it.each(IP_BLOCK_CASES)('%s', (_name, _ref, rule, a, expected) => {
    expect(matches(rule, a)).toBe(expected);
  });
});

describe('remoteIpBlocks / notRemoteIpBlocks (client IP)', () => {
  it.each(REMOTE_IP_BLOCK_CASES)('%s', (_name, _ref, rule, a, expected) => {
    expect(matches(rule, a)).toBe(expected);
  });
});

describe('path templates', () => {
  it.each(PATH_TEMPLATE_CASES)('%s', (_name, _ref, rule, a, expected) => {
    expect(matches(rule, a)).toBe(expected);
  });
});

describe('when conditions', () => {
  it.each([...WHEN_REQUEST_CASES, ...WHEN_AUTH_CASES])('%s', (_name, _ref, rule, a, expected) => {
    expect(matches(rule, a)).toBe(expected);
  });
});

function loadError(d: unknown): PolicyError {
  try {
    loadPolicies(d as object);
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
  throw new Error('expected a PolicyError');
}

describe('validation errors name the field', () => {
  it.each<[string, unknown, string]>([
    // [VALID] serviceAccounts cannot be combined with principals.
    [
      'serviceAccounts + principals',
      src({ serviceAccounts: ['a/b'], principals: ['*'] }),
      'spec.rules[0].from[0].source.serviceAccounts',
    ],
    // [VALID] serviceAccounts cannot be combined with namespaces.
    [
      'serviceAccounts + namespaces',
      src({ serviceAccounts: ['a/b'], namespaces: ['a'] }),
      'spec.rules[0].from[0].source.serviceAccounts',
    ],
    // [VALID] notServiceAccounts + notPrincipals.
    [
      'notServiceAccounts + notPrincipals',
      src({ notServiceAccounts: ['b'], notPrincipals: ['x'] }),
      'spec.rules[0].from[0].source.notServiceAccounts',
    ],
    // [VALID] no `*` in serviceAccounts.
    [
      'serviceAccounts *',
      src({ serviceAccounts: ['*'] }),
      'spec.rules[0].from[0].source.serviceAccounts[0]',
    ],
    // [PROTO] format ns/sa or sa.
    [
      'serviceAccounts a/b/c',
      src({ serviceAccounts: ['a/b/c'] }),
      'spec.rules[0].from[0].source.serviceAccounts[0]',
    ],
    // [VALID] ValidateIPSubnet.
    [
      'ipBlocks hostname',
      src({ ipBlocks: ['example.com'] }),
      'spec.rules[0].from[0].source.ipBlocks[0]',
    ],
    // [VALID] prefix out of range (IPv6).
    ['ipBlocks /129', src({ ipBlocks: ['::/129'] }), 'spec.rules[0].from[0].source.ipBlocks[0]'],
    // [VALID] notRemoteIpBlocks.
    [
      'notRemoteIpBlocks bad',
      src({ notRemoteIpBlocks: ['1.2.3.4/x'] }),
      'spec.rules[0].from[0].source.notRemoteIpBlocks[0]',
    ],
    // [VALID pkg/config/security CheckValidPathTemplate] `{**}` must be last.
    ['{**} twice', op({ paths: ['/{**}/a/{**}'] }), 'spec.rules[0].to[0].operation.paths[0]'],
    // [VALID] operators are whole segments.
    ['{*} inside a segment', op({ paths: ['/a{*}'] }), 'spec.rules[0].to[0].operation.paths[0]'],
    // [VALID] a `*` in a template literal segment.
    ['* in template', op({ notPaths: ['/a*/{*}'] }), 'spec.rules[0].to[0].operation.notPaths[0]'],
    // [VALID] `{`/`}` outside an operator.
    ['{name}', op({ paths: ['/users/{id}'] }), 'spec.rules[0].to[0].operation.paths[0]'],
    // [COND] unknown key.
    ['unknown key', when({ key: 'request.method', values: ['GET'] }), 'spec.rules[0].when[0].key'],
    // [COND] experimental.envoy.filters.* is out of scope.
    [
      'envoy filter key',
      when({
        key: 'experimental.envoy.filters.network.mysql_proxy[db.table]',
        values: ['[update]'],
      }),
      'spec.rules[0].when[0].key',
    ],
    // [VALID] destination.labels is rejected.
    [
      'destination.labels',
      when({ key: 'destination.labels[app]', values: ['a'] }),
      'spec.rules[0].when[0].key',
    ],
    // [VALID] destination.namespace is rejected.
    [
      'destination.namespace',
      when({ key: 'destination.namespace', values: ['a'] }),
      'spec.rules[0].when[0].key',
    ],
    // [COND] request.headers[] needs a name.
    [
      'empty header name',
      when({ key: 'request.headers[]', values: ['a'] }),
      'spec.rules[0].when[0].key',
    ],
    // [COND] claims key needs brackets.
    [
      'claims without brackets',
      when({ key: 'request.auth.claims', values: ['a'] }),
      'spec.rules[0].when[0].key',
    ],
    // [COND] malformed nested claim.
    [
      'claims trailing text',
      when({ key: 'request.auth.claims[a]b', values: ['a'] }),
      'spec.rules[0].when[0].key',
    ],
    // [VALID] values or notValues required.
    ['no values', when({ key: 'source.ip' }), 'spec.rules[0].when[0]'],
    // [VALID] empty values list.
    ['empty values', when({ key: 'source.ip', values: [] }), 'spec.rules[0].when[0].values'],
    // [VALID] empty string value.
    [
      'empty string value',
      when({ key: 'connection.sni', notValues: [''] }),
      'spec.rules[0].when[0].notValues',
    ],
    // [VALID] source.ip values are IPs.
    [
      'source.ip not an IP',
      when({ key: 'source.ip', values: ['abc'] }),
      'spec.rules[0].when[0].values[0]',
    ],
    // [VALID] destination.port values are ports.
    [
      'destination.port not a port',
      when({ key: 'destination.port', values: ['http'] }),
      'spec.rules[0].when[0].values[0]',
    ],
    // [VALID] unknown field in a condition.
    [
      'unknown condition field',
      when({ key: 'source.ip', values: ['1.1.1.1'], extra: 1 }),
      'spec.rules[0].when[0].extra',
    ],
    // [VALID] key required.
    ['missing key', when({ values: ['1'] }), 'spec.rules[0].when[0].key'],
  ])('%s → %s', (_name, rule, field) => {
    const error = loadError(doc(rule));
    expect(error.location?.field?.startsWith(field)).toBe(true);
    expect(error.code).not.toBe('ERR_POLICY_UNSUPPORTED');
  });

  it('CUSTOM without a provider is refused as invalid', () => {
    const error = loadError({ ...doc({}), spec: { action: 'CUSTOM', rules: [{}] } });
    expect(error.code).toBe('ERR_POLICY_VALUE');
    expect(error.location?.field).toBe('spec.provider');
  });
});
