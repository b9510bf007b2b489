import { WorkloadApiError } from './errors.js';

const SEQUENCE = 0x30;

function malformed(what: string, detail: string): never {
  throw new WorkloadApiError('ERR_WORKLOAD_API_INVALID_RESPONSE', `${what}: ${detail}`);
}

/**
 * Splits concatenated DER (the Workload API's `x509_svid` and `bundle` fields) into one buffer
 * per top-level ASN.1 SEQUENCE, reading each header's definite length. The parts share memory
 * with `der`.
 *
 * @param what Names the field in error messages, e.g. `x509_svid`.
 * @throws {WorkloadApiError} `ERR_WORKLOAD_API_INVALID_RESPONSE` for anything but a run of
 *   complete SEQUENCEs (indefinite or oversized lengths, trailing bytes).
 */
export function splitDerSequence(der: Uint8Array, what: string): Buffer[] {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < buf.length) {
    if (buf[offset] !== SEQUENCE) malformed(what, `expected a DER SEQUENCE at byte ${offset}`);
    if (offset + 2 > buf.length) malformed(what, 'truncated DER header');
    const first = buf[offset + 1] as number;
    let header = 2;
    let length: number;
    if (first < 0x80) {
      length = first;
    } else {
      const count = first & 0x7f;
      // 0x80 is BER's indefinite length; more than 4 length bytes is not a certificate.
      if (count === 0 || count > 4) malformed(what, 'unsupported DER length');
      if (offset + 2 + count > buf.length) malformed(what, 'truncated DER header');
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + (buf[offset + 2 + i] as number);
      header += count;
    }
    const end = offset + header + length;
    if (end > buf.length) malformed(what, 'DER length runs past the end of the field');
    parts.push(buf.subarray(offset, end));
    offset = end;
  }
  return parts;
}
