import { describe, expect, it } from 'vitest';
import {
  compilePolicy,
  type AuthzAttributes,
  type CompileContext,
} from '../../src/policy/compile-policy.js';
import type { OperationSpec, RuleSpec, SourceSpec } from '../../src/policy/model.js';
import {
  HOST_CASES,
  METHOD_CASES,
  PATH_VALUE_CASES,
  PORT_CASES,
  STRUCTURE_CASES,
  STRUCTURE_RULE,
} from './cases/operations.js';
import { NAMESPACE_CASES, NOT_PRINCIPAL_CASES, PRINCIPAL_CASES } from './cases/principals.js';
import { REQUEST_PRINCIPAL_CASES } from './cases/request-principals.js';
import { attrs, CTX, fromSource, policy, toOperation } from './helpers.js';

function ruleMatches(rule: RuleSpec, a: AuthzAttributes, ctx: CompileContext = CTX): boolean {
  const compiled = compilePolicy(policy('p', { rules: [rule] }), ctx);
  expect(compiled.rules).toHaveLength(1);
  return compiled.rules[0]!(a);
}
const sourceMatches = (s: SourceSpec, a: AuthzAttributes, ctx?: CompileContext) =>
  ruleMatches(fromSource(s), a, ctx);
const operationMatches = (o: OperationSpec, a: AuthzAttributes) => ruleMatches(toOperation(o), a);

describe('compilePolicy: metadata', () => {
  it('names the policy namespace/name, defaulting the namespace to the workload', () => {
    expect(compilePolicy(policy('a', {}, { namespace: 'istio-system' }), CTX).name).toBe(
      'istio-system/a',
    );
    expect(compilePolicy(policy('a', {}), CTX).name).toBe('payments/a');
  });

  it('defaults the action to ALLOW', () => {
    expect(compilePolicy(policy('a', {}), CTX).action).toBe('ALLOW');
    expect(compilePolicy(policy('a', { action: 'DENY', rules: [{}] }), CTX).action).toBe('DENY');
  });

  it.each([
    [{ 'istio.io/dry-run': 'true' }, true],
    [{ 'istio.io/dry-run': 'false' }, false],
    [{ 'istio.io/dry-run': '' }, false],
    [{ other: 'true' }, false],
    [undefined, false],
  ])('dry-run annotation %j → %s', (annotations, dryRun) => {
    const meta = annotations ? { annotations } : {};
    expect(compilePolicy(policy('a', {}, meta), CTX).dryRun).toBe(dryRun);
  });

  it('reads the dry-run annotation as Istio does (strconv.ParseBool): "True", "TRUE", "1" and "t" mean dry-run', () => {
    for (const value of ['True', 'TRUE', '1', 't', 'T']) {
      expect(
        compilePolicy(policy('a', {}, { annotations: { 'istio.io/dry-run': value } }), CTX).dryRun,
        value,
      ).toBe(true);
    }
  });

  it('a policy without rules (or with rules: []) compiles to no rule; rules: [{}] to one always-true rule', () => {
    expect(compilePolicy(policy('a', {}), CTX).rules).toHaveLength(0);
    expect(compilePolicy(policy('a', { rules: [] }), CTX).rules).toHaveLength(0);
    expect(ruleMatches({}, attrs())).toBe(true);
    expect(
      ruleMatches({}, attrs({ principal: 'spiffe://example.org/ns/a/sa/b', method: 'DELETE' })),
    ).toBe(true);
  });
});

describe('value matching (paths): exact, prefix, suffix, `*`, literal middle `*`, case-sensitive', () => {
  it.each(PATH_VALUE_CASES)('%j vs %j → %s', (pattern, path, expected) => {
    expect(operationMatches({ paths: [pattern] }, attrs({ path }))).toBe(expected);
  });

  it('`*` means non-empty', () => {
    expect(operationMatches({ hosts: ['*'] }, attrs({ host: 'x' }))).toBe(true);
    expect(operationMatches({ hosts: ['*'] }, attrs({ host: '' }))).toBe(false);
  });

  it('values are ORed; notValues is NOT(OR); both are ANDed', () => {
    expect(operationMatches({ paths: ['/a', '/b'] }, attrs({ path: '/b' }))).toBe(true);
    expect(operationMatches({ notPaths: ['/a', '/b'] }, attrs({ path: '/b' }))).toBe(false);
    expect(operationMatches({ notPaths: ['/a', '/b'] }, attrs({ path: '/c' }))).toBe(true);
    expect(
      operationMatches(
        { paths: ['/api/*'], notPaths: ['/api/admin*'] },
        attrs({ path: '/api/users' }),
      ),
    ).toBe(true);
    expect(
      operationMatches(
        { paths: ['/api/*'], notPaths: ['/api/admin*'] },
        attrs({ path: '/api/admin/x' }),
      ),
    ).toBe(false);
  });
});

