/**
 * Istio AuthorizationPolicy fields beyond principals/namespaces/hosts/methods/paths/ports:
 * `serviceAccounts`, `ipBlocks`, `remoteIpBlocks`, path templates and `when` conditions.
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
import { attrs, CTX } from './helpers.js';

const doc = (rule: unknown, metadata: Record<string, unknown> = {}) => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'p', ...metadata },
  spec: { rules: [rule] },
});
const src = (source: unknown) => ({ from: [{ source }] });
const op = (operation: unknown) => ({ to: [{ operation }] });
const when = (...conditions: unknown[]) => ({ when: conditions });

/** Loads (so validation runs) and compiles one rule, then evaluates it. */
function matches(rule: unknown, a: Partial<AuthzAttributes>, namespace?: string): boolean {
  const set = loadPolicies(doc(rule, namespace ? { namespace } : {}));
  const compiled = compilePolicy(set.authorizationPolicies[0]!, CTX);
  return compiled.rules[0]!(attrs(a));
}

const PEER = 'spiffe://example.org/ns/payments/sa/checkout';
const OTHER = 'spiffe://example.org/ns/shop/sa/web';
const JWT = { requestIssuer: 'https://issuer.test', requestSubject: 'alice' };

type Case = [name: string, rule: unknown, attributes: Partial<AuthzAttributes>, expected: boolean];

describe('serviceAccounts / notServiceAccounts', () => {
  it.each<Case>([
    // [PROTO] serviceAccounts: "<namespace>/<serviceaccount>" matches the peer identity.
    ['ns/sa matches', src({ serviceAccounts: ['payments/checkout'] }), { principal: PEER }, true],
    // [PROTO] a bare service account name is in the policy's namespace.
    [
      'bare sa = policy namespace',
      src({ serviceAccounts: ['checkout'] }),
      { principal: PEER },
      true,
    ],
    // [PROTO] other namespace, same name: no match.
    ['other namespace', src({ serviceAccounts: ['shop/checkout'] }), { principal: PEER }, false],
    // [MODEL] regex `spiffe://.+/ns/<ns>/(.+/|)sa/<sa>(/.+)?`: the trust domain is any.
    [
      'any trust domain',
      src({ serviceAccounts: ['payments/checkout'] }),
      { principal: 'spiffe://other.org/ns/payments/sa/checkout' },
      true,
    ],
    // [MODEL] the `(/.+)?` tail accepts extra path segments after the sa.
    [
      'extra segments after sa',
      src({ serviceAccounts: ['payments/checkout'] }),
      { principal: `${PEER}/v2` },
      true,
    ],
    // [MODEL] sa is matched whole: `checkout` does not match `checkout-admin`.
    [
      'sa is not a prefix',
      src({ serviceAccounts: ['payments/checkout'] }),
      { principal: 'spiffe://example.org/ns/payments/sa/checkout-admin' },
      false,
    ],
    // CVE-2026-39350: dots are escaped, `a.b` does not match `axb`.
    [
      'dots escaped (CVE-2026-39350)',
      src({ serviceAccounts: ['pay.ments/check.out'] }),
      { principal: 'spiffe://example.org/ns/payXments/sa/checkXout' },
      false,
    ],
    // CVE-2026-39350: the literal dotted name still matches.
    [
      'dotted name matches literally',
      src({ serviceAccounts: ['pay.ments/check.out'] }),
      { principal: 'spiffe://example.org/ns/pay.ments/sa/check.out' },
      true,
    ],
    // [MODEL] a missing peer identity makes the positive matcher false.
    ['no peer identity', src({ serviceAccounts: ['payments/checkout'] }), {}, false],
    // [MODEL] notServiceAccounts excludes the listed account.
    [
      'notServiceAccounts excludes',
      src({ notServiceAccounts: ['checkout'] }),
      { principal: PEER },
      false,
    ],
    // [MODEL] notServiceAccounts lets other accounts through.
    [
      'notServiceAccounts other',
      src({ notServiceAccounts: ['checkout'] }),
      { principal: OTHER },
      true,
    ],
    // ISTIO-SECURITY-2021-004: missing attribute → notX is true (plaintext passes).
    ['notServiceAccounts plaintext', src({ notServiceAccounts: ['checkout'] }), {}, true],
    // [PROTO] bare sa in a policy of another namespace resolves to that namespace.
    [
      'bare sa in policy namespace shop',
      src({ serviceAccounts: ['web'] }),
      { principal: OTHER },
      true,
    ],
  ])('%s', (_name, rule, a, expected) => {
    const namespace = _name.includes('namespace shop') ? 'shop' : undefined;
    expect(matches(rule, a, namespace)).toBe(expected);
  });
});

