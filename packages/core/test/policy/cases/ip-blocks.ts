/**
 * Istio `ipBlocks` / `remoteIpBlocks` (and their `not` forms) cases.
 *
 * Each case: [name, ref, rule, attributes, expected]. `ref` is the citation label, see ./types.ts.
 */
import { src, type FieldCase } from './types.js';

export const IP_BLOCK_CASES: FieldCase[] = [
  // [REF] ipBlocks: "a list of IP blocks ... Single IP (e.g. 203.0.113.4) and CIDR".
  ['single IPv4', 'REF', src({ ipBlocks: ['10.0.0.7'] }), { sourceIp: '10.0.0.7' }, true],
  // [REF] CIDR match.
  ['IPv4 CIDR', 'REF', src({ ipBlocks: ['10.0.0.0/8'] }), { sourceIp: '10.200.3.4' }, true],
  // [REF] outside the CIDR.
  ['outside CIDR', 'REF', src({ ipBlocks: ['10.0.0.0/8'] }), { sourceIp: '11.0.0.1' }, false],
  // [REF] IPv6 CIDR.
  ['IPv6 CIDR', 'REF', src({ ipBlocks: ['2001:db8::/32'] }), { sourceIp: '2001:db8::1' }, true],
  // [REF] IPv6 address vs IPv4 block: no match.
  ['family mismatch', 'REF', src({ ipBlocks: ['10.0.0.0/8'] }), { sourceIp: '2001:db8::1' }, false],
  // [VALID] Go's ParseCIDR accepts host bits; the block is the masked network.
  ['host bits set', 'VALID', src({ ipBlocks: ['10.1.2.3/16'] }), { sourceIp: '10.1.9.9' }, true],
  // [REF] any of several blocks.
  [
    'any of several',
    'REF',
    src({ ipBlocks: ['1.1.1.1', '192.168.0.0/16'] }),
    { sourceIp: '192.168.1.1' },
    true,
  ],
  // [MODEL] missing peer IP → positive false.
  ['missing IP', 'MODEL', src({ ipBlocks: ['0.0.0.0/0'] }), {}, false],
  // [REF] notIpBlocks: negative match.
  [
    'notIpBlocks excludes',
    'REF',
    src({ notIpBlocks: ['10.0.0.0/8'] }),
    { sourceIp: '10.0.0.1' },
    false,
  ],
  // [REF] notIpBlocks: others pass.
  [
    'notIpBlocks others',
    'REF',
    src({ notIpBlocks: ['10.0.0.0/8'] }),
    { sourceIp: '172.16.0.1' },
    true,
  ],
  // [MODEL] missing attribute → notX true.
  ['notIpBlocks missing IP', 'MODEL', src({ notIpBlocks: ['10.0.0.0/8'] }), {}, true],
  // [MODEL] values and notValues ANDed: the allowed block minus a hole.
  [
    'ipBlocks minus notIpBlocks',
    'MODEL',
    src({ ipBlocks: ['10.0.0.0/8'], notIpBlocks: ['10.0.0.0/24'] }),
    { sourceIp: '10.0.0.5' },
    false,
  ],
  // [MODEL] source fields are ANDed: ipBlocks and principals.
  [
    'ipBlocks AND principals',
    'MODEL',
    src({ ipBlocks: ['10.0.0.0/8'], principals: ['*'] }),
    { sourceIp: '10.0.0.5' },
    false,
  ],
  // [REF] ipBlocks reads the direct peer, never X-Forwarded-For.
  [
    'ipBlocks ignores XFF',
    'REF',
    src({ ipBlocks: ['1.2.3.4'] }),
    { sourceIp: '10.0.0.1', remoteIp: '1.2.3.4', headers: { 'x-forwarded-for': '1.2.3.4' } },
    false,
  ],
];

export const REMOTE_IP_BLOCK_CASES: FieldCase[] = [
  // [REF] remoteIpBlocks: "the IP address ... determined by X-Forwarded-For / proxy protocol".
  [
    'remote IP in block',
    'REF',
    src({ remoteIpBlocks: ['203.0.113.0/24'] }),
    { remoteIp: '203.0.113.9' },
    true,
  ],
  // [REF] remote IP outside.
  [
    'remote IP outside',
    'REF',
    src({ remoteIpBlocks: ['203.0.113.0/24'] }),
    { remoteIp: '198.51.100.1' },
    false,
  ],
  // [REF] remoteIpBlocks does not read the direct peer IP.
  [
    'remote ≠ peer',
    'REF',
    src({ remoteIpBlocks: ['10.0.0.1'] }),
    { sourceIp: '10.0.0.1', remoteIp: '203.0.113.9' },
    false,
  ],
  // [REF] notRemoteIpBlocks excludes.
  [
    'notRemoteIpBlocks excludes',
    'REF',
    src({ notRemoteIpBlocks: ['203.0.113.9'] }),
    { remoteIp: '203.0.113.9' },
    false,
  ],
  // [MODEL] missing → notX true.
  ['notRemoteIpBlocks missing', 'MODEL', src({ notRemoteIpBlocks: ['203.0.113.9'] }), {}, true],
  // [REF] IPv6 remote.
  [
    'IPv6 remote',
    'REF',
    src({ remoteIpBlocks: ['2001:db8::1'] }),
    { remoteIp: '2001:db8::1' },
    true,
  ],
];
