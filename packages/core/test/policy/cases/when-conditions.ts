/**
 * Istio `when` conditions: headers, IPs, peer identity, request principal (istio.io conditions page).
 *
 * Each case: [name, ref, rule, attributes, expected]. `ref` is the citation label, see ./types.ts.
 */
import { JWT, OTHER, PEER, when, type FieldCase } from './types.js';

export const WHEN_REQUEST_CASES: FieldCase[] = [
  // [COND] request.headers: "HTTP request headers", exact match.
  [
    'header exact',
    'COND',
    when({ key: 'request.headers[x-role]', values: ['admin'] }),
    { headers: { 'x-role': 'admin' } },
    true,
  ],
  // [COND] header mismatch.
  [
    'header mismatch',
    'COND',
    when({ key: 'request.headers[x-role]', values: ['admin'] }),
    { headers: { 'x-role': 'user' } },
    false,
  ],
  // [COND] header names are case-insensitive.
  [
    'header name case',
    'COND',
    when({ key: 'request.headers[X-Role]', values: ['admin'] }),
    { headers: { 'x-role': 'admin' } },
    true,
  ],
  // [MODEL] header values are case-sensitive.
  [
    'header value case',
    'MODEL',
    when({ key: 'request.headers[x-role]', values: ['admin'] }),
    { headers: { 'x-role': 'Admin' } },
    false,
  ],
  // [MODEL matcher/header.go] prefix match.
  [
    'header prefix',
    'MODEL matcher/header.go',
    when({ key: 'request.headers[x-role]', values: ['adm*'] }),
    { headers: { 'x-role': 'admin' } },
    true,
  ],
  // [MODEL matcher/header.go] suffix match.
  [
    'header suffix',
    'MODEL matcher/header.go',
    when({ key: 'request.headers[x-role]', values: ['*min'] }),
    { headers: { 'x-role': 'admin' } },
    true,
  ],
  // [ENVOY] `*` is present_match: an empty header is present.
  [
    'header * empty present',
    'ENVOY',
    when({ key: 'request.headers[x-a]', values: ['*'] }),
    { headers: { 'x-a': '' } },
    true,
  ],
  // [ENVOY] `*` needs the header.
  [
    'header * absent',
    'ENVOY',
    when({ key: 'request.headers[x-a]', values: ['*'] }),
    { headers: {} },
    false,
  ],
  // CVE-2026-26308: repeated headers are matched value by value.
  [
    'repeated header any value',
    'CVE-2026-26308',
    when({ key: 'request.headers[x-role]', values: ['admin'] }),
    { headers: { 'x-role': ['user', 'admin'] } },
    true,
  ],
  // CVE-2026-26308: no joining with ",": "user,admin" is not a value.
  [
    'repeated header not joined',
    'CVE-2026-26308',
    when({ key: 'request.headers[x-role]', values: ['user,admin'] }),
    { headers: { 'x-role': ['user', 'admin'] } },
    false,
  ],
  // CVE-2026-26308: notValues deny if any value matches.
  [
    'repeated header notValues',
    'CVE-2026-26308',
    when({ key: 'request.headers[x-role]', notValues: ['admin'] }),
    { headers: { 'x-role': ['user', 'admin'] } },
    false,
  ],
  // [MODEL] missing header → notValues true.
  [
    'missing header notValues',
    'MODEL',
    when({ key: 'request.headers[x-role]', notValues: ['admin'] }),
    { headers: {} },
    true,
  ],
  // [MODEL] missing header → values false.
  [
    'missing header values',
    'MODEL',
    when({ key: 'request.headers[x-role]', values: ['admin'] }),
    {},
    false,
  ],
  // [COND] source.ip: CIDR.
  [
    'source.ip CIDR',
    'COND',
    when({ key: 'source.ip', values: ['10.0.0.0/8'] }),
    { sourceIp: '10.1.1.1' },
    true,
  ],
  // [COND] source.ip notValues.
  [
    'source.ip notValues',
    'COND',
    when({ key: 'source.ip', notValues: ['10.0.0.0/8'] }),
    { sourceIp: '10.1.1.1' },
    false,
  ],
  // [COND] remote.ip.
  [
    'remote.ip',
    'COND',
    when({ key: 'remote.ip', values: ['203.0.113.9'] }),
    { remoteIp: '203.0.113.9' },
    true,
  ],
  // [COND] remote.ip missing.
  ['remote.ip missing', 'COND', when({ key: 'remote.ip', values: ['203.0.113.9'] }), {}, false],
  // [COND] source.namespace.
  [
    'source.namespace',
    'COND',
    when({ key: 'source.namespace', values: ['payments'] }),
    { principal: PEER },
    true,
  ],
  // [COND] source.namespace other.
  [
    'source.namespace other',
    'COND',
    when({ key: 'source.namespace', values: ['shop'] }),
    { principal: PEER },
    false,
  ],
  // ISTIO-SECURITY-2021-004: notValues with no peer identity is true.
  [
    'source.namespace notValues plaintext',
    'ISTIO-SECURITY-2021-004',
    when({ key: 'source.namespace', notValues: ['shop'] }),
    {},
    true,
  ],
  // [COND] source.principal (trust domain cluster.local = this mesh).
  [
    'source.principal',
    'COND',
    when({ key: 'source.principal', values: ['cluster.local/ns/payments/sa/checkout'] }),
    { principal: PEER },
    true,
  ],
  // CVE-2020-16844: suffix principal compiled as spiffe://.*<suffix>.
  [
    'source.principal suffix',
    'CVE-2020-16844',
    when({ key: 'source.principal', values: ['*/sa/checkout'] }),
    { principal: PEER },
    true,
  ],
  // [COND] source.principal mismatch.
  [
    'source.principal other',
    'COND',
    when({ key: 'source.principal', values: ['cluster.local/ns/payments/sa/checkout'] }),
    { principal: OTHER },
    false,
  ],
  // [COND] request.auth.principal: iss/sub.
  [
    'request.auth.principal',
    'COND',
    when({ key: 'request.auth.principal', values: ['https://issuer.test/alice'] }),
    JWT,
    true,
  ],
  // [COND] request.auth.principal other subject.
  [
    'request.auth.principal other',
    'COND',
    when({ key: 'request.auth.principal', values: ['https://issuer.test/bob'] }),
    JWT,
    false,
  ],
  // [MODEL] no token → request.auth.principal notValues true.
  [
    'request.auth.principal missing notValues',
    'MODEL',
    when({ key: 'request.auth.principal', notValues: ['*'] }),
    {},
    true,
  ],
];
