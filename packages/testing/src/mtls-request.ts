import https from 'node:https';
import type { OutgoingHttpHeaders } from 'node:http';
import type { PeerCertificate } from 'node:tls';
import { uriSansFromDer } from './x509.js';

/** Options of {@link mtlsRequest}. */
export interface MtlsRequestOptions {
  /** HTTP method. Default `GET`. */
  method?: string;
  /** Request headers. `content-length` is set automatically when `body` is given. */
  headers?: Record<string, string>;
  /** Request body (UTF-8). */
  body?: string;
  /** Trusted root PEM(s) for the server certificate; the system roots are not trusted. */
  ca: string | string[];
  /** Client certificate (chain) PEM. Omitted = no client certificate is presented. */
  cert?: string;
  /** Private key PEM matching `cert`. */
  key?: string;
  /** TLS SNI server name. Default: Node's (the host, unless it is an IP address). */
  servername?: string;
  /**
   * When set, the default hostname check is replaced by one that requires the server leaf to carry
   * exactly one URI SAN, equal to this SPIFFE ID (Node's hostname check ignores URI SANs). The
   * chain is still verified against `ca`.
   */
  expectedServerId?: string;
  /** Agent to use. Default: a one-shot agent (no keep-alive, the socket closes after the reply). */
  agent?: https.Agent;
  /** Raw request target sent as is, overriding the path and query of `url`. */
  path?: string;
  /** Fails the request after this many ms without completion. Default 10 000. */
  timeoutMs?: number;
}

/** A buffered HTTPS response. */
export interface MtlsResponse {
  /** HTTP status code. */
  status: number;
  /** Response headers as Node reports them (lower-case names). */
  headers: Record<string, string | string[] | undefined>;
  /** Body decoded as UTF-8. */
  text: string;
  /** Parses `text` as JSON. */
  json<T = unknown>(): T;
}

/** Error returned by the `expectedServerId` check; Node rejects the request with it. */
export interface ServerIdMismatchError extends Error {
  /** `'ERR_TLS_SPIFFE_ID_MISMATCH'`. */
  code: string;
}

interface Target {
  host: string;
  port: number;
  path: string;
}

/** Splits an `https://` URL string without normalizing its path (`/a/../b`, `//x`, `%2F` kept). */
function parseTarget(url: string | URL): Target {
  if (url instanceof URL) {
    return {
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? 443 : Number(url.port),
      path: `${url.pathname}${url.search}`,
    };
  }
  const match = /^https:\/\/([^/?#]*)([^#]*)/i.exec(url);
  if (match === null) throw new TypeError(`mtlsRequest: not an https URL: ${url}`);
  const authority = (match[1] ?? '').replace(/^.*@/, '');
  const rest = match[2] ?? '';
  const hostPort = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(authority);
  if (hostPort === null || hostPort[1] === undefined || hostPort[1] === '') {
    throw new TypeError(`mtlsRequest: bad authority in ${url}`);
  }
  const port = hostPort[2] === undefined || hostPort[2] === '' ? 443 : Number(hostPort[2]);
  const path = rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest;
  return { host: hostPort[1].replace(/^\[(.*)\]$/, '$1'), port, path };
}

function spiffeIdCheck(
  expected: string,
): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const uris = uriSansFromDer(cert.raw);
    if (uris.length === 1 && uris[0] === expected) return undefined;
    const error = new Error(
      `server SPIFFE ID mismatch: expected exactly ${expected}, got URI SANs ${JSON.stringify(uris)}`,
    ) as ServerIdMismatchError;
    error.code = 'ERR_TLS_SPIFFE_ID_MISMATCH';
    return error;
  };
}

/**
 * Sends one HTTPS request, optionally with a client certificate (mTLS), and buffers the response.
 * The request target is sent exactly as written in `url` (or `options.path`): no dot-segment
 * removal, no slash merging, no percent-decoding. Rejects with the Node error on TLS/network
 * failure (e.g. `ERR_TLS_SPIFFE_ID_MISMATCH`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `ECONNRESET`
 * when the server refuses the client certificate under TLS 1.3).
 *
 * @example
 * const res = await mtlsRequest(`https://127.0.0.1:${port}/a/../b`, {
 *   ca: ca.rootPem, cert: client.chainPem, key: client.keyPem,
 *   expectedServerId: 'spiffe://td.test/server',
 * });
 */
export function mtlsRequest(url: string | URL, options: MtlsRequestOptions): Promise<MtlsResponse> {
  const target = parseTarget(url);
  const headers: OutgoingHttpHeaders = { ...options.headers };
  if (options.body !== undefined) headers['content-length'] = Buffer.byteLength(options.body);

  return new Promise<MtlsResponse>((resolve, reject) => {
    const req = https.request(
      {
        host: target.host,
        port: target.port,
        path: options.path ?? target.path,
        method: options.method ?? 'GET',
        headers,
        ca: options.ca,
        agent: options.agent ?? false,
        ...(options.cert !== undefined ? { cert: options.cert } : {}),
        ...(options.key !== undefined ? { key: options.key } : {}),
        ...(options.servername !== undefined ? { servername: options.servername } : {}),
        ...(options.expectedServerId !== undefined
          ? { checkServerIdentity: spiffeIdCheck(options.expectedServerId) }
          : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: { ...res.headers },
            text,
            json: <T = unknown>(): T => JSON.parse(text) as T,
          });
        });
      },
    );
    req.setTimeout(options.timeoutMs ?? 10_000, () => {
      req.destroy(new Error(`mtlsRequest: timed out after ${options.timeoutMs ?? 10_000} ms`));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
