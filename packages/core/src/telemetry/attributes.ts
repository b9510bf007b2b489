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
