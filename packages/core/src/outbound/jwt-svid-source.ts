import type { SpiffeId } from '../identity/spiffe-id.js';
import type { FetchJwtSvidParams, WorkloadApiClient } from '../workload-api/client.js';
import type { WorkloadApiCallOptions } from '../workload-api/one-shot.js';
import { TokenSourceError } from './errors.js';
import { createTokenCache, type TimedToken } from './token-cache.js';
import type { TokenSource } from './token-source.js';

/** Options of {@link createJwtSvidSource}. */
export interface JwtSvidSourceOptions {
  /** A Workload API client (`createWorkloadApiClient` from `@meshless/core/workload-api`). */
  client: Pick<WorkloadApiClient, 'fetchJwtSvid'>;
  /** The audience the JWT-SVIDs are for (the receiving service). */
  audience: string;
  /** More audiences, sent after `audience`. */
  extraAudiences?: readonly string[];
  /** Which of the workload's identities to use. Default: the agent's default one. */
  subject?: SpiffeId | string;
  /** Deadline (and signal) of each `FetchJWTSVID` call. */
  callOptions?: WorkloadApiCallOptions;
}

/**
 * An outbound token source of JWT-SVIDs from the SPIFFE Workload API. A JWT-SVID is reused until
 * half its lifetime (`iat`→`exp`) has passed, as the SPIRE agent does; then it is fetched again
 * in the background while the old one is still handed out (until shortly before `exp`).
 * Concurrent callers share one `FetchJWTSVID` call. Agent failures reject with the client's
 * `WorkloadApiError`. Only the client's types are imported: the gRPC dependency stays with the
 * `@meshless/core/workload-api` entry point.
 *
 * @example
 * ```ts
 * import { createWorkloadApiClient } from '@meshless/core/workload-api';
 * const client = createWorkloadApiClient();
 * const jwt = createJwtSvidSource({ client, audience: 'spiffe://example.org/payments' });
 * await fetch(url, { headers: { authorization: `Bearer ${await jwt.getToken()}` } });
 * ```
 */
export function createJwtSvidSource(options: JwtSvidSourceOptions): TokenSource {
  if (typeof options.audience !== 'string' || options.audience === '')
    throw new TokenSourceError('ERR_TOKEN_SOURCE_CONFIG', 'audience must be a non-empty string');
  if (typeof options.client?.fetchJwtSvid !== 'function')
    throw new TokenSourceError('ERR_TOKEN_SOURCE_CONFIG', 'client must be a Workload API client');
  const params: FetchJwtSvidParams = {
    audience: options.audience,
    ...(options.extraAudiences === undefined ? {} : { extraAudiences: options.extraAudiences }),
    ...(options.subject === undefined ? {} : { subject: options.subject }),
  };

  async function fetchToken(): Promise<TimedToken> {
    const svid = await options.client.fetchJwtSvid(params, options.callOptions);
    const now = Date.now();
    const expiresAt = svid.expiresAt.getTime();
    const iat = svid.claims.iat;
    // An `iat` in the future (agent clock ahead) counts as now: skew must not extend the cache.
    const issuedAt = typeof iat === 'number' ? Math.min(iat * 1000, now) : now;
    const lifetime = expiresAt - issuedAt;
    if (!(expiresAt > now) || !(lifetime > 0))
      throw new TokenSourceError(
        'ERR_TOKEN_SOURCE_INVALID_RESPONSE',
        'the agent returned an expired JWT-SVID',
      );
    return {
      token: svid.token,
      staleAt: issuedAt + lifetime / 2,
      usableUntil: expiresAt - Math.min(5_000, lifetime / 10),
    };
  }

  const cache = createTokenCache({ fetchToken });
  return { getToken: () => cache.get(), close: () => cache.close() };
}