describe('ipBlocks / notIpBlocks (direct peer IP)', () => {
  it.each<Case>([
    // [REF] ipBlocks: "a list of IP blocks ... Single IP (e.g. 203.0.113.4) and CIDR".
    ['single IPv4', src({ ipBlocks: ['10.0.0.7'] }), { sourceIp: '10.0.0.7' }, true],
    // [REF] CIDR match.
    ['IPv4 CIDR', src({ ipBlocks: ['10.0.0.0/8'] }), { sourceIp: '10.200.3.4' }, true],
    // [REF] outside the CIDR.
    ['outside CIDR', src({ ipBlocks: ['10.0.0.0/8'] }), { sourceIp: '11.0.0.1' }, false],
    // [REF] IPv6 CIDR.
    ['IPv6 CIDR', src({ ipBlocks: ['2001:db8::/32'] }), { sourceIp: '2001:db8::1' }, true],
    // [REF] IPv6 address vs IPv4 block: no match.
    ['family mismatch', src({ ipBlocks: ['10.0.0.0/8'] }), { sourceIp: '2001:db8::1' }, false],
    // [VALID] Go's ParseCIDR accepts host bits; the block is the masked network.
    ['host bits set', src({ ipBlocks: ['10.1.2.3/16'] }), { sourceIp: '10.1.9.9' }, true],
    // [REF] any of several blocks.
    [
      'any of several',
      src({ ipBlocks: ['1.1.1.1', '192.168.0.0/16'] }),
      { sourceIp: '192.168.1.1' },
      true,
    ],
    // [MODEL] missing peer IP → positive false.
    ['missing IP', src({ ipBlocks: ['0.0.0.0/0'] }), {}, false],
    // [REF] notIpBlocks: negative match.
    ['notIpBlocks excludes', src({ notIpBlocks: ['10.0.0.0/8'] }), { sourceIp: '10.0.0.1' }, false],
    // [REF] notIpBlocks: others pass.
    ['notIpBlocks others', src({ notIpBlocks: ['10.0.0.0/8'] }), { sourceIp: '172.16.0.1' }, true],
    // [MODEL] missing attribute → notX true.
    ['notIpBlocks missing IP', src({ notIpBlocks: ['10.0.0.0/8'] }), {}, true],
    // [MODEL] values and notValues ANDed: the allowed block minus a hole.
    [
      'ipBlocks minus notIpBlocks',
      src({ ipBlocks: ['10.0.0.0/8'], notIpBlocks: ['10.0.0.0/24'] }),
      { sourceIp: '10.0.0.5' },
      false,
    ],
    // [MODEL] source fields are ANDed: ipBlocks and principals.
    [
      'ipBlocks AND principals',
      src({ ipBlocks: ['10.0.0.0/8'], principals: ['*'] }),
      { sourceIp: '10.0.0.5' },
      false,
    ],
    // [REF] ipBlocks reads the direct peer, never X-Forwarded-For.
    [
      'ipBlocks ignores XFF',
      src({ ipBlocks: ['1.2.3.4'] }),
      { sourceIp: '10.0.0.1', remoteIp: '1.2.3.4', headers: { 'x-forwarded-for': '1.2.3.4' } },
      false,
    ],
  ])('%s', (_name, rule, a, expected) => {
    expect(matches(rule, a)).toBe(expected);
  });
});

