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
import {
  SERVER_SEES_CLIENT_CHAIN,
  DENIED_PATH,
  certificatePemOf,
  issueIntermediate,
  HOUR_MS,
  leafOnly,
  withChain,
  type SvidRuleReason,
  type SvidRuleExpectation,
  type TrustProfileName,
  type SvidRuleCase,
} from './svid-rule-pki.js';

const ok = (principal: string): SvidRuleExpectation => ({ status: 200, principal });
const denied = (reason: SvidRuleReason, detail?: RegExp): SvidRuleExpectation =>
  detail ? { status: 403, reason, detail } : { status: 403, reason };

const INVALID_IDS = [
  'sparfe://domain1.test/workload',
  'https://td.test/w',
  'spiffe://td.test/a/../b',
  'spiffe://td.test/a%2Fb',
  'spiffe://TD.test/w',
  'spiffe://td.test/w?x=1',
  'spiffe://td.test//w',
];

/** Flips the last byte of a certificate's DER (inside the ECDSA signature value). */
export function tamperSignature(der: Uint8Array): Buffer {
  const out = Buffer.from(der);
  out[out.length - 1] = (out[out.length - 1] ?? 0) ^ 0x01;
  return out;
}

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
    {
      rule: 'A13',
      name: '(a) leaf signed by another CA that also calls itself td.test',
      profile: 'td',
      build: async (p) => leafOnly(await p.rogueTd.issueSvid()),
      expect: denied('mtls_unverified', /TLS verification failed/),
    },
    {
      rule: 'A13',
      name: '(b) leaf spiffe://other.test/x signed by R(td.test), no bundle for other.test',
      profile: 'td',
      build: async (p) => leafOnly(await p.td.issueSvid({ spiffeId: 'spiffe://other.test/x' })),
      expect: denied('mtls_untrusted_domain', /no trust bundle for trust domain other\.test/),
    },
    {
      // OpenSSL accepts it (R(a.test) is in the server's ca): the guard binds the leaf to b.test.
      rule: 'A13',
      name: '(c) leaf spiffe://b.test/x signed by R(a.test)',
      profile: 'federation',
      build: async (p) => leafOnly(await p.a.issueSvid({ spiffeId: 'spiffe://b.test/x' })),
      expect: denied('mtls_untrusted_domain', /trust domain b\.test/),
    },
    {
      rule: 'A13',
      name: '(c) leaf spiffe://b.test/x signed by an intermediate of R(a.test)',
      profile: 'federation',
      build: async (p) => {
        const int = await issueIntermediate(p.a, 'a.test intermediate');
        return withChain(await p.a.issueSvid({ spiffeId: 'spiffe://b.test/x', issuer: int }), int);
      },
      expect: denied('mtls_untrusted_domain', /trust domain b\.test/),
    },
    {
      rule: 'A13',
      name: '(d) leaf spiffe://b.test/x signed by R(b.test) is accepted',
      profile: 'federation',
      build: async (p) => leafOnly(await p.b.issueSvid({ spiffeId: 'spiffe://b.test/x' })),
      expect: ok('spiffe://b.test/x'),
    },
    {
      // The server trusts roots of three trust domains. Node 20 shows the guard the intermediate
      // the client sent, so the path leaf ← I(b) ← R(b) is proven. Node 24 shows only the leaf
      // (nodejs/node#65579): OpenSSL verified a chain to *some* root in `ca`, but which one cannot
      // be shown, and R(td)/R(a) are not b.test roots, so the guard refuses rather than guess.
      rule: 'A13',
      name: 'federation: leaf spiffe://b.test/x issued via an intermediate of R(b.test)',
      profile: 'federation',
      build: async (p) => {
        const int = await issueIntermediate(p.b, 'b.test intermediate');
        return withChain(await p.b.issueSvid({ spiffeId: 'spiffe://b.test/x', issuer: int }), int);
      },
      expect: SERVER_SEES_CLIENT_CHAIN
        ? ok('spiffe://b.test/x')
        : denied('mtls_untrusted_domain', /cannot be shown/),
    },
    {
      rule: 'A14',
      name: 'peer sends [leaf, its own self-signed root]',
      profile: 'td',
      build: async (p) => {
        const leaf = await p.untrusted.issueSvid();
        return { cert: leaf.certPem + p.untrusted.rootPem, key: leaf.keyPem };
      },
      expect: denied('mtls_unverified', /SELF_SIGNED_CERT_IN_CHAIN/),
    },
    {
      rule: 'A14',
      name: 'peer sends [leaf, a self-signed root with the same name as R(td.test)]',
      profile: 'td',
      build: async (p) => {
        const leaf = await p.rogueTd.issueSvid();
        return { cert: leaf.certPem + p.rogueTd.rootPem, key: leaf.keyPem };
      },
      expect: denied('mtls_unverified', /TLS verification failed/),
    },
    {
      rule: 'A15',
      name: 'expired leaf (notAfter = now − 1 h)',
      profile: 'td',
      build: async (p) =>
        leafOnly(
          await p.td.issueSvid({
            notBefore: new Date(Date.now() - 2 * HOUR_MS),
            notAfter: new Date(Date.now() - HOUR_MS),
          }),
        ),
      expect: denied('mtls_unverified', /CERT_HAS_EXPIRED/),
    },
    {
      rule: 'A15',
      name: 'leaf not yet valid (notBefore = now + 1 h)',
      profile: 'td',
      build: async (p) =>
        leafOnly(
          await p.td.issueSvid({
            notBefore: new Date(Date.now() + HOUR_MS),
            notAfter: new Date(Date.now() + 2 * HOUR_MS),
          }),
        ),
      expect: denied('mtls_unverified', /CERT_NOT_YET_VALID/),
    },
    {
      rule: 'A16',
      name: '(a) intermediate without cA',
      profile: 'td',
      build: async (p) => {
        const int = await issueIntermediate(p.td, 'td.test no-ca intermediate', { isCa: false });
        return withChain(await p.td.issueSvid({ issuer: int }), int);
      },
      expect: denied('mtls_unverified', /TLS verification failed/),
    },
    {
      rule: 'A16',
      name: '(b) intermediate with cA but KeyUsage cRLSign|digitalSignature (no keyCertSign)',
      profile: 'td',
      build: async (p) => {
        const int = await issueIntermediate(p.td, 'td.test no-certsign intermediate', {
          keyUsages: x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        });
        return withChain(await p.td.issueSvid({ issuer: int }), int);
      },
      expect: denied('mtls_unverified', /TLS verification failed/),
    },
    {
      rule: 'A16',
      name: '(c) root pathLen 0 → intermediate → leaf',
      profile: 'td',
      build: async (p) => {
        const int = await issueIntermediate(p.td, 'td.test under-pathlen0 intermediate', {
          issuer: p.pathLen0Root,
        });
        return withChain(await p.td.issueSvid({ issuer: int }), int);
      },
      expect: denied('mtls_unverified', /PATH_LENGTH_EXCEEDED/),
    },
    {
      // Both Node versions: on Node 24 only the leaf is visible, but every root the server
      // trusts is a td.test root, so OpenSSL's verification binds the leaf to td.test.
      rule: 'A16',
      name: 'positive: leaf via a good intermediate is accepted',
      profile: 'td',
      build: async (p) => {
        const int = await issueIntermediate(p.td, 'td.test intermediate');
        return withChain(
          await p.td.issueSvid({ spiffeId: 'spiffe://td.test/via-int', issuer: int }),
          int,
        );
      },
      expect: ok('spiffe://td.test/via-int'),
    },
    {
      rule: 'A17',
      name: 'leaf with an unknown critical extension',
      profile: 'td',
      build: async (p) =>
        leafOnly(
          await p.td.issueSvid({
            extraExtensions: [
              new x509.Extension('1.3.6.1.4.1.99999.1', true, new Uint8Array([5, 0])),
            ],
          }),
        ),
      expect: denied('mtls_unverified', /TLS verification failed/),
    },
    {
      // The client's key still matches the public key in the certificate, so the handshake
      // completes; OpenSSL reports the broken CA signature.
      rule: 'A18',
      name: 'leaf whose signature has one byte flipped',
      profile: 'td',
      build: async (p) => {
        const leaf = await p.td.issueSvid();
        return { cert: certificatePemOf(tamperSignature(leaf.certDer)), key: leaf.keyPem };
      },
      expect: denied('mtls_unverified', /CERT_SIGNATURE_FAILURE/),
    },
    {
      rule: 'A19',
      name: 'leaf spiffe://other.test/w outside the root name constraint',
      profile: 'name-constraints',
      build: async (p) =>
        leafOnly(
          await p.td.issueSvid({
            spiffeId: 'spiffe://other.test/w',
            issuer: p.nameConstrainedRoot,
          }),
        ),
      expect: denied('mtls_unverified', /TLS verification failed/),
    },
    {
      rule: 'A19',
      name: 'leaf spiffe://td.test/w inside the root name constraint is accepted',
      profile: 'name-constraints',
      build: async (p) =>
        leafOnly(
          await p.td.issueSvid({ spiffeId: 'spiffe://td.test/w', issuer: p.nameConstrainedRoot }),
        ),
      expect: ok('spiffe://td.test/w'),
    },
    {
      rule: 'A20',
      name: '(a) bundle td.test → [] trusts nothing',
      profile: 'empty',
      build: async (p) => leafOnly(await p.td.issueSvid({ spiffeId: 'spiffe://td.test/workload' })),
      expect: denied('mtls_untrusted_domain', /no trust bundle for trust domain td\.test/),
    },
    {
      // Node renders this SAN as `URI:"spiffe://td.test/a\u002c URI:spiffe://td.test/admin"`: a
      // text parser could see two URIs. Read from the DER, it is one invalid ID.
      rule: 'A21',
      name: 'one URI SAN "spiffe://td.test/a, URI:spiffe://td.test/admin"',
      profile: 'td',
      build: async (p) =>
        leafOnly(
          await p.td.issueSvid({ uris: ['spiffe://td.test/a, URI:spiffe://td.test/admin'] }),
        ),
      expect: denied('mtls_svid_invalid', /not a valid SPIFFE ID/),
    },
    {
      rule: 'A22',
      name: `control: a verified peer on ${DENIED_PATH} is denied by the DENY policy`,
      profile: 'td',
      path: DENIED_PATH,
      build: async (p) => leafOnly(await p.td.issueSvid()),
      expect: denied('authz_deny_policy'),
    },
    {
      rule: 'A22',
      name: `untrusted chain on ${DENIED_PATH}: the chain error decides`,
      profile: 'td',
      path: DENIED_PATH,
      build: async (p) => leafOnly(await p.rogueTd.issueSvid()),
      expect: denied('mtls_unverified', /TLS verification failed/),
    },
    {
      rule: 'A22',
      name: `leaf of an untrusted domain on ${DENIED_PATH}: the binding error decides`,
      profile: 'td',
      path: DENIED_PATH,
      build: async (p) => leafOnly(await p.td.issueSvid({ spiffeId: 'spiffe://other.test/x' })),
      expect: denied('mtls_untrusted_domain'),
    },
  ];
  return cases;
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
