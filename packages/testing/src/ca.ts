import { createHash, KeyObject, randomBytes, webcrypto } from 'node:crypto';
import { x509 } from './x509.js';

/** ECDSA P-256 key generation parameters used for every key of the kit. */
const EC_KEY_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
/** ECDSA with SHA-256 signing parameters used for every certificate of the kit. */
const SIGNING_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** Options of {@link createTestCa}. */
export interface CreateTestCaOptions {
  /** Trust domain of the CA, e.g. `td.test`. The root carries the URI SAN `spiffe://<trustDomain>`. */
  trustDomain: string;
  /** Root subject: a DN (`CN=x,O=y`) or a bare common name. Default `CN=<trustDomain> root`. */
  name?: string;
  /** Root (and intermediate) notBefore. Default now − 1 h. */
  notBefore?: Date;
  /** Root (and intermediate) notAfter. Default now + 48 h. */
  notAfter?: Date;
  /** When true, leaves are signed by an intermediate CA and `Svid.chainPem` is leaf + intermediate. */
  intermediate?: boolean;
}

/** Options of {@link TestCa.issueSvid}. */
export interface IssueSvidOptions {
  /** SPIFFE ID, the single URI SAN. Default `spiffe://<trustDomain>/workload`. Ignored when `uris` is set. */
  spiffeId?: string;
  /** Replaces the URI SAN list entirely (0 URIs, 2 URIs, non-SPIFFE URIs...). */
  uris?: string[];
  /** Extra DNS SANs, e.g. `['localhost']` for a server. */
  dnsNames?: string[];
  /** Extra IP SANs, e.g. `['127.0.0.1']` for a server. */
  ipAddresses?: string[];
  /**
   * Subject DN. Default `CN=<last path segment of the ID, or "workload">`. `''` gives an empty
   * subject, and the SAN extension is then marked critical.
   */
  subject?: string;
  /** Default now − 1 min. X.509 times have a 1 s resolution. */
  notBefore?: Date;
  /** Default now + 1 h. X.509 times have a 1 s resolution. */
  notAfter?: Date;
  /** BasicConstraints cA flag (critical). Default false. */
  isCa?: boolean;
  /** `x509.KeyUsageFlags` bitmask. Default `digitalSignature`. `0` omits the KeyUsage extension. */
  keyUsages?: number;
  /** Whether the KeyUsage extension is critical. Default true. */
  keyUsagesCritical?: boolean;
  /** EKU OIDs. Default serverAuth + clientAuth. `[]` omits the EKU extension. */
  extendedKeyUsages?: string[];
  /** Extensions appended as given (e.g. an unknown critical extension). */
  extraExtensions?: x509.Extension[];
  /**
   * Sign with this previously issued certificate (typically one issued with `isCa: true` and
   * `keyUsages: keyCertSign | cRLSign`) instead of the CA's own signing key. The resulting
   * `chainPem` is the leaf followed by `issuer.chainPem`. Useful for broken-intermediate fixtures.
   */
  issuer?: Svid;
}

/** An X.509-SVID (or any certificate) issued by a {@link TestCa}, with its private key. */
export interface Svid {
  /** The SPIFFE ID when the cert carries exactly one `spiffe://` URI SAN, else undefined. */
  spiffeId: string | undefined;
  /** Leaf certificate only, PEM, ends with a newline. */
  certPem: string;
  /** Leaf followed by the intermediates (never the root), PEM, ends with a newline. */
  chainPem: string;
  /** PKCS#8 private key, PEM (`-----BEGIN PRIVATE KEY-----`). */
  keyPem: string;
  /** Leaf certificate DER. */
  certDer: Buffer;
  /** Leaf followed by the intermediates, one DER buffer each. */
  chainDer: Buffer[];
  /** Lower-case hex SHA-256 of `certDer` (no colons). */
  fingerprint256: string;
}

/** A throw-away certificate authority for one trust domain (go-spiffe `internal/test/ca.go`). */
export interface TestCa {
  /** The trust domain name, e.g. `td.test`. */
  readonly trustDomain: string;
  /** Root certificate PEM (the trust bundle), ends with a newline. */
  readonly rootPem: string;
  /** Root certificate DER. */
  readonly rootDer: Buffer;
  /** Intermediate certificate PEM when created with `intermediate: true`, else undefined. */
  readonly intermediatePem: string | undefined;
  /** Issues a leaf certificate and its P-256 key. */
  issueSvid(options?: IssueSvidOptions): Promise<Svid>;
}

interface Signer {
  readonly cert: x509.X509Certificate;
  readonly privateKey: webcrypto.CryptoKey;
  /** Certificates to append after the leaf, leaf-most first. */
  readonly chain: readonly x509.X509Certificate[];
}

/** Random positive 16-byte serial, hex, minimal DER (first byte in 0x40..0x7f). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}

function toPem(certs: readonly x509.X509Certificate[]): string {
  return certs.map((c) => c.toString('pem')).join('\n') + '\n';
}

function escapeRdnValue(value: string): string {
  return value.replace(/[,+"\\<>;=]/g, (ch) => `\\${ch}`);
}

function defaultSubject(spiffeId: string | undefined): string {
  const segment = spiffeId
    ?.replace(/^spiffe:\/\/[^/]*/, '')
    .split('/')
    .pop();
  return `CN=${escapeRdnValue(segment !== undefined && segment !== '' ? segment : 'workload')}`;
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_KEY_ALG, true, ['sign', 'verify']);
}

function exportPkcs8Pem(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}

async function importPkcs8(pem: string): Promise<webcrypto.CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, EC_KEY_ALG, false, ['sign']);
}