describe('remoteIpBlocks / notRemoteIpBlocks (client IP)', () => {
  it.each<Case>([
    // [REF] remoteIpBlocks: "the IP address ... determined by X-Forwarded-For / proxy protocol".
    [
      'remote IP in block',
      src({ remoteIpBlocks: ['203.0.113.0/24'] }),
      { remoteIp: '203.0.113.9' },
      true,
    ],
    // [REF] remote IP outside.
    [
      'remote IP outside',
      src({ remoteIpBlocks: ['203.0.113.0/24'] }),
      { remoteIp: '198.51.100.1' },
      false,
    ],
    // [REF] remoteIpBlocks does not read the direct peer IP.
    [
      'remote ≠ peer',
      src({ remoteIpBlocks: ['10.0.0.1'] }),
      { sourceIp: '10.0.0.1', remoteIp: '203.0.113.9' },
      false,
    ],
    // [REF] notRemoteIpBlocks excludes.
    [
      'notRemoteIpBlocks excludes',
      src({ notRemoteIpBlocks: ['203.0.113.9'] }),
      { remoteIp: '203.0.113.9' },
      false,
    ],
    // [MODEL] missing → notX true.
    ['notRemoteIpBlocks missing', src({ notRemoteIpBlocks: ['203.0.113.9'] }), {}, true],
    // [REF] IPv6 remote.
    ['IPv6 remote', src({ remoteIpBlocks: ['2001:db8::1'] }), { remoteIp: '2001:db8::1' }, true],
  ])('%s', (_name, rule, a, expected) => {
    expect(matches(rule, a)).toBe(expected);
  });
});

describe('path templates', () => {
  it.each<Case>([
    // [PROTO] paths: "{*}" matches a single path segment.
    ['{*} one segment', op({ paths: ['/foo/{*}'] }), { path: '/foo/bar' }, true],
    // [ENVOY] {*} = [pchar]+, never across "/".
    ['{*} not two segments', op({ paths: ['/foo/{*}'] }), { path: '/foo/bar/baz' }, false],
    // [ENVOY] {*} is non-empty.
    ['{*} not empty', op({ paths: ['/foo/{*}'] }), { path: '/foo/' }, false],
    // [PROTO] {*} in the middle.
    ['{*} in the middle', op({ paths: ['/foo/{*}/bar'] }), { path: '/foo/x/bar' }, true],
    // [ENVOY] literal after {*} must match exactly.
    ['{*} then literal mismatch', op({ paths: ['/foo/{*}/bar'] }), { path: '/foo/x/baz' }, false],
    // [ENVOY] `=` is not in Envoy's pchar set for {*}.
    ['{*} excludes =', op({ paths: ['/foo/{*}'] }), { path: '/foo/a=b' }, false],
    // [ENVOY] `%`, `:`, `@` are pchar.
    ['{*} pchar', op({ paths: ['/foo/{*}'] }), { path: '/foo/a%20b:c@d' }, true],
    // [PROTO] {**} matches any number of segments.
    ['{**} many segments', op({ paths: ['/foo/{**}'] }), { path: '/foo/a/b/c' }, true],
    // [ENVOY] {**} = [pchar/]*: zero characters after the slash.
    ['{**} empty', op({ paths: ['/foo/{**}'] }), { path: '/foo/' }, true],
    // [ENVOY] the slash before {**} is literal.
    ['{**} needs the slash', op({ paths: ['/foo/{**}'] }), { path: '/foo' }, false],
    // [ENVOY] anchored: the prefix must match.
    ['{**} anchored', op({ paths: ['/foo/{**}'] }), { path: '/bar/foo/x' }, false],
    // [ENVOY] literals are escaped (a dot is not a wildcard).
    ['literal dot', op({ paths: ['/a.b/{*}'] }), { path: '/aXb/c' }, false],
    // [PROTO] {*} then {**}.
    ['{*} then {**}', op({ paths: ['/{*}/x/{**}'] }), { path: '/t/x/y/z' }, true],
    // [PROTO] notPaths with a template.
    ['notPaths template', op({ notPaths: ['/admin/{**}'] }), { path: '/admin/users' }, false],
    // [PROTO] notPaths others.
    ['notPaths template others', op({ notPaths: ['/admin/{**}'] }), { path: '/public' }, true],
    // [VALID] a template path is matched as a regex, non-template values as before.
    ['mixed list', op({ paths: ['/exact', '/t/{*}'] }), { path: '/exact' }, true],
  ])('%s', (_name, rule, a, expected) => {
    expect(matches(rule, a)).toBe(expected);
  });
});

