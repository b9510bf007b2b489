/**
 * Envoy's `x-forwarded-client-cert` (XFCC): comma-separated elements, one per proxy hop, each a
 * `;`-separated list of `Key=value` pairs (values may be double-quoted, with `\"` escapes). The
 * right-most element is the one the nearest proxy added about its own client.
 */
export interface XfccElement {
  /** URL-decoded PEM of the client's leaf (`Cert=`). */
  cert?: string;
  /** URL-decoded PEM of the client's chain, leaf first (`Chain=`). */
  chain?: string;
}

/** Splits on `sep` outside double quotes. */
function splitOutsideQuotes(value: string, sep: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '\\' && quoted && i + 1 < value.length) {
      current += c + (value[++i] as string);
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === sep && !quoted) {
      parts.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  if (quoted) throw new Error('unterminated quoted value');
  parts.push(current);
  return parts;
}

function unquote(value: string): string {
  const v = value.trim();
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"'))
    return v.slice(1, -1).replace(/\\(.)/g, '$1');
  return v;
}

/**
 * Parses the right-most XFCC element (the nearest proxy's). Only `Cert` and `Chain` are read:
 * meshless verifies the certificate itself and never trusts `URI=`, `Subject=` or `Hash=` alone.
 *
 * @throws Error when the header is malformed.
 */
export function parseLastXfccElement(header: string): XfccElement {
  const elements = splitOutsideQuotes(header, ',');
  const last = elements[elements.length - 1] ?? '';
  const out: XfccElement = {};
  for (const pair of splitOutsideQuotes(last, ';')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const key = pair.slice(0, eq).trim().toLowerCase();
    const value = unquote(pair.slice(eq + 1));
    if (key === 'cert') out.cert = decodeURIComponent(value);
    else if (key === 'chain') out.chain = decodeURIComponent(value);
  }
  return out;
}
