import type { JWTPayload } from 'jose';

/** Stable reason codes of a {@link Decision}. Documented in docs/errors.md. */
export type DecisionReason =
  // allow
  | 'authz_allow_policy'
  | 'authz_allow_default'
  // 400
  | 'request_invalid_method'
  | 'request_invalid_path'
  | 'request_invalid_host'
  // 401
  | 'jwt_malformed'
  | 'jwt_ambiguous'
  | 'jwt_issuer_unknown'
  | 'jwt_expired'
  | 'jwt_not_yet_valid'
  | 'jwt_audience_mismatch'
  | 'jwt_claims_invalid'
  | 'jwt_signature_invalid'
  | 'jwt_alg_not_allowed'
  | 'jwt_typ_invalid'
  | 'jwt_cnf_mismatch'
  | 'jwt_invalid'
  // 403
  | 'mtls_required'
  | 'mtls_unverified'
  | 'mtls_svid_invalid'
  | 'mtls_untrusted_domain'
  | 'mtls_cert_expired'
  | 'authz_deny_policy'
  | 'authz_no_allow_match'
  | 'authz_custom_deny'
  // 503
  | 'authz_custom_error'
  | 'jwks_unavailable'
  | 'internal_error';

/**
 * The guard's verdict on one request. Adapters apply it. Only `claims` carries token content (for
 * the application): meshless never logs it or puts it on spans.
 */
export interface Decision {
  allow: boolean;
  status: 200 | 400 | 401 | 403 | 503;
  /** Stable code, e.g. `authz_deny_policy`, `jwt_expired`, `mtls_required`. */
  reason: DecisionReason;
  /** Human-readable explanation from a fixed vocabulary (no token, key or claim values). */
  detail?: string;
  /** `namespace/name` of the policy that decided; absent for defaults and authentication failures. */
  policy?: string;
  /** Index of the rule that matched in that policy. */
  rule?: number;
  /** True when an AUDIT policy matched. */
  audit?: boolean;
  /** Set when a dry-run (`istio.io/dry-run`) policy would have denied. */
  dryRun?: { wouldDeny: boolean; policy?: string };
  /** Peer SPIFFE ID, when the client presented a valid X.509-SVID. */
  principal?: string;
  /** `iss/sub` of the verified request token. */
  requestPrincipal?: string;
  /** Verified token claims, deep-frozen (shared with other requests carrying the same token). */
  claims?: JWTPayload;
  /** Normalized request-target (path and query) the application must route on. */
  url?: string;
  /**
   * Request header changes the adapter applies before the application sees the request: token
   * removal (`forwardOriginalToken: false`) and `outputPayloadToHeader` / `outputClaimToHeaders`
   * (incoming headers of those names are always removed first).
   */
  requestHeaders?: { remove: string[]; set: Record<string, string> };
  /** Response headers to send, e.g. `WWW-Authenticate`, `Retry-After`. */
  headers?: Record<string, string>;
}

/** The JSON body of a denial: `{ error, reason }` (and a fixed-vocabulary `detail`). */
export interface DenialBody {
  error: 'bad_request' | 'invalid_token' | 'invalid_request' | 'forbidden' | 'unavailable';
  reason: DecisionReason;
  detail?: string;
}

/** Builds the JSON body adapters send for a denied request. */
export function denialBody(decision: Decision): DenialBody {
  const error: DenialBody['error'] =
    decision.status === 400
      ? 'bad_request'
      : decision.status === 401
        ? decision.reason === 'jwt_ambiguous' || decision.reason === 'jwt_malformed'
          ? 'invalid_request'
          : 'invalid_token'
        : decision.status === 503
          ? 'unavailable'
          : 'forbidden';
  return {
    error,
    reason: decision.reason,
    ...(decision.detail ? { detail: decision.detail } : {}),
  };
}

/**
 * The decision for a request that could not be checked at all (e.g. the guard failed to start or
 * an adapter failed to read the request): 503, fail closed, never 500.
 */
export function internalErrorDecision(detail = 'the request could not be checked'): Decision {
  return {
    allow: false,
    status: 503,
    reason: 'internal_error',
    detail,
    headers: { 'retry-after': '30' },
  };
}
