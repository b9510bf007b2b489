/**
 * Istio operation fields: `paths` value matching, `hosts`, `methods`, `ports`, and the boolean
 * structure of a rule. Citation labels: see ./types.ts.
 */

/** [pattern, request value, expected, ref]. */
export type ValueCase = [pattern: string, value: string, expected: boolean, ref: string];

export const PATH_VALUE_CASES: ValueCase[] = [
  // [REF] exact match.
  ['/info', '/info', true, 'REF'],
  // [REF] exact: a trailing slash differs.
  ['/info', '/info/', false, 'REF'],
  // [REF] exact: not a prefix.
  ['/info', '/infox', false, 'REF'],
  // [MODEL] path matchers are case-sensitive.
  ['/info', '/Info', false, 'MODEL'],
  // [REF] prefix match `abc*` includes the prefix itself.
  ['/info*', '/info', true, 'REF'],
  // [REF] prefix match, raw (not segment-aware).
  ['/info*', '/infoxyz', true, 'REF'],
  // [REF] prefix match across segments.
  ['/info*', '/info/a/b', true, 'REF'],
  // [REF] shorter than the prefix.
  ['/info*', '/inf', false, 'REF'],
  // [REF] suffix match `*abc`.
  ['*.json', '/a/b.json', true, 'REF'],
  // [REF] suffix: must end with it.
  ['*.json', '/a/b.jsonx', false, 'REF'],
  // [MODEL] suffix match is case-sensitive.
  ['*.json', '/a/b.JSON', false, 'MODEL'],
  // [REF] presence match `*`.
  ['*', '/', true, 'REF'],
  // [REF] presence match, any path.
  ['*', '/anything', true, 'REF'],
  // [REF] a middle `*` is not a wildcard: a literal.
  ['/a*b', '/a*b', true, 'REF'],
  // [REF] the literal `*` does not match another character.
  ['/a*b', '/axb', false, 'REF'],
  // [REF] nor the empty string.
  ['/a*b', '/ab', false, 'REF'],
  // [MODEL] case-sensitive exact match.
  ['/Admin', '/admin', false, 'MODEL'],
];

export const HOST_CASES: ValueCase[] = [
  // [PROTO] hosts: "A list of hosts as specified in the HTTP request. The match is case-insensitive."
  ['example.com', 'example.com', true, 'PROTO'],
  // CVE-2021-39155: hosts are matched case-insensitively.
  ['example.com', 'Example.COM', true, 'CVE-2021-39155'],
  // CVE-2021-39155: the policy value's case does not matter either.
  ['Example.com', 'example.com', true, 'CVE-2021-39155'],
  // [REF] the Host header includes the port when sent: an exact host does not match it.
  ['example.com', 'example.com:8080', false, 'REF'],
  // [REF] `host:*` (prefix) matches any port.
  ['example.com:*', 'example.com:8080', true, 'REF'],
  // [REF] `host:*` needs a port.
  ['example.com:*', 'example.com', false, 'REF'],
  // CVE-2021-39155: suffix match, case-insensitive.
  ['*.example.com', 'API.Example.com', true, 'CVE-2021-39155'],
  // [REF] `*.example.com` needs the subdomain dot.
  ['*.example.com', 'example.com', false, 'REF'],
  // CVE-2021-39155: prefix match, case-insensitive.
  ['api.*', 'API.example.com', true, 'CVE-2021-39155'],
  // [REF] presence match.
  ['*', 'anything', true, 'REF'],
];

export const METHOD_CASES: ValueCase[] = [
  // [PROTO] methods: "A list of methods as specified in the HTTP request".
  ['GET', 'GET', true, 'PROTO'],
  // [MODEL] the `:method` header matcher is case-sensitive.
  ['GET', 'get', false, 'MODEL'],
  // [PROTO] another method.
  ['GET', 'HEAD', false, 'PROTO'],
  // [MODEL] case-sensitive.
  ['DELETE', 'Delete', false, 'MODEL'],
  // [PROTO] exact method.
  ['POST', 'POST', true, 'PROTO'],
];

/** [ports, destination port, expected, ref]. */
export type PortCase = [ports: string[], port: number, expected: boolean, ref: string];

export const PORT_CASES: PortCase[] = [
  // [PROTO] ports: "A list of ports as specified in the connection".
  [['8080'], 8080, true, 'PROTO'],
  // [PROTO] another port.
  [['8080'], 80, false, 'PROTO'],
  // [PROTO] any of several ports.
  [['80', '443'], 443, true, 'PROTO'],
  // [MODEL] ports are parsed as integers: 0 is a value.
  [['0'], 0, true, 'MODEL'],
  // [MODEL] ports are parsed as integers (strconv.Atoi): a leading zero is the same port.
  [['08080'], 8080, true, 'MODEL'],
];

/** [peer SPIFFE ID, method, path, expected, ref] against STRUCTURE_RULE. */
export type StructureCase = [
  principal: string,
  method: string,
  path: string,
  expected: boolean,
  ref: string,
];

/** [PROTO] Rule: "from" sources are ORed, "to" operations are ORed, and the sections are ANDed. */
export const STRUCTURE_RULE = {
  from: [
    { source: { principals: ['cluster.local/ns/a/sa/a'] } },
    { source: { principals: ['cluster.local/ns/b/sa/b'] } },
  ],
  to: [{ operation: { methods: ['GET'] } }, { operation: { paths: ['/x'] } }],
};

const A = 'spiffe://example.org/ns/a/sa/a';
const B = 'spiffe://example.org/ns/b/sa/b';
const C = 'spiffe://example.org/ns/c/sa/c';

export const STRUCTURE_CASES: StructureCase[] = [
  // [PROTO] first source, first operation.
  [A, 'GET', '/y', true, 'PROTO'],
  // [PROTO] second source, second operation.
  [B, 'POST', '/x', true, 'PROTO'],
  // [PROTO] second source, both operations.
  [B, 'GET', '/x', true, 'PROTO'],
  // [PROTO] no source matches: the rule does not.
  [C, 'GET', '/x', false, 'PROTO'],
  // [PROTO] no operation matches: the rule does not.
  [A, 'POST', '/y', false, 'PROTO'],
];
