import { BundleError } from './source-errors.js';

/** Options of {@link downloadBundleDocument}. @internal */
export interface DownloadOptions {
  readonly url: URL;
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** Aborted when the source closes. */
  readonly signal: AbortSignal;
  /** Names the endpoint in error messages (trust domain and URL without query). */
  readonly label: string;
}

async function readCapped(
  response: Response,
  options: DownloadOptions,
  signal: AbortSignal,
): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > options.maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new BundleError(
      'ERR_BUNDLE_TOO_LARGE',
      `${options.label}: response larger than ${options.maxBytes} bytes`,
    );
  }
  const reader = (response.body as ReadableStream<Uint8Array> | null)?.getReader();
  if (reader === undefined) return new Uint8Array(0);
  // A custom fetch may ignore the signal while streaming: cancel the stream ourselves.
  const onAbort = (): void => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (signal.aborted) throw signal.reason;
      if (done) break;
      total += value.byteLength;
      if (total > options.maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new BundleError(
          'ERR_BUNDLE_TOO_LARGE',
          `${options.label}: response larger than ${options.maxBytes} bytes`,
        );
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * GETs a SPIFFE bundle document from a bundle endpoint (`https_web`: the injected `fetch` does
 * Web PKI TLS): no redirects (a 3xx is an error), only 200 accepted, a timeout covering headers
 * and body, and a body size cap.
 *
 * @internal
 * @throws {BundleError} `ERR_BUNDLE_FETCH`, `ERR_BUNDLE_TIMEOUT`, `ERR_BUNDLE_REDIRECT`,
 *   `ERR_BUNDLE_HTTP_STATUS`, `ERR_BUNDLE_TOO_LARGE`, or the close signal's reason.
 * @example
 * ```ts
 * const body = await downloadBundleDocument({ url, fetch, timeoutMs: 10_000, maxBytes: 1 << 20, signal, label });
 * ```
 */
export async function downloadBundleDocument(options: DownloadOptions): Promise<Uint8Array> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([options.signal, timeout]);
  const mapError = (error: unknown): unknown => {
    if (error instanceof BundleError) return error;
    if (options.signal.aborted) return options.signal.reason;
    if (timeout.aborted)
      return new BundleError(
        'ERR_BUNDLE_TIMEOUT',
        `${options.label}: no complete response within ${options.timeoutMs} ms`,
      );
    return new BundleError('ERR_BUNDLE_FETCH', `${options.label}: request failed`, {
      cause: error,
    });
  };
  try {
    const response = await options.fetch(options.url, {
      method: 'GET',
      headers: { accept: 'application/json' },
      redirect: 'manual',
      signal,
    });
    if ((response.status >= 300 && response.status < 400) || response.type === 'opaqueredirect') {
      await response.body?.cancel().catch(() => undefined);
      throw new BundleError(
        'ERR_BUNDLE_REDIRECT',
        `${options.label}: redirects are not followed (HTTP ${response.status})`,
      );
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw new BundleError('ERR_BUNDLE_HTTP_STATUS', `${options.label}: HTTP ${response.status}`);
    }
    return await readCapped(response, options, signal);
  } catch (error) {
    throw mapError(error);
  }
}