async function caExtensions(
  trustDomain: string,
  publicKey: webcrypto.CryptoKey,
  issuerPublicKey: webcrypto.CryptoKey,
): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${trustDomain}` }]),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(issuerPublicKey),
  ];
}

async function issueLeaf(
  trustDomain: string,
  signer: Signer,
  options: IssueSvidOptions,
): Promise<Svid> {
  const now = Date.now();
  const uris = options.uris ?? [options.spiffeId ?? `spiffe://${trustDomain}/workload`];
  const spiffeUris = uris.filter((u) => u.startsWith('spiffe://'));
  const spiffeId = uris.length === 1 && spiffeUris.length === 1 ? spiffeUris[0] : undefined;
  const subject = options.subject ?? defaultSubject(spiffeId ?? uris[0]);

  const sanNames: x509.JsonGeneralName[] = [
    ...uris.map((value) => ({ type: 'url' as const, value })),
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];

  const keys = await generateKeys();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(options.isCa ?? false, undefined, true),
  ];
  const keyUsages = options.keyUsages ?? x509.KeyUsageFlags.digitalSignature;
  if (keyUsages !== 0) {
    extensions.push(new x509.KeyUsagesExtension(keyUsages, options.keyUsagesCritical ?? true));
  }
  const eku = options.extendedKeyUsages ?? [
    x509.ExtendedKeyUsage.serverAuth,
    x509.ExtendedKeyUsage.clientAuth,
  ];
  if (eku.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(eku));
  if (sanNames.length > 0) {
    extensions.push(new x509.SubjectAlternativeNameExtension(sanNames, subject === ''));
  }
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(keys.publicKey));
  extensions.push(await x509.AuthorityKeyIdentifierExtension.create(signer.cert.publicKey));
  extensions.push(...(options.extraExtensions ?? []));

  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    issuer: signer.cert.subject,
    notBefore: options.notBefore ?? new Date(now - MINUTE_MS),
    notAfter: options.notAfter ?? new Date(now + HOUR_MS),
    publicKey: keys.publicKey,
    signingKey: signer.privateKey,
    signingAlgorithm: SIGNING_ALG,
    extensions,
  });

  const chain = [cert, ...signer.chain];
  const certDer = Buffer.from(cert.rawData);
  return {
    spiffeId,
    certPem: toPem([cert]),
    chainPem: toPem(chain),
    keyPem: exportPkcs8Pem(keys.privateKey),
    certDer,
    chainDer: chain.map((c) => Buffer.from(c.rawData)),
    fingerprint256: createHash('sha256').update(certDer).digest('hex'),
  };
}

async function signerFromSvid(svid: Svid): Promise<Signer> {
  const [leafDer, ...rest] = svid.chainDer;
  if (leafDer === undefined) throw new TypeError('issuer SVID has an empty chain');
  return {
    cert: new x509.X509Certificate(leafDer),
    privateKey: await importPkcs8(svid.keyPem),
    chain: [new x509.X509Certificate(leafDer), ...rest.map((d) => new x509.X509Certificate(d))],
  };
}

/**
 * Creates a test CA for one trust domain: a self-signed ECDSA P-256 root (BasicConstraints cA
 * critical, KeyUsage keyCertSign|cRLSign critical, URI SAN `spiffe://<td>`), optionally an
 * intermediate, and an `issueSvid` that mints leaves with random serial numbers.
 *
 * @example
 * const ca = await createTestCa({ trustDomain: 'td.test' });
 * const svid = await ca.issueSvid({ spiffeId: 'spiffe://td.test/api', dnsNames: ['localhost'] });
 */
export async function createTestCa(options: CreateTestCaOptions): Promise<TestCa> {
  const { trustDomain } = options;
  const now = Date.now();
  const notBefore = options.notBefore ?? new Date(now - HOUR_MS);
  const notAfter = options.notAfter ?? new Date(now + 48 * HOUR_MS);
  const rootName =
    options.name === undefined
      ? `CN=${escapeRdnValue(trustDomain)} root`
      : options.name.includes('=')
        ? options.name
        : `CN=${escapeRdnValue(options.name)}`;

  const rootKeys = await generateKeys();
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: rootName,
    keys: rootKeys,
    notBefore,
    notAfter,
    signingAlgorithm: SIGNING_ALG,
    extensions: await caExtensions(trustDomain, rootKeys.publicKey, rootKeys.publicKey),
  });

  let signer: Signer = { cert: root, privateKey: rootKeys.privateKey, chain: [] };
  let intermediatePem: string | undefined;
  if (options.intermediate === true) {
    const intKeys = await generateKeys();
    const intermediate = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: `CN=${escapeRdnValue(trustDomain)} intermediate`,
      issuer: root.subject,
      notBefore,
      notAfter,
      publicKey: intKeys.publicKey,
      signingKey: rootKeys.privateKey,
      signingAlgorithm: SIGNING_ALG,
      extensions: await caExtensions(trustDomain, intKeys.publicKey, rootKeys.publicKey),
    });
    signer = { cert: intermediate, privateKey: intKeys.privateKey, chain: [intermediate] };
    intermediatePem = toPem([intermediate]);
  }

  const rootSigner = signer;
  return {
    trustDomain,
    rootPem: toPem([root]),
    rootDer: Buffer.from(root.rawData),
    intermediatePem,
    async issueSvid(issueOptions: IssueSvidOptions = {}): Promise<Svid> {
      const leafSigner =
        issueOptions.issuer === undefined ? rootSigner : await signerFromSvid(issueOptions.issuer);
      return issueLeaf(trustDomain, leafSigner, issueOptions);
    },
  };
}
