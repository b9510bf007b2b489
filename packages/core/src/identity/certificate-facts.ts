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
  /** BasicConstraints cA, read from the extension itself (Node's `X509Certificate.ca` is wrong when KU lacks keyCertSign). */
  isCa: boolean;
  /** KeyUsage bit mask (`KeyUsageFlags`), or undefined when the extension is absent. */
  keyUsage: number | undefined;
}

/** Parses the DER of a certificate. Slow (ASN.1 decode): call once per distinct certificate. */
export function readCertificateFacts(der: Uint8Array): CertificateFacts {
  const cert = AsnConvert.parse(der, Certificate);
  const facts: CertificateFacts = { uris: [], isCa: false, keyUsage: undefined };
  for (const ext of cert.tbsCertificate.extensions ?? []) {
    const value = ext.extnValue.buffer;
    switch (ext.extnID) {
      case id_ce_subjectAltName:
        for (const name of AsnConvert.parse(value, SubjectAlternativeName)) {
          if (name.uniformResourceIdentifier !== undefined)
            facts.uris.push(name.uniformResourceIdentifier);
        }
        break;
      case id_ce_basicConstraints:
        facts.isCa = AsnConvert.parse(value, BasicConstraints).cA;
        break;
      case id_ce_keyUsage:
        facts.keyUsage = AsnConvert.parse(value, KeyUsage).toNumber();
        break;
    }
  }
  return facts;
}

export { KeyUsageFlags };
