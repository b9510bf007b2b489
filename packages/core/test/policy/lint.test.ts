/**
 * The policy linter: one positive and one negative case (a similar, safe policy) per finding.
 *
 * Sources: istio-semantics.md §2–§6, §8, §9 and §11 item 7; Istio "Security Best Practices".
 */
import { describe, expect, it } from 'vitest';
import { lintPolicies, type LintCode, type LintContext } from '../../src/policy/lint.js';
import { loadPolicies } from '../../src/policy/load-policies.js';
import type { PolicySet } from '../../src/policy/model.js';

/** Re-indents a YAML block: the first line is flush, later lines lose their common indentation. */
function block(text: string, indent: string): string {
  const [first = '', ...rest] = text.trim().split('\n');
  const cut = Math.min(...rest.map((l) => /^ */.exec(l)?.[0].length ?? 0));
  return [first, ...rest.map((l) => l.slice(cut))].map((l) => indent + l).join('\n');
}

/** An AuthorizationPolicy `foo/<name>`; `spec` is YAML (mostly flow style). */
const ap = (spec: string, name = 'p'): string => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ${name}, namespace: foo }
spec:
${block(spec, '  ')}
`;

const pa = (spec: string, name = 'pa'): string => `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: ${name}, namespace: foo }
spec: ${spec}
`;

type Case = [title: string, yaml: string, context: LintContext, expected: [LintCode, string][]];

const R0 = 'spec.rules[0]';
const SRC = `${R0}.from[0].source`;
const OP = `${R0}.to[0].operation`;

const CASES: Case[] = [
  // 1. middle `*`
  [
    'middle * in a path',
    ap(`rules: [{ to: [{ operation: { paths: ["/api/*/admin"] } }] }]`),
    {},
    [['lint_middle_wildcard', `${OP}.paths[0]`]],
  ],
  [
    'prefix, suffix and template paths',
    ap(`rules: [{ to: [{ operation: { paths: ["/api/*", "*/admin", "/api/{*}/admin", "*"] } }] }]`),
    {},
    [],
  ],
  [
    'leading and trailing * in one principal (the trailing one is literal)',
    ap(`rules: [{ from: [{ source: { principals: ["a", "*/ns/foo/*"] } }] }]`),
    { mtlsMode: 'STRICT' },
    [['lint_middle_wildcard', `${SRC}.principals[1]`]],
  ],
  [
    'request principal: * inside the issuer',
    ap(`rules: [{ from: [{ source: { requestPrincipals: ["https://*.example/u1"] } }] }]`),
    {},
    [['lint_middle_wildcard', `${SRC}.requestPrincipals[0]`]],
  ],
  [
    'request principal: issuer with any subject',
    ap(`rules: [{ from: [{ source: { requestPrincipals: ["https://a.example/*", "*"] } }] }]`),
    {},
    [],
  ],
  [
    'namespaces: * is a wildcard anywhere',
    ap(`rules: [{ from: [{ source: { namespaces: ["team-*-prod"] } }] }]`),
    { mtlsMode: 'STRICT' },
    [],
  ],
  // 2. spiffe:// in principals
  [
    'spiffe:// in principals and in a source.principal condition',
    ap(`
      rules:
      - from: [{ source: { principals: ["spiffe://cluster.local/ns/foo/sa/a"] } }]
        when: [{ key: source.principal, values: ["spiffe://cluster.local/ns/foo/sa/b"] }]
    `),
    { mtlsMode: 'STRICT' },
    [
      ['lint_spiffe_scheme', `${SRC}.principals[0]`],
      ['lint_spiffe_scheme', `${R0}.when[0].values[0]`],
    ],
  ],
  [
    'principal without the scheme',
    ap(`rules: [{ from: [{ source: { principals: ["cluster.local/ns/foo/sa/a"] } }] }]`),
    { mtlsMode: 'STRICT' },
    [],
  ],
  // 3. exact hosts in DENY
  [
    'DENY on an exact host without a port',
    ap(`action: DENY
        rules: [{ to: [{ operation: { hosts: ["admin.example", "x.example:8080"] } }] }]`),
    {},
    [['lint_exact_host', `${OP}.hosts[0]`]],
  ],
  [
    'DENY on an exact host and host:*',
    ap(`action: DENY
        rules: [{ to: [{ operation: { hosts: ["admin.example", "admin.example:*"] } }] }]`),
    {},
    [],
  ],
  [
    'ALLOW with notHosts on an exact host',
    ap(`rules: [{ to: [{ operation: { notHosts: ["admin.example"] } }] }]`),
    {},
    [['lint_exact_host', `${OP}.notHosts[0]`]],
  ],
  [
    'ALLOW on an exact host (fails closed)',
    ap(`rules: [{ to: [{ operation: { hosts: ["admin.example"] } }] }]`),
    {},
    [],
  ],
  // 4. DENY with paths / ALLOW with notPaths
  [
    'DENY with paths',
    ap(`action: DENY
        rules: [{ to: [{ operation: { paths: ["/admin"] } }] }]`),
    {},
    [['lint_deny_paths', `${OP}.paths`]],
  ],
  [
    'DENY with notPaths (negative match)',
    ap(`action: DENY
        rules: [{ to: [{ operation: { notPaths: ["/public/*"] } }] }]`),
    {},
    [],
  ],
  [
    'ALLOW with notPaths',
    ap(`rules: [{ to: [{ operation: { notPaths: ["/admin"] } }] }]`),
    {},
    [['lint_allow_not_paths', `${OP}.notPaths`]],
  ],
  [
    'ALLOW with paths (positive match)',
    ap(`rules: [{ to: [{ operation: { paths: ["/public/*"] } }] }]`),
    {},
    [],
  ],
  // 5. mTLS-only fields without STRICT
  [
    'principals under PERMISSIVE',
    ap(`rules: [{ from: [{ source: { principals: ["cluster.local/ns/foo/sa/a"] } }] }]`),
    { mtlsMode: 'PERMISSIVE' },
    [['lint_mtls_field_without_strict', `${SRC}.principals`]],
  ],
  [
    'DENY on namespaces and a source.namespace condition under DISABLE',
    ap(`action: DENY
        rules:
        - from: [{ source: { namespaces: ["bar"] } }]
          when: [{ key: source.namespace, values: ["bar"] }]`),
    { mtlsMode: 'DISABLE' },
    [
      ['lint_mtls_field_without_strict', `${SRC}.namespaces`],
      ['lint_mtls_field_without_strict', `${R0}.when[0].key`],
    ],
  ],
  [
    'the same fields under STRICT',
    ap(`action: DENY
        rules:
        - from: [{ source: { namespaces: ["bar"] } }]
          when: [{ key: source.namespace, values: ["bar"] }]`),
    { mtlsMode: 'STRICT' },
    [],
  ],
  [
    'principals with the mode unknown',
    ap(`rules: [{ from: [{ source: { principals: ["cluster.local/ns/foo/sa/a"] } }] }]`),
    {},
    [],
  ],
  // 6. PERMISSIVE anywhere
  [
    'PeerAuthentication PERMISSIVE, workload-wide and on a port',
    pa(`{ selector: { matchLabels: { app: a } }, mtls: { mode: PERMISSIVE },
          portLevelMtls: { "8080": { mode: PERMISSIVE }, "9090": { mode: STRICT } } }`),
    {},
    [
      ['lint_permissive', 'spec.mtls.mode'],
      ['lint_permissive', 'spec.portLevelMtls["8080"].mode'],
    ],
  ],
  ['PeerAuthentication STRICT', pa(`{ mtls: { mode: STRICT } }`), {}, []],
  // 7. allow-all and rule-less policies
  ['ALLOW with an empty rule', ap(`rules: [{}]`), {}, [['lint_allow_all', R0]]],
  [
    'ALLOW with when: [] only (also empty)',
    ap(`rules: [{ when: [] }]`),
    {},
    [['lint_allow_all', R0]],
  ],
  ['DENY with an empty rule (deny-all)', ap(`action: DENY\nrules: [{}]`), {}, []],
  [
    'ALLOW with a constrained rule',
    ap(`rules: [{ to: [{ operation: { methods: ["GET"] } }] }]`),
    {},
    [],
  ],
  [
    'ALLOW without rules (allow-nothing)',
    ap(`action: ALLOW`),
    {},
    [['lint_no_rules', 'spec.rules']],
  ],
  ['AUDIT without rules', ap(`action: AUDIT\nrules: []`), {}, [['lint_no_rules', 'spec.rules']]],
  // 8. namespace-wide principals
  [
    'ALLOW every service account of a namespace',
    ap(
      `rules: [{ from: [{ source: { principals: ["cluster.local/ns/foo/sa/*", "cluster.local/ns/bar/*"] } }] }]`,
    ),
    { mtlsMode: 'STRICT' },
    [
      ['lint_namespace_wide_principal', `${SRC}.principals[0]`],
      ['lint_namespace_wide_principal', `${SRC}.principals[1]`],
    ],
  ],
  [
    'ALLOW one service account',
    ap(`rules: [{ from: [{ source: { principals: ["cluster.local/ns/foo/sa/a"] } }] }]`),
    { mtlsMode: 'STRICT' },
    [],
  ],
  [
    'DENY every service account of a namespace',
    ap(`action: DENY
        rules: [{ from: [{ source: { principals: ["cluster.local/ns/foo/sa/*"] } }] }]`),
    { mtlsMode: 'STRICT' },
    [],
  ],
  // 9. notX in ALLOW matching a missing attribute
  [
    'ALLOW with notNamespaces alone',
    ap(`rules: [{ from: [{ source: { notNamespaces: ["bar"] } }] }]`),
    {},
    [['lint_not_field_allow', `${SRC}.notNamespaces`]],
  ],
  [
    'ALLOW with notNamespaces and namespaces: ["*"]',
    ap(`rules: [{ from: [{ source: { namespaces: ["*"], notNamespaces: ["bar"] } }] }]`),
    {},
    [],
  ],
  [
    'ALLOW with notNamespaces under STRICT',
    ap(`rules: [{ from: [{ source: { notNamespaces: ["bar"] } }] }]`),
    { mtlsMode: 'STRICT' },
    [],
  ],
  [
    'ALLOW with notRequestPrincipals and a header notValues',
    ap(`
      rules:
      - from: [{ source: { notRequestPrincipals: ["https://bad.example/*"] } }]
        when: [{ key: "request.headers[x-env]", notValues: ["prod"] }]
    `),
    {},
    [
      ['lint_not_field_allow', `${SRC}.notRequestPrincipals`],
      ['lint_not_field_allow', `${R0}.when[0].notValues`],
    ],
  ],
  [
    'the same with the positive matches required',
    ap(`
      rules:
      - from: [{ source: { requestPrincipals: ["*"], notRequestPrincipals: ["https://bad.example/*"] } }]
        when: [{ key: "request.headers[x-env]", values: ["*"], notValues: ["prod"] }]
    `),
    {},
    [],
  ],
  [
    'DENY with notRequestPrincipals: ["*"] (require a token)',
    ap(`action: DENY
        rules: [{ from: [{ source: { notRequestPrincipals: ["*"] } }] }]`),
    {},
    [],
  ],
];

const pairs = (set: PolicySet, context: LintContext): [string, string][] =>
  lintPolicies(set, context).map((f) => [f.code, f.path]);

describe('lintPolicies', () => {
  it.each(CASES)('%s', (_title, yaml, context, expected) => {
    expect(pairs(loadPolicies(yaml), context)).toEqual(expected);
  });

  it('fills policy, kind and severity, with one-sentence messages', () => {
    const set = loadPolicies(
      ap(`rules: [{}]`, 'open') +
        '---\n' +
        ap(`action: ALLOW`, 'closed') +
        '---\n' +
        pa(`{ mtls: { mode: PERMISSIVE } }`),
    );
    const findings = lintPolicies(set);
    expect(findings.map((f) => [f.policy, f.kind, f.code, f.severity])).toEqual([
      ['foo/closed', 'AuthorizationPolicy', 'lint_no_rules', 'info'],
      ['foo/open', 'AuthorizationPolicy', 'lint_allow_all', 'warning'],
      ['foo/pa', 'PeerAuthentication', 'lint_permissive', 'warning'],
    ]);
    for (const f of findings) expect(f.message).toMatch(/^[^\n]+\.$/);
  });

  it('sorts by policy, then path (numerically), then code', () => {
    const rules = Array.from({ length: 11 }, () => '{}').join(', ');
    const set = loadPolicies(
      ap(`rules: [${rules}]`, 'b') +
        '---\n' +
        ap(`rules: [{ from: [{ source: { principals: ["spiffe://td/ns/a/sa/*"] } }] }]`, 'a'),
    );
    const findings = lintPolicies(set, { mtlsMode: 'PERMISSIVE' });
    expect(findings.map((f) => `${f.policy} ${f.path} ${f.code}`)).toEqual([
      `foo/a ${SRC}.principals lint_mtls_field_without_strict`,
      `foo/a ${SRC}.principals[0] lint_spiffe_scheme`,
      ...Array.from({ length: 11 }, (_, i) => `foo/b spec.rules[${i}] lint_allow_all`),
    ]);
  });

  it('names policies without a namespace from the context, and lints hand-built DENY without rules', () => {
    const set: PolicySet = {
      authorizationPolicies: [
        { kind: 'AuthorizationPolicy', metadata: { name: 'd' }, spec: { action: 'DENY' } },
      ],
      requestAuthentications: [],
    };
    expect(lintPolicies(set, { namespace: 'payments' })).toEqual([
      expect.objectContaining({
        code: 'lint_no_rules',
        severity: 'warning',
        policy: 'payments/d',
        path: 'spec.rules',
      }),
    ]);
    expect(lintPolicies(set)[0]?.policy).toBe('d');
  });
});
