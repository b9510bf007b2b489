import { cacheControlMaxAge, publicKeySet, type PublicKeySet } from './jwks-document.js';
import { JwksFetchError } from './jwks-errors.js';

/** Limits of one JWKS fetch. */
export interface JwksFetchOptions {
  fetch: typeof fetch;
  /** Total time for the request and the body. */
  timeoutMs: number;
  /** Larger bodies are cut off and refused. */
  maxBodyBytes: number;
}

/** A fetched and validated key set, with the server's caching hint. */
export interface FetchedJwks extends PublicKeySet {
  /** `Cache-Control` max-age in seconds (0 for no-store/no-cache); undefined when absent. */
  readonly maxAgeSec: number | undefined;
}

/**
 * Fetches one JWKS document: GET with a total timeout (`AbortSignal`), redirects refused, the
 * body read as a stream and refused past `maxBodyBytes`, then validated by {@link publicKeySet}.
 * Every failure is a {@link JwksFetchError} with a stable code.
 */
export async function fetchJwks(url: string, options: JwksFetchOptions): Promise<FetchedJwks> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  let res: Response;
  try {
    res = await options.fetch(url, {
      method: 'GET',
      redirect: 'manual',
      signal,
      headers: { accept: 'application/jwk-set+json, application/json' },
    });
  } catch (cause) {
    throw transportError(cause, signal);
  }
  if (res.type === 'opaqueredirect' || (res.status >= 300 && res.status < 400)) {
    await res.body?.cancel().catch(() => undefined);
    throw new JwksFetchError('ERR_JWKS_REDIRECT', 'JWKS endpoint answered with a redirect');
  }
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => undefined);
    throw new JwksFetchError('ERR_JWKS_HTTP_STATUS', `JWKS endpoint answered HTTP ${res.status}`);
  }
  const text = await readCapped(res, options.maxBodyBytes, signal);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new JwksFetchError('ERR_JWKS_INVALID', 'JWKS document is not JSON', { cause });
  }
  return { ...publicKeySet(doc), maxAgeSec: cacheControlMaxAge(res.headers.get('cache-control')) };
}

async function readCapped(res: Response, max: number, signal: AbortSignal): Promise<string> {
  const tooLarge = () =>
    new JwksFetchError('ERR_JWKS_TOO_LARGE', `JWKS document is larger than ${max} bytes`);
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!res.body) return '';
  const reader: ReadableStreamDefaultReader<Uint8Array> = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (cause) {
    if (cause instanceof JwksFetchError) throw cause;
    throw transportError(cause, signal);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

function transportError(cause: unknown, signal: AbortSignal): JwksFetchError {
  return signal.aborted
    ? new JwksFetchError('ERR_JWKS_TIMEOUT', 'JWKS fetch timed out', { cause })
    : new JwksFetchError('ERR_JWKS_NETWORK', 'JWKS fetch failed', { cause });
}
