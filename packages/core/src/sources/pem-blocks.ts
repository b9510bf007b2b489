/** One PEM block: its label (`CERTIFICATE`, `PRIVATE KEY`, ...) and decoded DER. @internal */
export interface PemBlock {
  readonly type: string;
  readonly der: Buffer;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
const BEGIN = /-----BEGIN /g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Why PEM text could not be split into blocks. @internal */
export class PemFormatError extends Error {}

/**
 * Splits PEM text into blocks, strictly: every `-----BEGIN` must open a complete block with a
 * matching END line and valid base64 (a truncated or half-written file is an error, never a
 * silently shorter chain). Text between blocks is ignored, like Go's `pem.Decode`. Blocks with
 * headers (`Proc-Type: 4,ENCRYPTED`) are refused as invalid base64.
 *
 * @internal
 * @throws {PemFormatError}
 * @example
 * ```ts
 * pemBlocks(readFileSync('chain.pem', 'utf8')).map((b) => b.type); // ['CERTIFICATE', 'CERTIFICATE']
 * ```
 */
export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const type = match[1] as string;
    const body = (match[2] as string).replace(/\s+/g, '');
    if (body.length === 0 || body.length % 4 !== 0 || !BASE64.test(body))
      throw new PemFormatError(`PEM block ${blocks.length} (${type}) has invalid base64`);
    blocks.push({ type, der: Buffer.from(body, 'base64') });
  }
  const begins = text.match(BEGIN)?.length ?? 0;
  if (begins !== blocks.length)
    throw new PemFormatError('PEM text has an incomplete block (BEGIN without a matching END)');
  return blocks;
}
