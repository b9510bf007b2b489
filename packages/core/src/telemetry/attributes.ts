/**
 * Attribute names meshless puts on spans. Semantic-convention names are copied here (not imported
 * from the incubating entry point), the rest live under `meshless.`.
 */
export const ATTR_NETWORK_PEER_ADDRESS = 'network.peer.address';
export const ATTR_ERROR_TYPE = 'error.type';

export const ATTR_AUTHN_METHOD = 'meshless.authn.method';
export const ATTR_AUTHN_RESULT = 'meshless.authn.result';
export const ATTR_AUTHN_FAILURE_REASON = 'meshless.authn.failure_reason';
export const ATTR_AUTHN_CACHED = 'meshless.authn.cached';
/** True when the identity came from a trusted proxy's `x-forwarded-client-cert`. */
export const ATTR_AUTHN_FORWARDED = 'meshless.authn.forwarded';
export const ATTR_PRINCIPAL_ID = 'meshless.principal.id';
export const ATTR_TRUST_DOMAIN = 'meshless.spiffe.trust_domain';
export const ATTR_JWT_ISSUER = 'meshless.jwt.issuer';
export const ATTR_JWT_ALG = 'meshless.jwt.alg';
export const ATTR_JWT_KID = 'meshless.jwt.kid';

export const ATTR_AUTHZ_DECISION = 'meshless.authz.decision';
export const ATTR_AUTHZ_REASON = 'meshless.authz.reason';
export const ATTR_AUTHZ_POLICY = 'meshless.authz.policy.name';
export const ATTR_AUTHZ_RULE = 'meshless.authz.rule';
export const ATTR_AUTHZ_ACTION = 'meshless.authz.action';
export const ATTR_AUTHZ_MODE = 'meshless.authz.mode';
export const ATTR_AUTHZ_AUDIT = 'meshless.authz.audit';
export const ATTR_AUTHZ_DRY_RUN_WOULD_DENY = 'meshless.authz.dry_run.would_deny';

/** Span names: short, fixed, low-cardinality. */
export const SPAN_AUTHN_MTLS = 'authn.mtls';
export const SPAN_AUTHN_JWT = 'authn.jwt';
export const SPAN_AUTHZ_DECISION = 'authz.decision';

// Metrics and log events (docs/telemetry.md, "Metrics" and "Log events").
export const ATTR_HTTP_REQUEST_METHOD = 'http.request.method';
export const ATTR_HTTP_ROUTE = 'http.route';
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';
export const ATTR_URL_FULL = 'url.full';
export const ATTR_TLS_PROTOCOL_VERSION = 'tls.protocol.version';
export const ATTR_TLS_RESUMED = 'tls.resumed';
export const ATTR_TLS_PROTOCOL_NAME = 'tls.protocol.name';
export const ATTR_TLS_CIPHER = 'tls.cipher';
export const ATTR_TLS_NEXT_PROTOCOL = 'tls.next_protocol';
export const ATTR_TLS_CLIENT_HASH_SHA256 = 'tls.client.hash.sha256';
export const ATTR_AUTHZ_DRY_RUN_POLICY = 'meshless.authz.dry_run.policy.name';
/** `server` (own SVID on a listener), `client` (own SVID for outbound calls) or `ca` (a trust anchor). */
export const ATTR_CERT_ROLE = 'meshless.certificate.role';
export const ATTR_CERT_SUBJECT = 'meshless.certificate.subject';
export const ATTR_CERT_SERIAL = 'meshless.certificate.serial_number';
export const ATTR_CERT_NOT_AFTER = 'meshless.certificate.not_after';
export const ATTR_CERT_TIME_REMAINING = 'meshless.certificate.time_remaining';

export const METRIC_AUTHN_DURATION = 'meshless.authn.duration';
export const METRIC_AUTHZ_DURATION = 'meshless.authz.duration';
export const METRIC_JWKS_FETCH_DURATION = 'meshless.jwks.fetch.duration';
export const METRIC_TLS_HANDSHAKES = 'meshless.tls.handshakes';
export const METRIC_CERT_TIME_REMAINING = 'meshless.certificate.time_remaining';

export const EVENT_AUTHN_FAILURE = 'meshless.authn.failure';
export const EVENT_AUTHZ_DECISION = 'meshless.authz.decision';
export const EVENT_TLS_HANDSHAKE_FAILURE = 'meshless.tls.handshake.failure';
export const EVENT_CERT_EXPIRED = 'meshless.certificate.expired';
export const EVENT_CERT_NEAR_EXPIRY = 'meshless.certificate.near_expiry';
export const EVENT_JWKS_STALE = 'meshless.jwks.stale';

/** CLIENT span around one JWKS download, a child of `authn.jwt` when a request caused it. */
export const SPAN_JWKS_FETCH = 'jwks.fetch';
