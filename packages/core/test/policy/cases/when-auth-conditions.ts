/**
 * Istio `when` conditions on token claims, audiences and presenter, destination and SNI, and their combination.
 *
 * Each case: [name, ref, rule, attributes, expected]. `ref` is the citation label, see ./types.ts.
 */
import { CLAIMS, op, PEER, src, when, type FieldCase } from './types.js';

export const WHEN_AUTH_CASES: FieldCase[] = [
  // [COND] request.auth.audiences: a list `aud`, any element.
  [
    'audiences list',
    'COND',
    when({ key: 'request.auth.audiences', values: ['orders'] }),
    { claims: CLAIMS },
    true,
  ],
  // [COND] audiences: a string `aud`.
  [
    'audiences string',
    'COND',
    when({ key: 'request.auth.audiences', values: ['payments'] }),
    { claims: { aud: 'payments' } },
    true,
  ],
  // [COND] audiences mismatch.
  [
    'audiences mismatch',
    'COND',
    when({ key: 'request.auth.audiences', values: ['billing'] }),
    { claims: CLAIMS },
    false,
  ],
  // [COND] request.auth.presenter = azp.
  [
    'presenter',
    'COND',
    when({ key: 'request.auth.presenter', values: ['web-app'] }),
    { claims: CLAIMS },
    true,
  ],
  // [COND] presenter absent.
  [
    'presenter absent',
    'COND',
    when({ key: 'request.auth.presenter', values: ['*'] }),
    { claims: { iss: 'x' } },
    false,
  ],
  // [COND] request.auth.claims[name]: string claim.
  [
    'claim string',
    'COND',
    when({ key: 'request.auth.claims[role]', values: ['admin'] }),
    { claims: CLAIMS },
    true,
  ],
  // [COND] a list claim matches if any element matches.
  [
    'claim list any',
    'COND',
    when({ key: 'request.auth.claims[groups]', values: ['ops'] }),
    { claims: CLAIMS },
    true,
  ],
  // [COND] a list claim, no element matches.
  [
    'claim list none',
    'COND',
    when({ key: 'request.auth.claims[groups]', values: ['qa'] }),
    { claims: CLAIMS },
    false,
  ],
  // [COND] nested claims: request.auth.claims[nested][team][name].
  [
    'nested claim',
    'COND',
    when({ key: 'request.auth.claims[nested][team][name]', values: ['core'] }),
    { claims: CLAIMS },
    true,
  ],
  // [COND] nested list.
  [
    'nested list',
    'COND',
    when({ key: 'request.auth.claims[nested][list]', values: ['x'] }),
    { claims: CLAIMS },
    true,
  ],
  // [MODEL] an object claim is not a string: no match.
  [
    'object claim',
    'MODEL',
    when({ key: 'request.auth.claims[nested]', values: ['*'] }),
    { claims: CLAIMS },
    false,
  ],
  // [MODEL] numbers never match.
  [
    'number claim',
    'MODEL',
    when({ key: 'request.auth.claims[level]', values: ['3'] }),
    { claims: CLAIMS },
    false,
  ],
  // [MODEL] booleans never match.
  [
    'boolean claim',
    'MODEL',
    when({ key: 'request.auth.claims[admin]', values: ['true'] }),
    { claims: CLAIMS },
    false,
  ],
  // [MODEL] list elements that are not strings are skipped.
  [
    'mixed list',
    'MODEL',
    when({ key: 'request.auth.claims[mixed]', values: ['1'] }),
    { claims: CLAIMS },
    false,
  ],
  // [ENVOY jwt_authn] `scope` is space-delimited.
  [
    'scope split',
    'ENVOY jwt_authn',
    when({ key: 'request.auth.claims[scope]', values: ['write'] }),
    { claims: CLAIMS },
    true,
  ],
  // [ENVOY jwt_authn] `permission` is space-delimited.
  [
    'permission split',
    'ENVOY jwt_authn',
    when({ key: 'request.auth.claims[permission]', values: ['p2'] }),
    { claims: CLAIMS },
    true,
  ],
  // [ENVOY jwt_authn] other claims are not split.
  [
    'other claim not split',
    'ENVOY jwt_authn',
    when({ key: 'request.auth.claims[spaced]', values: ['a'] }),
    { claims: CLAIMS },
    false,
  ],
  // [MODEL] no token → claims notValues true.
  [
    'claims missing notValues',
    'MODEL',
    when({ key: 'request.auth.claims[role]', notValues: ['admin'] }),
    {},
    true,
  ],
  // [MODEL] claim absent in the token → values false.
  [
    'claim absent',
    'MODEL',
    when({ key: 'request.auth.claims[missing]', values: ['*'] }),
    { claims: CLAIMS },
    false,
  ],
  // [COND] destination.ip.
  [
    'destination.ip',
    'COND',
    when({ key: 'destination.ip', values: ['10.0.0.0/8'] }),
    { destinationIp: '10.0.0.2' },
    true,
  ],
  // [COND] destination.ip missing.
  [
    'destination.ip missing',
    'COND',
    when({ key: 'destination.ip', values: ['10.0.0.0/8'] }),
    {},
    false,
  ],
  // [COND] destination.port.
  [
    'destination.port',
    'COND',
    when({ key: 'destination.port', values: ['8080'] }),
    { port: 8080 },
    true,
  ],
  // [COND] destination.port notValues.
  [
    'destination.port notValues',
    'COND',
    when({ key: 'destination.port', notValues: ['8080'] }),
    { port: 8080 },
    false,
  ],
  // [COND] connection.sni.
  [
    'connection.sni',
    'COND',
    when({ key: 'connection.sni', values: ['*.example.org'] }),
    { sni: 'api.example.org' },
    true,
  ],
  // [COND] connection.sni missing.
  ['connection.sni missing', 'COND', when({ key: 'connection.sni', values: ['*'] }), {}, false],
  // [MODEL] values and notValues of one condition are ANDed.
  [
    'values AND notValues',
    'MODEL',
    when({ key: 'request.headers[x-role]', values: ['adm*'], notValues: ['admin'] }),
    { headers: { 'x-role': 'admin' } },
    false,
  ],
  // [MODEL] conditions are ANDed.
  [
    'conditions ANDed',
    'MODEL',
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
    'MODEL',
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
    'MODEL',
    {
      ...src({ principals: ['*'] }),
      ...op({ methods: ['GET'] }),
      ...when({ key: 'request.headers[x-a]', values: ['1'] }),
    },
    { principal: PEER, headers: {} },
    false,
  ],
  // [MODEL] `when: []` is no condition.
  ['empty when list', 'MODEL', { when: [] }, {}, true],
];
