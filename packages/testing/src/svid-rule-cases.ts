/**
 * The X.509-SVID peer-verification rules (x509-svid-rules.md, part A) as a table of cases that the
 * adapter suites send over real mTLS connections. Each case builds the violating client
 * certificate and names the trust profile of the server it must be sent to and the answer the
 * server must give.
 *
 * The PKI (roots, server certificate) is built once per test file with {@link createSvidRulePki};
 * each case then issues its own leaf (one P-256 key each).
 */
import { x509 } from './x509.js';
import { leafOnly, ok, denied, type TrustProfileName, type SvidRuleCase } from './svid-rule-pki.js';
import { svidChainRuleCases } from './svid-chain-rule-cases.js';

const INVALID_IDS = [
  'sparfe://domain1.test/workload',
  'https://td.test/w',
  'spiffe://td.test/a/../b',
  'spiffe://td.test/a%2Fb',
  'spiffe://TD.test/w',
  'spiffe://td.test/w?x=1',
  'spiffe://td.test//w',
];

/**
 * The part-A cases, in rule order. Cases whose answer depends on the Node version are resolved
 * here (see {@link SERVER_SEES_CLIENT_CHAIN}). A20 (b, c) needs a bundle update between two
 * requests on one connection and is written in the suites with {@link createMutableBundleSource}.
 */
