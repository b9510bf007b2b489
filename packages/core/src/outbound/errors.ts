import { MeshlessError } from '../errors.js';

/** Every stable error code of the outbound token sources. */
export type TokenSourceErrorCode =
  /** The options cannot work (missing endpoint, non-https URL, bad key, ...). Thrown at creation. */
  | 'ERR_TOKEN_SOURCE_CONFIG'
  /** OIDC / RFC 8414 discovery failed, or its document has no usable `token_endpoint`. */
  | 'ERR_TOKEN_SOURCE_DISCOVERY'
  /** The token endpoint refused the request (4xx); `oauthError` holds the OAuth `error` code. */
  | 'ERR_TOKEN_SOURCE_REJECTED'
  /** Network errors, timeouts or 5xx / 429 answers, after every retry. */
  | 'ERR_TOKEN_SOURCE_UNAVAILABLE'
  /** A 2xx answer that is not a usable token response (no `access_token`, wrong `token_type`, ...). */
  | 'ERR_TOKEN_SOURCE_INVALID_RESPONSE'
  /** The source has no client certificate (its X509Source has no SVID yet). */
  | 'ERR_TOKEN_SOURCE_NO_SVID'
  /** `getToken()` after `close()`. */
  | 'ERR_TOKEN_SOURCE_CLOSED';

/** Details of a {@link TokenSourceError}. */
export interface TokenSourceErrorDetails {
  /** The underlying error (network error, JOSE error, ...). */
  cause?: unknown;
  /** HTTP status of the last token-endpoint (or discovery) answer, when there was one. */
  status?: number;
  /** OAuth 2.0 `error` code of the answer (RFC 6749 §5.2), e.g. `invalid_client`. */
  oauthError?: string;
  /** OAuth 2.0 `error_description` of the answer. */
  oauthErrorDescription?: string;
}

/**
 * Thrown by the outbound token sources ({@link createClientCredentialsSource},
 * {@link createJwtSvidSource}). Match on `code`; for `ERR_TOKEN_SOURCE_REJECTED`, `oauthError`
 * is the OAuth error (`invalid_client`, `invalid_scope`, `invalid_target`, ...). Messages name the
 * endpoint and the status, never the client secret, the assertion or a token; the server's
 * `error_description` is kept out of the message (it is server-controlled text) and offered as
 * `oauthErrorDescription`.
 *
 * @example
 * ```ts
 * try {
 *   await source.getToken();
 * } catch (error) {
 *   if (error instanceof TokenSourceError && error.oauthError === 'invalid_client') alertOps();
 * }
 * ```
 */
export class TokenSourceError extends MeshlessError {
  declare readonly code: TokenSourceErrorCode;
  /** HTTP status of the last answer, when there was one. */
  readonly status: number | undefined;
  /** OAuth 2.0 `error` code, when the server sent one. */
  readonly oauthError: string | undefined;
  /** OAuth 2.0 `error_description`, when the server sent one (not part of `message`). */
  readonly oauthErrorDescription: string | undefined;

  constructor(code: TokenSourceErrorCode, message: string, details: TokenSourceErrorDetails = {}) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.oauthError = details.oauthError;
    this.oauthErrorDescription = details.oauthErrorDescription;
  }
}
