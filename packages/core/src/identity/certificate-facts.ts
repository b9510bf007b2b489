import { AsnConvert } from '@peculiar/asn1-schema';
import {
  BasicConstraints,
  Certificate,
  KeyUsage,
  KeyUsageFlags,
  SubjectAlternativeName,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  id_ce_subjectAltName,
} from '@peculiar/asn1-x509';

/** What the SVID rules need from a certificate, read from the DER (never from Node's SAN text). */
export interface CertificateFacts {
  /** Every URI SAN, exactly as encoded. */
  uris: string[];
  /** Every DNS SAN. */
  dnsNames: string[];
  /** The subject's (last) commonName, when it has one. */
  commonName: string | undefined;
  /** BasicConstraints cA, read from the extension itself (Node's `X509Certificate.ca` is wrong when KU lacks keyCertSign). */
  isCa: boolean;
  /** BasicConstraints pathLenConstraint of a CA, when set. */
  pathLen: number | undefined;
  /** KeyUsage bit mask (`KeyUsageFlags`), or undefined when the extension is absent. */
  keyUsage: number | undefined;
  /** OIDs of critical extensions a leaf verifier does not understand (RFC 5280 §4.2: reject). */
  unknownCritical: string[];
}

/** Extensions a leaf may mark critical that this verifier processes or may safely accept. */
const KNOWN_LEAF_EXTENSIONS = new Set([
  id_ce_subjectAltName,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  '2.5.29.37', // extendedKeyUsage
  '2.5.29.14', // subjectKeyIdentifier
  '2.5.29.35', // authorityKeyIdentifier
  '2.5.29.32', // certificatePolicies
]);

const ID_AT_COMMON_NAME = '2.5.4.3';

function commonNameOf(cert: Certificate): string | undefined {
  let cn: string | undefined;
  for (const rdn of cert.tbsCertificate.subject)
    for (const attr of rdn) if (attr.type === ID_AT_COMMON_NAME) cn = attr.value.toString();
  return cn;
}

/** Parses the DER of a certificate. Slow (ASN.1 decode): call once per distinct certificate. */
export function readCertificateFacts(der: Uint8Array): CertificateFacts {
  const cert = AsnConvert.parse(der, Certificate);
  const facts: CertificateFacts = {
    uris: [],
    dnsNames: [],
    commonName: commonNameOf(cert),
    isCa: false,
    pathLen: undefined,
    keyUsage: undefined,
    unknownCritical: [],
  };
  for (const ext of cert.tbsCertificate.extensions ?? []) {
    const value = ext.extnValue.buffer;
    if (ext.critical && !KNOWN_LEAF_EXTENSIONS.has(ext.extnID))
      facts.unknownCritical.push(ext.extnID);
    switch (ext.extnID) {
      case id_ce_subjectAltName:
        for (const name of AsnConvert.parse(value, SubjectAlternativeName)) {
          if (name.uniformResourceIdentifier !== undefined)
            facts.uris.push(name.uniformResourceIdentifier);
          if (name.dNSName !== undefined) facts.dnsNames.push(name.dNSName);
        }
        break;
      case id_ce_basicConstraints:
        {
          const bc = AsnConvert.parse(value, BasicConstraints);
          facts.isCa = bc.cA;
          facts.pathLen = bc.pathLenConstraint;
        }
        break;
      case id_ce_keyUsage:
        facts.keyUsage = AsnConvert.parse(value, KeyUsage).toNumber();
        break;
    }
  }
  return facts;
}

export { KeyUsageFlags };