describe('principals (peer SPIFFE ID, `spiffe://` prefix semantics, trust-domain aliases)', () => {
  const ID = 'spiffe://example.org/ns/x/sa/y';
  it.each(PRINCIPAL_CASES)('%j vs %j → %s', (value, principal, expected) => {
    expect(sourceMatches({ principals: [value] }, attrs({ principal }))).toBe(expected);
  });

  it('the suffix form needs the whole `spiffe://` prefix before the suffix', () => {
    // `spiffe://` + `.*` + suffix: the suffix cannot overlap the scheme.
    expect(sourceMatches({ principals: ['*//x'] }, attrs({ principal: 'spiffe://x' }))).toBe(false);
    expect(sourceMatches({ principals: ['*//x'] }, attrs({ principal: 'spiffe://a//x' }))).toBe(
      true,
    );
  });

  it('without aliases only the mesh trust domain is produced', () => {
    const ctx = { trustDomain: 'mesh.test', trustDomainAliases: [], namespace: 'ns' };
    expect(
      sourceMatches(
        { principals: ['cluster.local/ns/x/sa/y'] },
        attrs({ principal: 'spiffe://mesh.test/ns/x/sa/y' }),
        ctx,
      ),
    ).toBe(true);
    expect(
      sourceMatches({ principals: ['cluster.local/ns/x/sa/y'] }, attrs({ principal: ID }), ctx),
    ).toBe(false);
  });

  it('a mesh whose trust domain is cluster.local matches its own IDs', () => {
    const ctx = { trustDomain: 'cluster.local', trustDomainAliases: [], namespace: 'ns' };
    expect(
      sourceMatches(
        { principals: ['cluster.local/ns/x/sa/y'] },
        attrs({ principal: 'spiffe://cluster.local/ns/x/sa/y' }),
        ctx,
      ),
    ).toBe(true);
  });

  it.each(NOT_PRINCIPAL_CASES)(
    'notPrincipals %j vs %j → %s (missing principal: true)',
    (value, principal, expected) => {
      expect(sourceMatches({ notPrincipals: [value] }, attrs({ principal }))).toBe(expected);
    },
  );
});

describe('namespaces (regex `.*/ns/<v>/.*` over the peer ID)', () => {
  it.each(NAMESPACE_CASES)('%j vs %j → %s', (ns, principal, expected) => {
    expect(sourceMatches({ namespaces: [ns] }, attrs({ principal }))).toBe(expected);
  });

  it('notNamespaces is true when the peer is anonymous (ISTIO-SECURITY-2021-004)', () => {
    expect(sourceMatches({ notNamespaces: ['x'] }, attrs())).toBe(true);
    expect(
      sourceMatches(
        { notNamespaces: ['x'] },
        attrs({ principal: 'spiffe://example.org/ns/x/sa/y' }),
      ),
    ).toBe(false);
    expect(
      sourceMatches(
        { notNamespaces: ['x'] },
        attrs({ principal: 'spiffe://example.org/ns/z/sa/y' }),
      ),
    ).toBe(true);
    // The mitigation: namespaces ["*"] demands a peer.
    expect(sourceMatches({ namespaces: ['*'], notNamespaces: ['x'] }, attrs())).toBe(false);
  });
});

