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
export type { CustomProvider, GuardOptions, MtlsMode } from './guard/options.js';
export type { RequestFacts } from './guard/request-facts.js';
export { denialBody, internalErrorDecision } from './guard/decision.js';
export type { Decision, DecisionReason, DenialBody } from './guard/decision.js';
export { instrumentTlsServer, observeCertificateExpiry } from './telemetry/tls-metrics.js';
export type {
  CertificateExpiryOptions,
  InstrumentTlsServerOptions,
  TlsServerInstrumentation,
} from './telemetry/tls-metrics.js';
export type { TelemetryOptions } from './telemetry/guard-telemetry.js';
export type { LoggerProviderLike } from './telemetry/events.js';

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
  PeerIdentityKind,
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
export { parseX509Svid } from './sources/x509-svid.js';
export type { ParseX509SvidInput } from './sources/x509-svid.js';
export { createFileX509Source } from './sources/file-x509-source.js';
export type { FileX509Source, FileX509SourceOptions } from './sources/file-x509-source.js';
export { parseSpiffeBundle, serializeSpiffeBundle } from './sources/spiffe-bundle.js';
export type { SpiffeBundle } from './sources/spiffe-bundle.js';
export { parseSpiffeBundleMap, serializeSpiffeBundleMap } from './sources/spiffe-bundle-map.js';
export { createFederatedBundleSource } from './sources/federated-bundle-source.js';
export type {
  FederatedBundleSource,
  FederatedBundleSourceOptions,
} from './sources/federated-bundle-source.js';
export { combineBundleSources } from './sources/combined-bundle-source.js';
export { BundleError, SvidError } from './sources/source-errors.js';
export { WorkloadApiError } from './workload-api/errors.js';
export type { WorkloadApiErrorCode } from './workload-api/errors.js';
export type { BundleErrorCode, SvidErrorCode } from './sources/source-errors.js';
export type { ServerSync, ServerSyncOptions } from './tls/server-sync.js';
export { createPermissiveServer } from './tls/permissive-server.js';
export type { PermissiveServer } from './tls/permissive-server.js';
export { checkServerSpiffeId, ServerIdentityError } from './tls/server-identity.js';
export type { ServerIdentityErrorCode } from './tls/server-identity.js';
export { createMtlsAgent, mtlsClientOptions } from './tls/client-options.js';
export type { MtlsClientSources, MtlsConnectOptions } from './tls/client-options.js';

export { JwtVerifier } from './jwt/jwt-verifier.js';
export type { VerifyContext } from './jwt/jwt-verifier.js';
export type { OidcTokenRule, TokenRule } from './jwt/token-rules.js';
export type { JwtRuleOptions } from './jwt/token-profile.js';
export type {
  JwksInput,
  JwtSvidRule,
  KubernetesTokenRule,
  TokenWorkload,
} from './jwt/token-workload.js';
export { parseServiceAccountSubject } from './jwt/token-workload.js';
export { certificateThumbprint, thumbprintFromFingerprint256 } from './jwt/token-binding.js';
export { JwksFetchError, KeysUnavailableError } from './jwt/jwks-errors.js';
export type { JwksFetchErrorCode } from './jwt/jwks-errors.js';
export type { JwksStatus } from './jwt/jwks-options.js';
export { createClientCredentialsSource } from './outbound/client-credentials-source.js';
export type { ClientCredentialsSourceOptions } from './outbound/client-credentials-source.js';
export type {
  ClientAuthentication,
  ClientSecretAuthentication,
  PrivateKeyJwtAuthentication,
  TlsClientAuthentication,
} from './outbound/client-auth.js';
export { createJwtSvidSource } from './outbound/jwt-svid-source.js';
export type { JwtSvidSourceOptions } from './outbound/jwt-svid-source.js';
export type { TokenSource } from './outbound/token-source.js';
export type { TokenRetryOptions } from './outbound/http.js';
export { TokenSourceError } from './outbound/errors.js';
export type { TokenSourceErrorCode, TokenSourceErrorDetails } from './outbound/errors.js';
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
export { lintPolicies } from './policy/lint.js';
export { importLinkerdPolicies, isLinkerdDocument } from './policy/linkerd/linkerd-import.js';
export type { LinkerdImportOptions, LinkerdDefaultPolicy } from './policy/linkerd/linkerd-model.js';
export type { PolicyReloadEvent, PolicyReloadOptions } from './guard/policy-watch.js';
export type { LintCode, LintContext, LintFinding } from './policy/lint.js';
export type {
  Explanation,
  ExplainStage,
  PolicyExplanation,
  RuleExplanation,
} from './guard/explain.js';
export { composePeerAuthentication, peerModeByPort } from './policy/peer-authentication.js';
export type {
  ComposedPeerAuthentication,
  EffectiveMtlsMode,
} from './policy/peer-authentication.js';
export type {
  AuthorizationAction,
  AuthorizationPolicy,
  ConditionSpec,
  JwtLocation,
  JwtRule,
  OperationSpec,
  PeerAuthentication,
  PeerAuthenticationMode,
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
export {
  applyRequestHeaders,
  factsFromIncomingMessage,
  stripConsumedHeaders,
} from './http/incoming-message.js';
export { FORWARDED_CLIENT_CERT_HEADER } from './guard/forwarded-peer.js';
export type { TrustedProxies } from './guard/forwarded-peer.js';
export { toPendingGuard } from './guard/lazy-guard.js';
export type { PendingGuard } from './guard/lazy-guard.js';
export { authContextOf } from './guard/auth-context.js';
export type { AuthContext } from './guard/auth-context.js';
