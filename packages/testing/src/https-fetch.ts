import https from 'node:https';
import type { IncomingMessage } from 'node:http';

/** Options of {@link createCaFetch}. */
export interface CaFetchOptions {
  /** Client certificate (chain) PEM to present, for mTLS. */
  cert?: string;
  /** Private key PEM matching `cert`. */
  key?: string;
}

/** Statuses whose Response must have a null body (Fetch spec "null body status"). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/** `signal.reason` when it is an Error (the usual case), else an `AbortError` DOMException. */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error
    ? reason
    : new DOMException('This operation was aborted', 'AbortError');
}

function readAll(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('response aborted')));
  });
}

function toHeaders(rawHeaders: readonly string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    headers.append(rawHeaders[i] ?? '', rawHeaders[i + 1] ?? '');
  }
  return headers;
}

/**
 * Creates a `fetch` that trusts the given CA certificate(s), implemented on `node:https` with a
 * fresh agent (no keep-alive), so a loopback HTTPS server signed by a test CA can be reached
 * without `NODE_EXTRA_CA_CERTS`. Pass it to jose: `createRemoteJWKSet(url, { [customFetch]: f })`.
 *
 * Returns a real WHATWG `Response` (status, statusText, headers, buffered body, `url`). Honours
 * `method`, `headers`, `body` (any `BodyInit` a `Request` accepts: string, URLSearchParams,
 * Uint8Array, ...) and `signal`. Redirects are never followed: a 3xx is returned as is. Only
 * `https:` URLs are supported. Like undici, network and TLS errors reject with
 * `TypeError('fetch failed')` whose `cause` is the Node error; an abort rejects with
 * `signal.reason`.
 *
 * @param ca - trusted root PEM(s); the system roots are NOT trusted.
 * @param options - optional client certificate for mTLS.
 */
export function createCaFetch(ca: string | string[], options: CaFetchOptions = {}): typeof fetch {
  const agent = new https.Agent({
    ca,
    keepAlive: false,
    ...(options.cert !== undefined ? { cert: options.cert } : {}),
    ...(options.key !== undefined ? { key: options.key } : {}),
  });

  return async function caFetch(
    input: string | URL | Request,
    init?: RequestInit,
  ): Promise<Response> {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.protocol !== 'https:') {
      throw new TypeError(`createCaFetch only supports https: URLs, got ${url.protocol}`);
    }
    const { signal } = request;
    if (signal.aborted) throw abortReason(signal);

    const body = request.body === null ? undefined : Buffer.from(await request.arrayBuffer());
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    if (body !== undefined) headers['content-length'] = String(body.length);

    return new Promise<Response>((resolve, reject) => {
      const onAbort = (): void => {
        req.destroy();
        reject(abortReason(signal));
      };
      const req = https.request(
        {
          agent,
          protocol: 'https:',
          hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: url.port === '' ? 443 : Number(url.port),
          path: `${url.pathname}${url.search}`,
          method: request.method,
          headers,
        },
        (res) => {
          readAll(res).then(
            (buffer) => {
              signal.removeEventListener('abort', onAbort);
              const status = res.statusCode ?? 0;
              const isNullBody = NULL_BODY_STATUSES.has(status) || request.method === 'HEAD';
              const response = new Response(isNullBody ? null : buffer, {
                status,
                statusText: res.statusMessage ?? '',
                headers: toHeaders(res.rawHeaders),
              });
              Object.defineProperty(response, 'url', { value: url.href });
              resolve(response);
            },
            (error: unknown) => {
              signal.removeEventListener('abort', onAbort);
              reject(new TypeError('fetch failed', { cause: error }));
            },
          );
        },
      );
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(
          signal.aborted ? abortReason(signal) : new TypeError('fetch failed', { cause: error }),
        );
      });
      req.end(body);
    });
  };
}