export function svidRuleCases(): SvidRuleCase[] {
  const cases: SvidRuleCase[] = [
    {
      rule: 'A1',
      name: 'no client certificate',
      profile: 'td',
      build: () => Promise.resolve(undefined),
      expect: denied('mtls_required'),
    },
    {
      rule: 'A2',
      name: '(a) SAN with only a DNS name',
      profile: 'td',
      build: async (p) => leafOnly(await p.td.issueSvid({ uris: [], dnsNames: ['w.td.test'] })),
      expect: denied('mtls_svid_invalid', /exactly one URI SAN, found 0/),
    },
    {
      rule: 'A2',
      name: '(b) no SAN extension',
      profile: 'td',
      build: async (p) => leafOnly(await p.td.issueSvid({ uris: [] })),
      expect: denied('mtls_svid_invalid', /exactly one URI SAN, found 0/),
    },
    {
      rule: 'A2',
      name: '(c) two SPIFFE URI SANs',
      profile: 'td',
      build: async (p) =>
        leafOnly(await p.td.issueSvid({ uris: ['spiffe://td.test/a', 'spiffe://td.test/b'] })),
      expect: denied('mtls_svid_invalid', /exactly one URI SAN, found 2/),
    },
    {
      rule: 'A2',
      name: '(d) a SPIFFE URI plus an https URI',
      profile: 'td',
      build: async (p) =>
        leafOnly(await p.td.issueSvid({ uris: ['spiffe://td.test/a', 'https://x.test'] })),
      expect: denied('mtls_svid_invalid', /exactly one URI SAN, found 2/),
    },
    ...INVALID_IDS.map((id): SvidRuleCase => ({
      rule: 'A3',
      name: `invalid SPIFFE ID ${id}`,
      profile: 'td',
      build: async (p) => leafOnly(await p.td.issueSvid({ uris: [id] })),
      expect: denied('mtls_svid_invalid', /not a valid SPIFFE ID/),
    })),
    {
      rule: 'A4',
      name: 'trust domain ID without a path (spiffe://td.test)',
      profile: 'td',
      build: async (p) => leafOnly(await p.td.issueSvid({ spiffeId: 'spiffe://td.test' })),
      expect: denied('mtls_svid_invalid', /must have a path/),
    },
    {
      // Node's X509Certificate.ca reports false for this certificate (cA=TRUE but no keyCertSign):
      // the guard must read BasicConstraints from the DER. OpenSSL accepts the handshake.
      rule: 'A5',
      name: 'leaf with cA=TRUE and KeyUsage digitalSignature only',
      profile: 'td',
      build: async (p) => leafOnly(await p.td.issueSvid({ isCa: true })),
      expect: denied('mtls_svid_invalid', /must not be a CA/),
    },
    {
      rule: 'A6',
      name: 'leaf with KeyUsage digitalSignature|keyCertSign',
      profile: 'td',
      build: async (p) =>
        leafOnly(
          await p.td.issueSvid({
            keyUsages: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign,
          }),
        ),
      expect: denied('mtls_svid_invalid', /keyCertSign or cRLSign/),
    },
    {
      rule: 'A7',
      name: 'leaf with KeyUsage digitalSignature|cRLSign',
      profile: 'td',
      build: async (p) =>
        leafOnly(
          await p.td.issueSvid({
            keyUsages: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.cRLSign,
          }),
        ),
      expect: denied('mtls_svid_invalid', /keyCertSign or cRLSign/),
    },
    {
      // Observed on Node 20 (OpenSSL 3.0) and Node 24 (OpenSSL 3.5): the handshake completes,
      // OpenSSL flags the ECDSA client certificate INVALID_PURPOSE (its KeyUsage cannot sign the
      // CertificateVerify), so the guard answers mtls_unverified before its own digitalSignature
      // rule is reached.
      rule: 'A8',
      name: 'leaf with KeyUsage keyEncipherment only',
      profile: 'td',
      build: async (p) =>
        leafOnly(await p.td.issueSvid({ keyUsages: x509.KeyUsageFlags.keyEncipherment })),
      expect: denied('mtls_unverified', /INVALID_PURPOSE/),
    },
    {
      rule: 'A9',
      name: '(a) leaf without a KeyUsage extension',
      profile: 'td',
      build: async (p) => leafOnly(await p.td.issueSvid({ keyUsages: 0 })),
      expect: denied('mtls_svid_invalid', /digitalSignature/),
    },
    {
      // POLICY: meshless does not require KeyUsage to be critical (no validator checks it).
      rule: 'A9',
      name: '(b) leaf with a non-critical KeyUsage digitalSignature is accepted',
      profile: 'td',
      build: async (p) =>
        leafOnly(
          await p.td.issueSvid({
            spiffeId: 'spiffe://td.test/ku-noncrit',
            keyUsagesCritical: false,
          }),
        ),
      expect: ok('spiffe://td.test/ku-noncrit'),
    },
    {
      rule: 'A10',
      name: 'empty subject with a critical URI SAN is accepted',
      profile: 'td',
      build: async (p) =>
        leafOnly(await p.td.issueSvid({ spiffeId: 'spiffe://td.test/no-subject', subject: '' })),
      expect: ok('spiffe://td.test/no-subject'),
    },
    {
      rule: 'A11',
      name: 'an extra DNS SAN is accepted',
      profile: 'td',
      build: async (p) =>
        leafOnly(await p.td.issueSvid({ spiffeId: 'spiffe://td.test/w', dnsNames: ['w.td.test'] })),
      expect: ok('spiffe://td.test/w'),
    },
    {
      rule: 'A12',
      name: '(a) leaf without an EKU extension is accepted',
      profile: 'td',
      build: async (p) =>
        leafOnly(
          await p.td.issueSvid({ spiffeId: 'spiffe://td.test/no-eku', extendedKeyUsages: [] }),
        ),
      expect: ok('spiffe://td.test/no-eku'),
    },
    {
      // POLICY: go-spiffe accepts any EKU; OpenSSL refuses a client certificate without
      // clientAuth (INVALID_PURPOSE) and meshless keeps that.
      rule: 'A12',
      name: '(b) leaf with EKU serverAuth only, used as a client certificate',
      profile: 'td',
      build: async (p) =>
        leafOnly(await p.td.issueSvid({ extendedKeyUsages: [x509.ExtendedKeyUsage.serverAuth] })),
      expect: denied('mtls_unverified', /INVALID_PURPOSE/),
    },
  ];
  return [...cases, ...svidChainRuleCases()];
}

/** Cases grouped by rule and profile, in table order: one positive control runs before each group. */
export function groupSvidRuleCases(
  cases: readonly SvidRuleCase[],
): { rule: string; profile: TrustProfileName; cases: SvidRuleCase[] }[] {
  const groups: { rule: string; profile: TrustProfileName; cases: SvidRuleCase[] }[] = [];
  for (const c of cases) {
    const last = groups.at(-1);
    if (last && last.rule === c.rule && last.profile === c.profile) last.cases.push(c);
    else groups.push({ rule: c.rule, profile: c.profile, cases: [c] });
  }
  return groups;
}