const CLAIMS = {
  iss: 'https://issuer.test',
  sub: 'alice',
  aud: ['payments', 'orders'],
  azp: 'web-app',
  groups: ['dev', 'ops'],
  role: 'admin',
  scope: 'read write',
  permission: 'p1 p2',
  nested: { team: { name: 'core' }, list: ['x'] },
  level: 3,
  admin: true,
  mixed: ['a', 1, true],
  spaced: 'a b',
};

describe('when conditions', () => {
  it.each<Case>([
    // [COND] request.headers: "HTTP request headers", exact match.
    [
      'header exact',
      when({ key: 'request.headers[x-role]', values: ['admin'] }),
      { headers: { 'x-role': 'admin' } },
      true,
    ],
    // [COND] header mismatch.
    [
      'header mismatch',
      when({ key: 'request.headers[x-role]', values: ['admin'] }),
      { headers: { 'x-role': 'user' } },
      false,
    ],
    // [COND] header names are case-insensitive.
    [
      'header name case',
      when({ key: 'request.headers[X-Role]', values: ['admin'] }),
      { headers: { 'x-role': 'admin' } },
      true,
    ],
    // [MODEL] header values are case-sensitive.
    [
      'header value case',
      when({ key: 'request.headers[x-role]', values: ['admin'] }),
      { headers: { 'x-role': 'Admin' } },
      false,
    ],
    // [MODEL matcher/header.go] prefix match.
    [
      'header prefix',
      when({ key: 'request.headers[x-role]', values: ['adm*'] }),
      { headers: { 'x-role': 'admin' } },
      true,
    ],
    // [MODEL matcher/header.go] suffix match.
    [
      'header suffix',
      when({ key: 'request.headers[x-role]', values: ['*min'] }),
      { headers: { 'x-role': 'admin' } },
      true,
    ],
    // [ENVOY] `*` is present_match: an empty header is present.
    [
      'header * empty present',
      when({ key: 'request.headers[x-a]', values: ['*'] }),
      { headers: { 'x-a': '' } },
      true,
    ],
    // [ENVOY] `*` needs the header.
    [
      'header * absent',
      when({ key: 'request.headers[x-a]', values: ['*'] }),
      { headers: {} },
      false,
    ],
    // CVE-2026-26308: repeated headers are matched value by value.
    [
      'repeated header any value',
      when({ key: 'request.headers[x-role]', values: ['admin'] }),
      { headers: { 'x-role': ['user', 'admin'] } },
      true,
    ],
    // CVE-2026-26308: no joining with ",": "user,admin" is not a value.
    [
      'repeated header not joined',
      when({ key: 'request.headers[x-role]', values: ['user,admin'] }),
      { headers: { 'x-role': ['user', 'admin'] } },
      false,
    ],
    // CVE-2026-26308: notValues deny if any value matches.
    [
      'repeated header notValues',
      when({ key: 'request.headers[x-role]', notValues: ['admin'] }),
      { headers: { 'x-role': ['user', 'admin'] } },
      false,
    ],
    // [MODEL] missing header → notValues true.
    [
      'missing header notValues',
      when({ key: 'request.headers[x-role]', notValues: ['admin'] }),
      { headers: {} },
      true,
    ],
    // [MODEL] missing header → values false.
    [
      'missing header values',
      when({ key: 'request.headers[x-role]', values: ['admin'] }),
      {},
      false,
    ],
    // [COND] source.ip: CIDR.
    [
      'source.ip CIDR',
      when({ key: 'source.ip', values: ['10.0.0.0/8'] }),
      { sourceIp: '10.1.1.1' },
      true,
    ],
    // [COND] source.ip notValues.
    [
      'source.ip notValues',
      when({ key: 'source.ip', notValues: ['10.0.0.0/8'] }),
      { sourceIp: '10.1.1.1' },
      false,
    ],
    // [COND] remote.ip.
    [
      'remote.ip',
      when({ key: 'remote.ip', values: ['203.0.113.9'] }),
      { remoteIp: '203.0.113.9' },
      true,
    ],
    // [COND] remote.ip missing.
    ['remote.ip missing', when({ key: 'remote.ip', values: ['203.0.113.9'] }), {}, false],
    // [COND] source.namespace.
    [
      'source.namespace',
      when({ key: 'source.namespace', values: ['payments'] }),
      { principal: PEER },
      true,
    ],
    // [COND] source.namespace other.
    [
      'source.namespace other',
      when({ key: 'source.namespace', values: ['shop'] }),
      { principal: PEER },
      false,
    ],
    // ISTIO-SECURITY-2021-004: notValues with no peer identity is true.
    [
      'source.namespace notValues plaintext',
      when({ key: 'source.namespace', notValues: ['shop'] }),
      {},
      true,
    ],
    // [COND] source.principal (trust domain cluster.local = this mesh).
    [
      'source.principal',
      when({ key: 'source.principal', values: ['cluster.local/ns/payments/sa/checkout'] }),
      { principal: PEER },
      true,
    ],
    // CVE-2020-16844: suffix principal compiled as spiffe://.*<suffix>.
    [
      'source.principal suffix',
      when({ key: 'source.principal', values: ['*/sa/checkout'] }),
      { principal: PEER },
      true,
    ],
    // [COND] source.principal mismatch.
    [
      'source.principal other',
      when({ key: 'source.principal', values: ['cluster.local/ns/payments/sa/checkout'] }),
      { principal: OTHER },
      false,
    ],
    // [COND] request.auth.principal: iss/sub.
    [
      'request.auth.principal',
      when({ key: 'request.auth.principal', values: ['https://issuer.test/alice'] }),
      JWT,
      true,
    ],
    // [COND] request.auth.principal other subject.
    [
      'request.auth.principal other',
      when({ key: 'request.auth.principal', values: ['https://issuer.test/bob'] }),
      JWT,
      false,
    ],
    // [MODEL] no token → request.auth.principal notValues true.
    [
      'request.auth.principal missing notValues',
      when({ key: 'request.auth.principal', notValues: ['*'] }),
      {},
      true,
    ],
    // [COND] request.auth.audiences: a list `aud`, any element.
    [
      'audiences list',
      when({ key: 'request.auth.audiences', values: ['orders'] }),
      { claims: CLAIMS },
      true,
    ],
    // [COND] audiences: a string `aud`.
    [
      'audiences string',
      when({ key: 'request.auth.audiences', values: ['payments'] }),
      { claims: { aud: 'payments' } },
      true,
    ],
    // [COND] audiences mismatch.
    [
      'audiences mismatch',
      when({ key: 'request.auth.audiences', values: ['billing'] }),
      { claims: CLAIMS },
      false,
    ],
    // [COND] request.auth.presenter = azp.
    [
      'presenter',
      when({ key: 'request.auth.presenter', values: ['web-app'] }),
      { claims: CLAIMS },
      true,
    ],
    // [COND] presenter absent.
    [
      'presenter absent',
      when({ key: 'request.auth.presenter', values: ['*'] }),
      { claims: { iss: 'x' } },
      false,
    ],
    // [COND] request.auth.claims[name]: string claim.
    [
      'claim string',
      when({ key: 'request.auth.claims[role]', values: ['admin'] }),
      { claims: CLAIMS },
      true,
    ],
    // [COND] a list claim matches if any element matches.
    [
      'claim list any',
      when({ key: 'request.auth.claims[groups]', values: ['ops'] }),
      { claims: CLAIMS },
      true,
    ],
    // [COND] a list claim, no element matches.
    [
      'claim list none',
      when({ key: 'request.auth.claims[groups]', values: ['qa'] }),
      { claims: CLAIMS },
      false,
    ],
    // [COND] nested claims: request.auth.claims[nested][team][name].
    [
      'nested claim',
      when({ key: 'request.auth.claims[nested][team][name]', values: ['core'] }),
      { claims: CLAIMS },
      true,
    ],
    // [COND] nested list.
    [
      'nested list',
      when({ key: 'request.auth.claims[nested][list]', values: ['x'] }),
      { claims: CLAIMS },
      true,
    ],
    // [MODEL] an object claim is not a string: no match.
    [
      'object claim',
      when({ key: 'request.auth.claims[nested]', values: ['*'] }),
      { claims: CLAIMS },
      false,
    ],
    // [MODEL] numbers never match.
    [
      'number claim',
      when({ key: 'request.auth.claims[level]', values: ['3'] }),
      { claims: CLAIMS },
      false,
    ],
    // [MODEL] booleans never match.
    [
      'boolean claim',
      when({ key: 'request.auth.claims[admin]', values: ['true'] }),
      { claims: CLAIMS },
      false,
    ],
    // [MODEL] list elements that are not strings are skipped.
    [
      'mixed list',
      when({ key: 'request.auth.claims[mixed]', values: ['1'] }),
      { claims: CLAIMS },
      false,
    ],
    // [ENVOY jwt_authn] `scope` is space-delimited.
    [
      'scope split',
      when({ key: 'request.auth.claims[scope]', values: ['write'] }),
      { claims: CLAIMS },
      true,
    ],
    // [ENVOY jwt_authn] `permission` is space-delimited.
    [
      'permission split',
      when({ key: 'request.auth.claims[permission]', values: ['p2'] }),
      { claims: CLAIMS },
      true,
    ],
    // [ENVOY jwt_authn] other claims are not split.
    [
      'other claim not split',
      when({ key: 'request.auth.claims[spaced]', values: ['a'] }),
      { claims: CLAIMS },
      false,
    ],
    // [MODEL] no token → claims notValues true.
    [
      'claims missing notValues',
      when({ key: 'request.auth.claims[role]', notValues: ['admin'] }),
      {},
      true,
    ],
    // [MODEL] claim absent in the token → values false.
    [
      'claim absent',
      when({ key: 'request.auth.claims[missing]', values: ['*'] }),
      { claims: CLAIMS },
      false,
    ],
    // [COND] destination.ip.
    [
      'destination.ip',
      when({ key: 'destination.ip', values: ['10.0.0.0/8'] }),
      { destinationIp: '10.0.0.2' },
      true,
    ],
    // [COND] destination.ip missing.
    ['destination.ip missing', when({ key: 'destination.ip', values: ['10.0.0.0/8'] }), {}, false],
    // [COND] destination.port.
    ['destination.port', when({ key: 'destination.port', values: ['8080'] }), { port: 8080 }, true],
    // [COND] destination.port notValues.
    [
      'destination.port notValues',
      when({ key: 'destination.port', notValues: ['8080'] }),
      { port: 8080 },
      false,
    ],
    // [COND] connection.sni.
    [
      'connection.sni',
      when({ key: 'connection.sni', values: ['*.example.org'] }),
      { sni: 'api.example.org' },
      true,
    ],
    // [COND] connection.sni missing.
    ['connection.sni missing', when({ key: 'connection.sni', values: ['*'] }), {}, false],
    // [MODEL] values and notValues of one condition are ANDed.
    [
      'values AND notValues',
      when({ key: 'request.headers[x-role]', values: ['adm*'], notValues: ['admin'] }),
      { headers: { 'x-role': 'admin' } },
      false,
    ],
    // [MODEL] conditions are ANDed.
    [
      'conditions ANDed',
      when(
        { key: 'request.headers[x-a]', values: ['1'] },
        { key: 'request.headers[x-b]', values: ['2'] },
      ),
      { headers: { 'x-a': '1', 'x-b': '3' } },
      false,
    ],
    // [MODEL] rule = from AND to AND when.
    [
      'from AND to AND when: all hold',
      {
        ...src({ principals: ['*'] }),
        ...op({ methods: ['GET'] }),
        ...when({ key: 'request.headers[x-a]', values: ['1'] }),
      },
      { principal: PEER, headers: { 'x-a': '1' } },
      true,
    ],
    // [MODEL] rule = from AND to AND when: when fails.
    [
      'from AND to AND when: when fails',
      {
        ...src({ principals: ['*'] }),
        ...op({ methods: ['GET'] }),
        ...when({ key: 'request.headers[x-a]', values: ['1'] }),
      },
      { principal: PEER, headers: {} },
      false,
    ],
    // [MODEL] `when: []` is no condition.
    ['empty when list', { when: [] }, {}, true],
  ])('%s', (_name, rule, a, expected) => {
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
