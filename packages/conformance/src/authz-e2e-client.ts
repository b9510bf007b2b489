/**
 * A raw HTTP/1.1-over-TLS client for the authorization end-to-end suite. `fetch` normalizes the
 * request-target and `node:https` upper-cases the method and sends one `Host`, so the suite
 * writes the request line and the header lines itself: `//admin`, `%2F`, `#fragment`, a
 * lower-case `get`, a mixed-case `Host` and repeated headers reach the server byte for byte.
 */
import tls from 'node:tls';

/** One request, written as is. */
export interface RawRequest {
  method: string;
  /** Raw request-target. */
  path: string;
  /** Header lines in order; repeated names are sent as repeated lines. */
  headers: [name: string, value: string][];
  /** Client certificate chain and key; omitted = no client certificate. */
  client?: { certPem: string; keyPem: string };
}

/** A parsed response. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

function dechunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = Number.parseInt(body.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function parse(raw: Buffer): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`raw request: incomplete response: ${raw.toString('latin1')}`);
  const [statusLine = '', ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(end + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body);
  return { status, headers, text: body.toString('utf8') };
}

/**
 * Sends `request` to `127.0.0.1:port` over TLS (server name `localhost`, server certificate checked
 * against `caPem`) with `Connection: close`, and parses the whole response.
 */
export function sendRaw(port: number, caPem: string, request: RawRequest): Promise<RawResponse> {
  const head = [
    `${request.method} ${request.path} HTTP/1.1`,
    ...request.headers.map(([name, value]) => `${name}: ${value}`),
    'Connection: close',
    '',
    '',
  ].join('\r\n');
  return new Promise<RawResponse>((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ca: caPem,
      ...(request.client ? { cert: request.client.certPem, key: request.client.keyPem } : {}),
    });
    const chunks: Buffer[] = [];
    socket.setTimeout(5_000, () => socket.destroy(new Error('raw request: timed out')));
    socket.once('secureConnect', () => socket.write(head));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', reject);
    socket.once('close', () => {
      try {
        resolve(parse(Buffer.concat(chunks)));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
}
