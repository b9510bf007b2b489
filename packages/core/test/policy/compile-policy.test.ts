import { describe, expect, it } from 'vitest';
import {
  compilePolicy,
  type AuthzAttributes,
  type CompileContext,
} from '../../src/policy/compile-policy.js';
import type { OperationSpec, RuleSpec, SourceSpec } from '../../src/policy/model.js';
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
  it.each<[string, string, boolean]>([
    ['/info', '/info', true],
    ['/info', '/info/', false],
    ['/info', '/infox', false],
    ['/info', '/Info', false],
    ['/info*', '/info', true],
    ['/info*', '/infoxyz', true],
    ['/info*', '/info/a/b', true],
    ['/info*', '/inf', false],
    ['*.json', '/a/b.json', true],
    ['*.json', '/a/b.jsonx', false],
    ['*.json', '/a/b.JSON', false],
    ['*', '/', true],
    ['*', '/anything', true],
    ['/a*b', '/a*b', true],
    ['/a*b', '/axb', false],
    ['/a*b', '/ab', false],
    ['/Admin', '/admin', false],
  ])('%j vs %j → %s', (pattern, path, expected) => {
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
  it.each<[string, string | undefined, boolean]>([
    // exact, with the mesh trust domain, cluster.local and aliases all meaning "this mesh"
    ['example.org/ns/x/sa/y', ID, true],
    ['example.org/ns/x/sa/y', 'spiffe://old.example/ns/x/sa/y', true],
    ['old.example/ns/x/sa/y', ID, true],
    ['cluster.local/ns/x/sa/y', ID, true],
    ['cluster.local/ns/x/sa/y', 'spiffe://old.example/ns/x/sa/y', true],
    ['cluster.local/ns/x/sa/y', 'spiffe://cluster.local/ns/x/sa/y', false],
    ['cluster.local/ns/x/sa/y', 'spiffe://other.org/ns/x/sa/y', false],
    ['cluster.local/ns/x/sa/y', 'spiffe://example.org/ns/x/sa/y2', false],
    ['cluster.local/ns/x/sa/y', 'spiffe://example.org/ns/x/sa/y/z', false],
    ['example.org/ns/x/sa/y', 'spiffe://example.org/ns/x/sa/Y', false],
    // a foreign trust domain is not expanded
    ['other.org/ns/x/sa/y', 'spiffe://other.org/ns/x/sa/y', true],
    ['other.org/ns/x/sa/y', ID, false],
    // not 5 segments: left as is
    ['cluster.local/ns/x/sa/y/extra', 'spiffe://example.org/ns/x/sa/y/extra', false],
    ['cluster.local/ns/x/sa/y/extra', 'spiffe://cluster.local/ns/x/sa/y/extra', true],
    // a value that carries the scheme never matches, not even the identical ID
    ['spiffe://example.org/ns/x/sa/y', ID, false],
    ['spiffe://cluster.local/ns/x/sa/y', ID, false],
    ['spiffe://*', ID, false],
    // `*`: any (non-empty) principal; a missing principal never matches
    ['*', ID, true],
    ['*', undefined, false],
    // prefix: raw, not segment-aware
    ['example.org/ns/x*', ID, true],
    ['example.org/ns/x*', 'spiffe://example.org/ns/xyz/sa/a', true],
    ['example.org/ns/x*', 'spiffe://old.example/ns/x/sa/y', false],
    // suffix: `spiffe://.*<suffix>`: only IDs that start with spiffe:// (CVE-2020-16844)
    ['*/sa/y', ID, true],
    ['*/sa/y', 'spiffe://evil.org/ns/z/sa/y', true],
    ['*/sa/y', 'https://example.org/ns/x/sa/y', false],
    ['*/sa/y', 'example.org/ns/x/sa/y', false],
    ['*/sa/y', 'spiffe:/sa/y', false],
    ['*sa/y', ID, true],
    ['*.org/ns/x/sa/y', ID, true],
    ['*.org/ns/x/sa/y', 'spiffe://evil.org/ns/x/sa/y', true],
    ['*.org/ns/x/sa/y', 'spiffe://old.example/ns/x/sa/y', false],
    // a middle `*` is a literal
    ['example.org/ns/*/sa/y', ID, false],
  ])('%j vs %j → %s', (value, principal, expected) => {
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

  it.each<[string, string | undefined, boolean]>([
    ['cluster.local/ns/x/sa/y', ID, false],
    ['cluster.local/ns/x/sa/y', 'spiffe://old.example/ns/x/sa/y', false],
    ['cluster.local/ns/x/sa/y', 'spiffe://example.org/ns/x/sa/z', true],
    ['*', undefined, true],
    ['*', ID, false],
  ])('notPrincipals %j vs %j → %s (missing principal: true)', (value, principal, expected) => {
    expect(sourceMatches({ notPrincipals: [value] }, attrs({ principal }))).toBe(expected);
  });
});

describe('namespaces (regex `.*/ns/<v>/.*` over the peer ID)', () => {
  it.each<[string, string | undefined, boolean]>([
    ['x', 'spiffe://example.org/ns/x/sa/y', true],
    ['x', 'spiffe://other.org/ns/x/sa/y', true],
    ['x', 'spiffe://example.org/ns/xy/sa/y', false],
    ['x', 'spiffe://example.org/ns/yx/sa/y', false],
    ['x', 'spiffe://example.org/ns/X/sa/y', false],
    ['x', 'spiffe://example.org/x/sa/y', false],
    ['x', undefined, false],
    ['foo*', 'spiffe://example.org/ns/foobar/sa/y', true],
    ['foo*', 'spiffe://example.org/ns/foo/sa/y', true],
    ['*bar', 'spiffe://example.org/ns/foobar/sa/y', true],
    ['a*c', 'spiffe://example.org/ns/abbc/sa/y', true],
    ['a*c', 'spiffe://example.org/ns/abbd/sa/y', false],
    ['*', 'spiffe://example.org/ns/any/sa/y', true],
    ['*', undefined, false],
    // literals are escaped
    ['x.y', 'spiffe://example.org/ns/x.y/sa/s', true],
    ['x.y', 'spiffe://example.org/ns/xzy/sa/s', false],
    ['a+', 'spiffe://example.org/ns/aa/sa/s', false],
    ['a+', 'spiffe://example.org/ns/a+/sa/s', true],
  ])('%j vs %j → %s', (ns, principal, expected) => {
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
  it.each<[string, string, string | undefined, string | undefined, boolean]>([
    // `*`: non-empty iss and non-empty sub
    ['*', 'any iss and sub', 'i', 's', true],
    ['*', 'no sub claim', 'i', undefined, false],
    ['*', 'empty sub', 'i', '', false],
    ['*', 'no token', undefined, undefined, false],
    // iss/sub: exact, exact
    [`${A}/alice`, 'exact', A, 'alice', true],
    [`${A}/alice`, 'other sub', A, 'bob', false],
    [`${A}/alice`, 'sub prefix', A, 'alice2', false],
    [`${A}/alice`, 'other iss', 'https://b.example', 'alice', false],
    [`${A}/alice`, 'iss with trailing slash', `${A}/`, 'alice', false],
    // iss/*: exact iss, non-empty sub
    [`${A}/*`, 'any sub', A, 'x', true],
    [`${A}/*`, 'no sub', A, undefined, false],
    [`${A}/*`, 'issuer confusion: iss under the issuer URL', `${A}/tenant2`, 'x', false],
    [
      `${A}/*`,
      'issuer confusion with a sub that looks like a path',
      `${A}/tenant2`,
      'tenant2/x',
      false,
    ],
    [`${A}/*`, 'iss prefix-extends the issuer', `${A}.evil`, 'x', false],
    // iss/pre*: exact iss, sub prefix
    [`${A}/svc-*`, 'sub prefix', A, 'svc-billing', true],
    [`${A}/svc-*`, 'sub without prefix', A, 'user-1', false],
    [`${A}/svc-*`, 'sub equal to prefix', A, 'svc-', true],
    // *suffix/sub: iss suffix, sub exact
    ['*.example/alice', 'iss suffix', A, 'alice', true],
    ['*.example/alice', 'iss suffix, other sub', A, 'bob', false],
    ['*.example/alice', 'iss without suffix', 'https://a.example.evil', 'alice', false],
    // */sub: any iss, exact sub
    ['*/alice', 'any iss', 'whatever', 'alice', true],
    ['*/alice', 'other sub', 'whatever', 'bob', false],
    ['*/alice', 'no token', undefined, undefined, false],
    // pre* (no /): iss prefix, non-empty sub
    ['issuer-*', 'iss prefix', 'issuer-foo', 's', true],
    ['issuer-*', 'iss prefix but no sub', 'issuer-foo', undefined, false],
    ['issuer-*', 'iss without prefix', 'issue', 's', false],
    // *x (no /): non-empty iss, sub suffix
    ['*-bob', 'sub suffix', 'i', 'alice-bob', true],
    ['*-bob', 'sub without suffix', 'i', 'bob-alice', false],
    ['*-bob', 'suffix on iss only', 'x-bob', 'alice', false],
    // x (no /): exact iss, empty sub
    ['issuer', 'exact iss, no sub', 'issuer', undefined, true],
    ['issuer', 'exact iss, empty sub', 'issuer', '', true],
    ['issuer', 'exact iss, a sub', 'issuer', 's', false],
    ['issuer', 'other iss', 'issuer2', undefined, false],
    // a sub that contains `/` cannot be matched exactly: the split is at the LAST `/`
    [`${A}/team/alice`, 'sub with a slash', A, 'team/alice', false],
    [`${A}/team/alice`, 'read as iss .../team', `${A}/team`, 'alice', true],
  ])('%j, %s (iss=%j, sub=%j) → %s', (value, _what, iss, sub, expected) => {
    expect(
      sourceMatches(
        { requestPrincipals: [value] },
        attrs({ requestIssuer: iss, requestSubject: sub }),
      ),
    ).toBe(expected);
  });

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
  it.each<[string, string, boolean]>([
    ['example.com', 'example.com', true],
    ['example.com', 'Example.COM', true],
    ['Example.com', 'example.com', true],
    ['example.com', 'example.com:8080', false],
    ['example.com:*', 'example.com:8080', true],
    ['example.com:*', 'example.com', false],
    ['*.example.com', 'API.Example.com', true],
    ['*.example.com', 'example.com', false],
    ['api.*', 'API.example.com', true],
    ['*', 'anything', true],
  ])('hosts %j vs %j → %s (case-insensitive, port included)', (pattern, host, expected) => {
    expect(operationMatches({ hosts: [pattern] }, attrs({ host }))).toBe(expected);
  });

  it('notHosts is case-insensitive too (CVE-2021-39155)', () => {
    expect(operationMatches({ notHosts: ['secret.com'] }, attrs({ host: 'Secret.com' }))).toBe(
      false,
    );
    expect(operationMatches({ notHosts: ['secret.com'] }, attrs({ host: 'public.com' }))).toBe(
      true,
    );
  });

  it.each<[string, string, boolean]>([
    ['GET', 'GET', true],
    ['GET', 'get', false],
    ['GET', 'HEAD', false],
    ['DELETE', 'Delete', false],
    ['POST', 'POST', true],
  ])('methods %j vs %j → %s (case-sensitive)', (pattern, method, expected) => {
    expect(operationMatches({ methods: [pattern] }, attrs({ method }))).toBe(expected);
  });

  it.each<[string[], number, boolean]>([
    [['8080'], 8080, true],
    [['8080'], 80, false],
    [['80', '443'], 443, true],
    [['0'], 0, true],
    [['08080'], 8080, true],
  ])('ports %j vs %d → %s', (ports, port, expected) => {
    expect(operationMatches({ ports }, attrs({ port }))).toBe(expected);
  });

  it('notPorts', () => {
    expect(operationMatches({ notPorts: ['8080'] }, attrs({ port: 9090 }))).toBe(true);
    expect(operationMatches({ notPorts: ['8080'] }, attrs({ port: 8080 }))).toBe(false);
  });
});

describe('boolean structure: rule = OR(from) AND OR(to); fields ANDed', () => {
  const A = 'spiffe://example.org/ns/a/sa/a';
  const B = 'spiffe://example.org/ns/b/sa/b';
  const C = 'spiffe://example.org/ns/c/sa/c';
  const rule: RuleSpec = {
    from: [
      { source: { principals: ['cluster.local/ns/a/sa/a'] } },
      { source: { principals: ['cluster.local/ns/b/sa/b'] } },
    ],
    to: [{ operation: { methods: ['GET'] } }, { operation: { paths: ['/x'] } }],
  };

  it.each<[string, string, string, boolean]>([
    [A, 'GET', '/y', true],
    [B, 'POST', '/x', true],
    [B, 'GET', '/x', true],
    [C, 'GET', '/x', false],
    [A, 'POST', '/y', false],
  ])('peer %s %s %s → %s', (principal, method, path, expected) => {
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
