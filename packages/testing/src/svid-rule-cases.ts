/**
 * The X.509-SVID peer-verification rules (x509-svid-rules.md, part A) as a table of cases that the
 * adapter suites send over real mTLS connections. Each case builds the violating client
 * certificate and names the trust profile of the server it must be sent to and the answer the
 * server must give.
 *
 * The PKI (roots, server certificate) is built once per test file with {@link createSvidRulePki};
 * each case then issues its own leaf (one P-256 key each).
 */
import { createHash, KeyObject, webcrypto, X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1x509 from '@peculiar/asn1-x509';
import { createTestCa, type Svid, type TestCa } from './ca.js';
import { mtlsRequest, type MtlsRequestOptions } from './mtls-request.js';
import { x509 } from './x509.js';

const EC_KEY_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;
const HOUR_MS = 3_600_000;

/** Major version of the running Node. */
export const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

/**
 * Whether a TLS server sees the intermediates its client sent. Node 24 shows the server only the
 * client's leaf (nodejs/node#65579: Node calls `getPeerX509Certificate()` during the handshake,
 * which drops the peer chain); Node 20 shows leaf ← intermediates ← root. See toolchain.md §2.
 */
export const SERVER_SEES_CLIENT_CHAIN = NODE_MAJOR < 24;

/** The trust domain the servers of the suite run in. */
export const SVID_RULES_TRUST_DOMAIN = 'td.test';
/** The namespace of the servers' workload (and of {@link svidRulePolicies}). */
export const SVID_RULES_NAMESPACE = 'svc';
/** A path a DENY policy refuses to every verified peer (A22: the authorizer would deny). */
export const DENIED_PATH = '/denied';

/** The reasons a case may expect in the JSON body of a 403. */
export type SvidRuleReason =
  | 'mtls_required'
  | 'mtls_unverified'
  | 'mtls_svid_invalid'
  | 'mtls_untrusted_domain'
  | 'mtls_cert_expired'
  | 'authz_deny_policy';

/** What the server must answer. */
export type SvidRuleExpectation =
  /** The handler ran and answered `{ principal }`. */
  | { readonly status: 200; readonly principal: string }
  /** meshless refused: 403 with this body `reason` (and a `detail` matching, when given). */
  | { readonly status: 403; readonly reason: SvidRuleReason; readonly detail?: RegExp }
  /** No HTTP exchange happened: the TLS handshake failed. */
  | { readonly handshake: 'refused' };

/** A client certificate (chain PEM, leaf first) and its key. */
export interface ClientCredentials {
  readonly cert: string;
  readonly key: string;
}

/** A self-signed root built outside {@link createTestCa} (custom extensions), usable as `issuer`. */
export type CustomRoot = Svid;

/** Everything the cases are issued from. */
export interface SvidRulePki {
  /** R(td.test): the root of the servers' own trust domain. */
  readonly td: TestCa;
  /** A second, later root of td.test (rotation target in A20). */
  readonly tdNext: TestCa;
  /** Another CA that also calls itself td.test, with the same subject DN as R(td.test). Untrusted. */
  readonly rogueTd: TestCa;
  /** An untrusted CA with a distinct name (A14). */
  readonly untrusted: TestCa;
  /** R(a.test) and R(b.test): federated trust domains. */
  readonly a: TestCa;
  readonly b: TestCa;
  /** A td.test root with BasicConstraints pathLenConstraint 0 (A16 c). */
  readonly pathLen0Root: CustomRoot;
  /** A td.test root with a critical URI name constraint permitting only host `td.test` (A19). */
  readonly nameConstrainedRoot: CustomRoot;
  /** The servers' certificate (issued by R(td.test), SANs 127.0.0.1 and localhost). */
  readonly server: Svid;
  /** What clients trust for the server certificate. */
  readonly serverRootPem: string;
}

/** Names of the trust configurations a server of the suite runs with. */
export type TrustProfileName = 'td' | 'federation' | 'empty' | 'name-constraints';

/** One server trust configuration: meshless `trustBundles` and the TLS server's `ca`. */
export interface TrustProfile {
  readonly name: TrustProfileName;
  readonly title: string;
  /** meshless `trustBundles`: trust domain → root PEMs. */
  readonly trustBundles: Record<string, string[]>;
  /** The TLS server's `ca` (what OpenSSL verifies client chains against). */
  readonly serverCa: string[];
  /** The SPIFFE ID of this profile's positive control. */
  readonly controlId: string;
  /** Issues the positive control: a good leaf that must be answered 200 with `controlId`. */
  control(): Promise<ClientCredentials>;
}

/** One row of the table. */
export interface SvidRuleCase {
  /** Rule number of x509-svid-rules.md part A, e.g. `A5`. */
  readonly rule: string;
  readonly name: string;
  readonly profile: TrustProfileName;
  /** Request path. Default `/`. */
  readonly path?: string;
  /** Issues the client certificate; `undefined` = no client certificate. */
  build(pki: SvidRulePki): Promise<ClientCredentials | undefined>;
  readonly expect: SvidRuleExpectation;
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return Buffer.from(bytes).toString('hex');
}

/** PEM of DER certificate bytes (e.g. a tampered certificate). */
export function certificatePemOf(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}

/** A self-signed CA certificate with the given BasicConstraints path length and extra extensions. */
export async function createCustomRoot(options: {
  trustDomain: string;
  name: string;
  pathLength?: number;
  extraExtensions?: x509.Extension[];
}): Promise<CustomRoot> {
  const now = Date.now();
  const keys = await webcrypto.subtle.generateKey(EC_KEY_ALG, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: options.name,
    keys,
    notBefore: new Date(now - HOUR_MS),
    notAfter: new Date(now + 48 * HOUR_MS),
    signingAlgorithm: SIGNING_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, options.pathLength, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      new x509.SubjectAlternativeNameExtension([
        { type: 'url', value: `spiffe://${options.trustDomain}` },
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey),
      ...(options.extraExtensions ?? []),
    ],
  });
  const certDer = Buffer.from(cert.rawData);
  const certPem = certificatePemOf(certDer);
  return {
    spiffeId: undefined,
    certPem,
    chainPem: certPem,
    keyPem: KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString(),
    certDer,
    chainDer: [certDer],
    fingerprint256: createHash('sha256').update(certDer).digest('hex'),
  };
}

