import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { TokenSourceError, type TokenSourceErrorCode } from './errors.js';

/** A buffered HTTP answer. @internal */
export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
  /** The `Retry-After` header, if any. */
  readonly retryAfter: string | null;
}

/** One HTTP exchange; `body` undefined means GET. @internal */
export type HttpSend = (
  url: string,
  init: { headers: Record<string, string>; body?: string; signal: AbortSignal },
) => Promise<HttpAnswer>;

/** Retry policy for network errors, timeouts, 5xx, 408 and 429. */
export interface TokenRetryOptions {
  /** Attempts in total, the first included. Default 3. */
  attempts?: number;
  /** First delay; doubles per retry, with jitter (50–100 %). Default 200 ms. */
  initialDelayMs?: number;
  /** Upper bound of one delay, also of an honoured `Retry-After`. Default 5 000 ms. */
  maxDelayMs?: number;
}

/** Token responses and discovery documents are small; refuse more than this. */
const MAX_BODY_BYTES = 256 * 1024;

function tooLarge(): TokenSourceError {
  return new TokenSourceError(
    'ERR_TOKEN_SOURCE_INVALID_RESPONSE',
    `response body exceeds ${MAX_BODY_BYTES} bytes`,
  );
}

async function readCapped(res: Response): Promise<string> {
  if (Number(res.headers.get('content-length') ?? 0) > MAX_BODY_BYTES) {
    await res.body?.cancel();
    throw tooLarge();
  }
  if (res.body === null) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  // Leaving the loop early cancels the stream.
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** An {@link HttpSend} over a WHATWG `fetch` (redirects are not followed). @internal */
export function fetchSend(fetchImpl: typeof fetch): HttpSend {
  return async (url, init) => {
    const res = await fetchImpl(url, {
      method: init.body === undefined ? 'GET' : 'POST',
      headers: init.headers,
      redirect: 'manual',
      signal: init.signal,
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    return {
      status: res.status,
      body: await readCapped(res),
      retryAfter: res.headers.get('retry-after'),
    };
  };
}

/** Client certificate and trust anchors of an mTLS exchange. @internal */
export interface MtlsMaterial {
  readonly key: string;
  readonly cert: string;
  /** Trusted roots of the server; undefined means Node's default roots. */
  readonly ca: string | readonly string[] | undefined;
}

function readMessage(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    res.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > MAX_BODY_BYTES) {
        res.destroy();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('response aborted')));
  });
}

/**
 * An {@link HttpSend} over `node:https` presenting a client certificate (RFC 8705 mTLS). Every
 * exchange uses a fresh connection (`agent: false`), so a rotated certificate is used at once
 * and no pooled connection keeps the old one.
 *
 * @internal
 */
export function mtlsSend(material: () => MtlsMaterial): HttpSend {
  return (url, init) => {
    const target = new URL(url);
    if (target.protocol !== 'https:')
      return Promise.reject(
        new TokenSourceError('ERR_TOKEN_SOURCE_CONFIG', 'tls_client_auth needs an https endpoint'),
      );
    const { key, cert, ca } = material();
    const headers = { ...init.headers };
    if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));
    return new Promise<HttpAnswer>((resolve, reject) => {
      const req = https.request(
        target,
        {
          method: init.body === undefined ? 'GET' : 'POST',
          headers,
          key,
          cert,
          ...(ca === undefined ? {} : { ca: typeof ca === 'string' ? ca : [...ca] }),
          agent: false,
          signal: init.signal,
        },
        (res) => {
          readMessage(res).then((body) => {
            const retryAfter = res.headers['retry-after'];
            resolve({ status: res.statusCode ?? 0, body, retryAfter: retryAfter ?? null });
          }, reject);
        },
      );
      req.on('error', reject);
      req.end(init.body);
    });
  };
}

function delayFor(
  attempt: number,
  retry: Required<TokenRetryOptions>,
  retryAfter: string | null,
): number {
  const seconds = retryAfter === null ? Number.NaN : Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, retry.maxDelayMs);
  const base = Math.min(retry.initialDelayMs * 2 ** attempt, retry.maxDelayMs);
  return base / 2 + Math.random() * (base / 2);
}

function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/** The OAuth `error` of a JSON error body, if it has one. @internal */
export function oauthErrorOf(body: string): { error?: string; description?: string } {
  try {
    const json: unknown = JSON.parse(body);
    if (typeof json !== 'object' || json === null) return {};
    const { error, error_description: description } = json as Record<string, unknown>;
    return {
      ...(typeof error === 'string' ? { error } : {}),
      ...(typeof description === 'string' ? { description } : {}),
    };
  } catch {
    return {};
  }
}

/** Normalizes retry options. @internal */
export function retryPolicy(options: TokenRetryOptions | undefined): Required<TokenRetryOptions> {
  const attempts = options?.attempts ?? 3;
  if (!Number.isInteger(attempts) || attempts < 1)
    throw new TokenSourceError('ERR_TOKEN_SOURCE_CONFIG', 'retry.attempts must be an integer ≥ 1');
  return {
    attempts,
    initialDelayMs: options?.initialDelayMs ?? 200,
    maxDelayMs: options?.maxDelayMs ?? 5_000,
  };
}

/**
 * Runs `send` until it gets an answer that is neither a network error nor 5xx / 408 / 429, with
 * exponential backoff (honouring `Retry-After`, capped). Any other answer, 4xx included, is
 * returned at once for the caller to interpret. A {@link TokenSourceError} thrown by `send` is not
 * retried. After the last attempt throws `failCode` naming `what` (never a credential).
 *
 * @internal
 */
export async function sendWithRetry(
  send: (signal: AbortSignal) => Promise<HttpAnswer>,
  retry: Required<TokenRetryOptions>,
  timeoutMs: number,
  failCode: TokenSourceErrorCode,
  what: string,
): Promise<HttpAnswer> {
  for (let attempt = 0; ; attempt++) {
    let answer: HttpAnswer | undefined;
    let failure: unknown;
    try {
      answer = await send(AbortSignal.timeout(timeoutMs));
    } catch (error) {
      if (error instanceof TokenSourceError) throw error;
      failure = error;
    }
    if (answer !== undefined && !isRetryableStatus(answer.status)) return answer;
    if (attempt + 1 >= retry.attempts) {
      if (answer === undefined)
        throw new TokenSourceError(failCode, `${what} failed after ${attempt + 1} attempt(s)`, {
          cause: failure,
        });
      const oauth = oauthErrorOf(answer.body);
      throw new TokenSourceError(
        failCode,
        `${what} answered HTTP ${answer.status} after ${attempt + 1} attempt(s)`,
        {
          status: answer.status,
          ...(oauth.error === undefined ? {} : { oauthError: oauth.error }),
          ...(oauth.description === undefined ? {} : { oauthErrorDescription: oauth.description }),
        },
      );
    }
    const wait = delayFor(attempt, retry, answer?.retryAfter ?? null);
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