describe('requestPrincipals: split at the last `/` into iss and sub patterns (istio-semantics §5)', () => {
  const A = 'https://a.example';
  it.each(REQUEST_PRINCIPAL_CASES)(
    '%j, %s (iss=%j, sub=%j) → %s',
    (value, _what, iss, sub, expected) => {
      expect(
        sourceMatches(
          { requestPrincipals: [value] },
          attrs({ requestIssuer: iss, requestSubject: sub }),
        ),
      ).toBe(expected);
    },
  );

  it('notRequestPrincipals ["*"] is true for an anonymous request and false for any token with iss and sub', () => {
    expect(sourceMatches({ notRequestPrincipals: ['*'] }, attrs())).toBe(true);
    expect(
      sourceMatches(
        { notRequestPrincipals: ['*'] },
        attrs({ requestIssuer: A, requestSubject: 's' }),
      ),
    ).toBe(false);
    // A token without `sub` is not matched by `*`, so notRequestPrincipals ["*"] is true for it.
    expect(sourceMatches({ notRequestPrincipals: ['*'] }, attrs({ requestIssuer: A }))).toBe(true);
  });

  it('several values are ORed', () => {
    const s = { requestPrincipals: [`${A}/alice`, 'https://b.example/*'] };
    expect(
      sourceMatches(s, attrs({ requestIssuer: 'https://b.example', requestSubject: 'z' })),
    ).toBe(true);
    expect(sourceMatches(s, attrs({ requestIssuer: A, requestSubject: 'z' }))).toBe(false);
  });
});

describe('operations: hosts, methods, ports', () => {
  it.each(HOST_CASES)(
    'hosts %j vs %j → %s (case-insensitive, port included)',
    (pattern, host, expected) => {
      expect(operationMatches({ hosts: [pattern] }, attrs({ host }))).toBe(expected);
    },
  );

  it('notHosts is case-insensitive too (CVE-2021-39155)', () => {
    expect(operationMatches({ notHosts: ['secret.com'] }, attrs({ host: 'Secret.com' }))).toBe(
      false,
    );
    expect(operationMatches({ notHosts: ['secret.com'] }, attrs({ host: 'public.com' }))).toBe(
      true,
    );
  });

  it.each(METHOD_CASES)('methods %j vs %j → %s (case-sensitive)', (pattern, method, expected) => {
    expect(operationMatches({ methods: [pattern] }, attrs({ method }))).toBe(expected);
  });

  it.each(PORT_CASES)('ports %j vs %d → %s', (ports, port, expected) => {
    expect(operationMatches({ ports }, attrs({ port }))).toBe(expected);
  });

  it('notPorts', () => {
    expect(operationMatches({ notPorts: ['8080'] }, attrs({ port: 9090 }))).toBe(true);
    expect(operationMatches({ notPorts: ['8080'] }, attrs({ port: 8080 }))).toBe(false);
  });
});

describe('boolean structure: rule = OR(from) AND OR(to); fields ANDed', () => {
  const A = 'spiffe://example.org/ns/a/sa/a';
  const rule: RuleSpec = STRUCTURE_RULE;

  it.each(STRUCTURE_CASES)('peer %s %s %s → %s', (principal, method, path, expected) => {
    expect(ruleMatches(rule, attrs({ principal, method, path }))).toBe(expected);
  });

  it('fields of one source are ANDed', () => {
    const s: SourceSpec = { principals: ['cluster.local/ns/a/sa/a'], requestPrincipals: ['*'] };
    expect(sourceMatches(s, attrs({ principal: A }))).toBe(false);
    expect(sourceMatches(s, attrs({ principal: A, requestIssuer: 'i', requestSubject: 's' }))).toBe(
      true,
    );
  });

  it('fields of one operation are ANDed', () => {
    const o: OperationSpec = {
      methods: ['GET'],
      paths: ['/x'],
      ports: ['8080'],
      hosts: ['payments.example'],
    };
    expect(operationMatches(o, attrs({ path: '/x' }))).toBe(true);
    expect(operationMatches(o, attrs({ path: '/y' }))).toBe(false);
    expect(operationMatches(o, attrs({ path: '/x', method: 'POST' }))).toBe(false);
    expect(operationMatches(o, attrs({ path: '/x', port: 9090 }))).toBe(false);
    expect(operationMatches(o, attrs({ path: '/x', host: 'other' }))).toBe(false);
  });

  it('an absent section is true', () => {
    expect(ruleMatches({ from: rule.from! }, attrs({ principal: A, method: 'PATCH' }))).toBe(true);
    expect(ruleMatches({ to: rule.to! }, attrs({ method: 'GET' }))).toBe(true);
  });
});