/** A URI name constraint (critical) permitting only URIs whose host is `host` (RFC 5280 §4.2.1.10). */
export function uriNameConstraint(host: string): x509.Extension {
  const value = new asn1x509.NameConstraints({
    permittedSubtrees: new asn1x509.GeneralSubtrees([
      new asn1x509.GeneralSubtree({
        base: new asn1x509.GeneralName({ uniformResourceIdentifier: host }),
      }),
    ]),
  });
  return new x509.Extension(asn1x509.id_ce_nameConstraints, true, AsnConvert.serialize(value));
}

/** Builds the PKI of the suite (a few ms: about 10 P-256 keys). */
export async function createSvidRulePki(): Promise<SvidRulePki> {
  const td = SVID_RULES_TRUST_DOMAIN;
  const [tdCa, tdNext, rogueTd, untrusted, a, b, pathLen0Root, nameConstrainedRoot] =
    await Promise.all([
      createTestCa({ trustDomain: td }),
      createTestCa({ trustDomain: td, name: `CN=${td} next root` }),
      // Same subject DN as R(td.test) (`CN=td.test root`): only the key differs.
      createTestCa({ trustDomain: td }),
      createTestCa({ trustDomain: td, name: 'CN=untrusted self-signed root' }),
      createTestCa({ trustDomain: 'a.test' }),
      createTestCa({ trustDomain: 'b.test' }),
      createCustomRoot({ trustDomain: td, name: `CN=${td} pathlen0 root`, pathLength: 0 }),
      createCustomRoot({
        trustDomain: td,
        name: `CN=${td} name-constrained root`,
        extraExtensions: [uriNameConstraint(td)],
      }),
    ]);
  const server = await tdCa.issueSvid({
    spiffeId: `spiffe://${td}/server`,
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  return {
    td: tdCa,
    tdNext,
    rogueTd,
    untrusted,
    a,
    b,
    pathLen0Root,
    nameConstrainedRoot,
    server,
    serverRootPem: tdCa.rootPem,
  };
}

const leafOnly = (svid: Svid): ClientCredentials => ({ cert: svid.certPem, key: svid.keyPem });
const withChain = (svid: Svid, ...upper: Svid[]): ClientCredentials => ({
  cert: svid.certPem + upper.map((c) => c.certPem).join(''),
  key: svid.keyPem,
});

const CA_KEY_USAGES = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;

/** An intermediate CA (by default a good one) issued by `ca`'s root or by `issuer`. */
export function issueIntermediate(
  ca: TestCa,
  name: string,
  overrides: { isCa?: boolean; keyUsages?: number; issuer?: Svid; notAfter?: Date } = {},
): Promise<Svid> {
  return ca.issueSvid({
    uris: [`spiffe://${ca.trustDomain}`],
    subject: `CN=${name}`,
    isCa: overrides.isCa ?? true,
    keyUsages: overrides.keyUsages ?? CA_KEY_USAGES,
    extendedKeyUsages: [],
    ...(overrides.issuer ? { issuer: overrides.issuer } : {}),
    ...(overrides.notAfter ? { notAfter: overrides.notAfter } : {}),
  });
}

/** The trust configurations of the servers, each with its positive control. */
export function svidRuleProfiles(pki: SvidRulePki): Record<TrustProfileName, TrustProfile> {
  const tdControl = 'spiffe://td.test/workload';
  return {
    td: {
      name: 'td',
      title: 'server trusting td.test only',
      trustBundles: { 'td.test': [pki.td.rootPem, pki.pathLen0Root.certPem] },
      serverCa: [pki.td.rootPem, pki.pathLen0Root.certPem],
      controlId: tdControl,
      control: async () => leafOnly(await pki.td.issueSvid({ spiffeId: tdControl })),
    },
    federation: {
      name: 'federation',
      title: 'server federating td.test, a.test and b.test',
      trustBundles: {
        'td.test': [pki.td.rootPem],
        'a.test': [pki.a.rootPem],
        'b.test': [pki.b.rootPem],
      },
      serverCa: [pki.td.rootPem, pki.a.rootPem, pki.b.rootPem],
      controlId: tdControl,
      control: async () => leafOnly(await pki.td.issueSvid({ spiffeId: tdControl })),
    },
    empty: {
      // td.test trusts nothing here, so the control is a peer of the other listed domain.
      name: 'empty',
      title: 'server with an empty td.test bundle (and a.test)',
      trustBundles: { 'td.test': [], 'a.test': [pki.a.rootPem] },
      serverCa: [pki.td.rootPem, pki.a.rootPem],
      controlId: 'spiffe://a.test/workload',
      control: async () =>
        leafOnly(await pki.a.issueSvid({ spiffeId: 'spiffe://a.test/workload' })),
    },
    'name-constraints': {
      // The constrained root is listed for other.test too: only the name constraint (enforced by
      // OpenSSL) stands between an other.test leaf it signed and an identity.
      name: 'name-constraints',
      title: 'server trusting a name-constrained root for td.test and other.test',
      trustBundles: {
        'td.test': [pki.nameConstrainedRoot.certPem],
        'other.test': [pki.nameConstrainedRoot.certPem],
      },
      serverCa: [pki.nameConstrainedRoot.certPem],
      controlId: tdControl,
      control: async () =>
        leafOnly(await pki.td.issueSvid({ spiffeId: tdControl, issuer: pki.nameConstrainedRoot })),
    },
  };
}

/**
 * ALLOW any authenticated peer (`principals: ['*']`), DENY everyone on {@link DENIED_PATH}.
 */
export function svidRulePolicies(): object[] {
  return [
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'allow-any-peer', namespace: SVID_RULES_NAMESPACE },
      spec: { action: 'ALLOW', rules: [{ from: [{ source: { principals: ['*'] } }] }] },
    },
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'deny-path', namespace: SVID_RULES_NAMESPACE },
      spec: { action: 'DENY', rules: [{ to: [{ operation: { paths: [DENIED_PATH] } }] }] },
    },
  ];
}

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

