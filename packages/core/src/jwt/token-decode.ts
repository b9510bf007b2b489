import type { JWTPayload } from 'jose';

/** A compact JWS's protected header and payload, decoded once and not yet verified. @internal */
export interface DecodedToken {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: JWTPayload;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes the header and payload of a compact JWS whose shape (three non-empty base64url segments)
 * was already checked. Both must be JSON objects in strict UTF-8; anything else is `undefined`.
 * The verifier decodes once: this header picks the rule, this payload is checked after jose
 * verified the signature over the very same segments.
 */
export function decodeToken(token: string): DecodedToken | undefined {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  const header = decodeSegment(token.slice(0, first));
  if (header === undefined) return undefined;
  const payload = decodeSegment(token.slice(first + 1, second));
  if (payload === undefined) return undefined;
  return { header, payload };
}

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  // A base64url length of 4n+1 cannot come from any byte string (jose refuses it too).
  if (segment.length % 4 === 1) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(strictUtf8.decode(Buffer.from(segment, 'base64url')));
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
