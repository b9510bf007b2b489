/**
 * A source of outbound bearer tokens (one method, like go-spiffe's sources): OAuth 2.0
 * client_credentials, JWT-SVIDs, or a test fake all plug in.
 *
 * @example
 * ```ts
 * const token = await source.getToken();
 * await fetch(url, { headers: { authorization: `Bearer ${token}` } });
 * ```
 */
export interface TokenSource {
  /** A valid token: the cached one, or a new one (concurrent callers share one request). */
  getToken(): Promise<string>;
  /** Stops background refreshes and drops the cached token; later `getToken()` calls reject. */
  close(): void;
}
