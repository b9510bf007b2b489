/**
 * `@meshless/testing`: the private test kit of meshless (like go-spiffe's `internal/test/ca.go`).
 *
 * - {@link createTestCa}: a throw-away CA minting X.509-SVIDs (ECDSA P-256).
 * - {@link startOidcProvider}: a real in-process OpenID Provider issuing `at+jwt` tokens.
 * - {@link createCaFetch}: a `fetch` trusting a test CA (for jose's remote JWKS).
 * - {@link mtlsRequest}: a raw-path HTTPS client with optional client cert and SPIFFE server check.
 * - {@link createSpanRecorder} / {@link assertSpan}: the OTel SDK with an in-memory exporter.
 *
 * @packageDocumentation
 */
export { createTestCa } from './ca.js';
export type { CreateTestCaOptions, IssueSvidOptions, Svid, TestCa } from './ca.js';
export { createCaFetch } from './https-fetch.js';
export type { CaFetchOptions } from './https-fetch.js';
export { mtlsRequest } from './mtls-request.js';
export type { MtlsRequestOptions, MtlsResponse, ServerIdMismatchError } from './mtls-request.js';
export { DEFAULT_OIDC_CLIENT, OidcTokenError, startOidcProvider } from './oidc-provider.js';
export type {
  GetTokenOptions,
  OidcClient,
  OidcProviderHarness,
  StartOidcProviderOptions,
} from './oidc-provider.js';
/**
 * The `@peculiar/x509` namespace, already set up (reflect-metadata + WebCrypto provider): use it
 * for `KeyUsageFlags`, `ExtendedKeyUsage`, `Extension`, parsing certificates.
 */
export { x509 } from './x509.js';
export { assertSpan, createSpanRecorder } from './span-recorder.js';
export type { CreateSpanRecorderOptions, ExpectedSpan, SpanRecorder } from './span-recorder.js';
export { createMeshFixture } from './mesh-fixture.js';
export type { MeshFixture } from './mesh-fixture.js';
export {
  certificatePemOf,
  createCustomRoot,
  createSvidRulePki,
  DENIED_PATH,
  issueIntermediate,
  NODE_MAJOR,
  SERVER_SEES_CLIENT_CHAIN,
  svidRulePolicies,
  svidRuleProfiles,
  SVID_RULES_NAMESPACE,
  tamperSignature,
  SVID_RULES_TRUST_DOMAIN,
  uriNameConstraint,
} from './svid-rule-pki.js';
export type {
  ClientCredentials,
  CustomRoot,
  SvidRuleCase,
  SvidRuleExpectation,
  SvidRulePki,
  SvidRuleReason,
  TrustProfile,
  TrustProfileName,
} from './svid-rule-pki.js';
export { groupSvidRuleCases, svidRuleCases } from './svid-rule-cases.js';
export { sendSvidRuleRequest } from './svid-rule-client.js';
export type { SvidRuleOutcome } from './svid-rule-client.js';
export { createMutableBundleSource } from './mutable-bundle-source.js';
export type { MutableBundleSource } from './mutable-bundle-source.js';
/** A fake SPIFFE Workload API agent (real gRPC over a Unix socket) for Workload API client tests. */
export { startWorkloadAgent } from './workload-agent/index.js';
export type {
  StartWorkloadAgentOptions,
  WorkloadAgent,
  WorkloadAgentBundle,
  WorkloadAgentMethod,
  WorkloadAgentRequest,
  WorkloadAgentStatus,
  WorkloadAgentSvid,
  WorkloadAgentX509Context,
} from './workload-agent/index.js';
