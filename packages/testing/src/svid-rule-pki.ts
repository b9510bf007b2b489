/**
 * The PKI and trust profiles of the X.509-SVID rule suite (x509-svid-rules.md, part A): roots,
 * the server certificate, intermediates, and the server configurations the cases are sent to.
 * Built once per test file with {@link createSvidRulePki}.
 */
import { createHash, KeyObject, webcrypto } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1x509 from '@peculiar/asn1-x509';
import { createTestCa, type Svid, type TestCa } from './ca.js';
import { x509 } from './x509.js';

export const EC_KEY_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const SIGNING_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;
export const HOUR_MS = 3_600_000;

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

export const leafOnly = (svid: Svid): ClientCredentials => ({
  cert: svid.certPem,
  key: svid.keyPem,
});
export const withChain = (svid: Svid, ...upper: Svid[]): ClientCredentials => ({
  cert: svid.certPem + upper.map((c) => c.certPem).join(''),
  key: svid.keyPem,
});

export const CA_KEY_USAGES = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;

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

/** A 200 with this principal. */
export const ok = (principal: string): SvidRuleExpectation => ({ status: 200, principal });
export const denied = (reason: SvidRuleReason, detail?: RegExp): SvidRuleExpectation =>
  detail ? { status: 403, reason, detail } : { status: 403, reason };

/** Flips the last byte of a certificate's DER (inside the ECDSA signature value). */
export function tamperSignature(der: Uint8Array): Buffer {
  const out = Buffer.from(der);
  out[out.length - 1] = (out[out.length - 1] ?? 0) ^ 0x01;
  return out;
}