/** What a request of the suite observed. */
export type SvidRuleOutcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly body: { reason?: string; detail?: string; principal?: string };
    }
  | { readonly kind: 'refused'; readonly error: Error };

/**
 * Sends `GET path` to `base` with the client credentials (none when undefined), trusting the
 * server's root. A TLS or network error is returned as `refused`.
 */
export async function sendSvidRuleRequest(
  base: string,
  serverRootPem: string,
  client: ClientCredentials | undefined,
  options: { path?: string; agent?: MtlsRequestOptions['agent'] } = {},
): Promise<SvidRuleOutcome> {
  try {
    const res = await mtlsRequest(base, {
      path: options.path ?? '/',
      ca: serverRootPem,
      ...(client ? { cert: client.cert, key: client.key } : {}),
      ...(options.agent ? { agent: options.agent } : {}),
    });
    let body: { reason?: string; detail?: string; principal?: string };
    try {
      body = res.json();
    } catch {
      body = { detail: res.text };
    }
    return { kind: 'response', status: res.status, body };
  } catch (error) {
    return { kind: 'refused', error: error as Error };
  }
}

type Listener = (event: { readonly type: 'updated' } | { type: 'error'; error: Error }) => void;

/** A bundle source (meshless `BundleSource`) whose bundles a test replaces with {@link MutableBundleSource.set}. */
export interface MutableBundleSource {
  getBundleFor(
    trustDomain: string,
  ): { readonly trustDomain: string; readonly authorities: readonly X509Certificate[] } | undefined;
  trustDomains(): string[];
  subscribe(listener: Listener): () => void;
  /** Replaces every bundle (trust domain → root PEMs) and notifies subscribers (`updated`). */
  set(bundles: Record<string, string[]>): void;
  /** Number of current subscribers. */
  readonly subscribers: number;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Creates a {@link MutableBundleSource} holding `initial`. */
export function createMutableBundleSource(initial: Record<string, string[]>): MutableBundleSource {
  let map = new Map<string, X509Certificate[]>();
  const listeners = new Set<Listener>();
  const load = (bundles: Record<string, string[]>) => {
    map = new Map(
      Object.entries(bundles).map(([td, pems]) => [
        td,
        pems.flatMap((pem) => (pem.match(PEM_BLOCK) ?? []).map((b) => new X509Certificate(b))),
      ]),
    );
  };
  load(initial);
  return {
    getBundleFor: (td) => {
      const authorities = map.get(td);
      return authorities ? { trustDomain: td, authorities } : undefined;
    },
    trustDomains: () => [...map.keys()],
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(bundles) {
      load(bundles);
      for (const listener of listeners) listener({ type: 'updated' });
    },
    get subscribers() {
      return listeners.size;
    },
  };
}
