/**
 * `@meshless/core`: mesh-grade zero-trust for Node services, in-process. Peer identity from
 * SPIFFE X.509-SVIDs, bearer JWTs against JWKS, Istio authorization policies, every decision an
 * OpenTelemetry span. Framework-free: the adapters build {@link RequestFacts} and apply the
 * {@link Decision}.
 *
 * @packageDocumentation
 */
export { createGuard } from './guard/guard.js';
export type { Guard } from './guard/guard.js';
export type { GuardOptions, MtlsMode } from './guard/options.js';
export type { RequestFacts } from './guard/request-facts.js';
export { denialBody, internalErrorDecision } from './guard/decision.js';
export type { Decision, DecisionReason, DenialBody } from './guard/decision.js';

export { parseSpiffeId, parseTrustDomain, SpiffeId, TrustDomain } from './identity/spiffe-id.js';
export {
  matchAll,
  matchAny,
  matchAnyOf,
  matchId,
  matchIdPrefix,
  matchMemberOf,
  matchNot,
  matchOneOf,
} from './identity/matchers.js';
export type { SpiffeIdMatcher } from './identity/matchers.js';
export { PeerIdentityResolver } from './identity/peer-identity.js';
export type {
  PeerIdentity,
  PeerFailureReason,
  PeerResult,
  PeerSource,
} from './identity/peer-identity.js';
export {
  createStaticBundleSource,
  createTrustBundleSet,
  parsePemCertificates,
} from './tls/trust-bundles.js';
export type { TrustBundleSet } from './tls/trust-bundles.js';
export type { BundleSource, SourceEvent, X509Bundle, X509Source, X509Svid } from './tls/sources.js';
export { bundleRootsPem, mtlsServerOptions, secureContextOptions } from './tls/server-options.js';
export type { MtlsServerSources } from './tls/server-options.js';
export { keepServerInSync } from './tls/server-sync.js';
export type { ServerSync, ServerSyncOptions } from './tls/server-sync.js';
export { createPermissiveServer } from './tls/permissive-server.js';
export type { PermissiveServer } from './tls/permissive-server.js';
export { checkServerSpiffeId, ServerIdentityError } from './tls/server-identity.js';
export type { ServerIdentityErrorCode } from './tls/server-identity.js';
export { createMtlsAgent, mtlsClientOptions } from './tls/client-options.js';
export type { MtlsClientSources, MtlsConnectOptions } from './tls/client-options.js';

export { JwtVerifier } from './jwt/jwt-verifier.js';
export type {
  JwtVerifierOptions,
  TokenFailureReason,
  TokenResult,
  VerifiedToken,
} from './jwt/jwt-verifier.js';
export type { JwtIssuerConfig } from './jwt/issuer-keys.js';
export { findBearerToken, findToken } from './jwt/token-location.js';
export type { TokenLookup } from './jwt/token-location.js';

export { loadPolicies, mergePolicySets } from './policy/load-policies.js';
export type {
  AuthorizationAction,
  AuthorizationPolicy,
  JwtRule,
  OperationSpec,
  PolicyDocument,
  PolicyMetadata,
  PolicySet,
  RequestAuthentication,
  RuleSpec,
  SourceSpec,
} from './policy/model.js';

export { normalizeRequestPath } from './http/request-path.js';
export type { NormalizedPath, PathNormalization } from './http/request-path.js';
export { bearerChallenge } from './http/challenge.js';
export type { BearerErrorCode } from './http/challenge.js';

export { ConfigError, MeshlessError, PolicyError, SpiffeIdError } from './errors.js';
export type {
  ConfigErrorCode,
  MeshlessErrorCode,
  PolicyErrorCode,
  PolicyErrorLocation,
  SpiffeIdErrorCode,
} from './errors.js';
export { VERSION } from './version.js';
export { factsFromIncomingMessage } from './http/incoming-message.js';
export { toPendingGuard } from './guard/lazy-guard.js';
export type { PendingGuard } from './guard/lazy-guard.js';
export { authContextOf } from './guard/auth-context.js';
export type { AuthContext } from './guard/auth-context.js';
