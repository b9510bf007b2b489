/** The policy kinds meshless reads, as they appear in Istio YAML (security.istio.io/v1, v1beta1). */

export interface PolicyMetadata {
  name: string;
  /** Absent: the workload's own namespace (as `kubectl apply` into the current namespace). */
  namespace?: string;
  annotations?: Record<string, string>;
}

/** One field of a source or operation: `values` are ORed, `notValues` is NOT(OR(...)). */
export interface ValueMatch {
  values?: string[];
  notValues?: string[];
}

export interface SourceSpec {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  /** Direct peer IP (IPv4/IPv6 address or CIDR). */
  ipBlocks?: string[];
  notIpBlocks?: string[];
  /** Client IP: the peer IP, or the `numTrustedProxies`-th `X-Forwarded-For` entry from the right. */
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
  /** `ns/sa`, or a bare `sa` in the policy's namespace. */
  serviceAccounts?: string[];
  notServiceAccounts?: string[];
}

export interface OperationSpec {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

/** One `when` condition: `values` ORed, `notValues` NOT(OR(...)), both ANDed. */
export interface ConditionSpec {
  key: string;
  values?: string[];
  notValues?: string[];
}

export interface RuleSpec {
  from?: { source: SourceSpec }[];
  to?: { operation: OperationSpec }[];
  /** ANDed conditions. */
  when?: ConditionSpec[];
}

export type AuthorizationAction = 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';

export interface AuthorizationPolicy {
  kind: 'AuthorizationPolicy';
  metadata: PolicyMetadata;
  spec: {
    selector?: { matchLabels?: Record<string, string> };
    /** Set when the policy targets gateways, waypoints or Services: it never applies in-process. */
    targetRefs?: unknown[];
    action?: AuthorizationAction;
    /** CUSTOM only: the provider (registered in `customProviders`) that decides matching requests. */
    provider?: { name: string };
    rules?: RuleSpec[];
  };
}

/** Where a rule looks for its token: a header (with a literal prefix), a query parameter or a cookie. */
export type JwtLocation =
  { header: string; prefix: string } | { param: string } | { cookie: string };

/** One `jwtRules` entry of a RequestAuthentication (Istio `JWTRule`). */
export interface JwtRule {
  issuer: string;
  audiences?: string[];
  jwksUri?: string;
  /** Inline JSON Web Key Set (the `jwks` field, parsed). */
  jwks?: { keys: object[] };
  /** Explicit token locations; absent = `Authorization: Bearer` and `?access_token=`. */
  locations?: JwtLocation[];
  /** Header that receives the base64url payload of a verified token. */
  outputPayloadToHeader?: string;
  /** Headers that receive claims of a verified token. */
  outputClaimToHeaders?: { header: string; claim: string }[];
  /** Keep the token in the request after verification (default false: it is removed). */
  forwardOriginalToken?: boolean;
  /** JWKS fetch timeout in ms (`timeout`, default 5 s). */
  timeoutMs?: number;
}

export interface RequestAuthentication {
  kind: 'RequestAuthentication';
  metadata: PolicyMetadata;
  spec: {
    selector?: { matchLabels?: Record<string, string> };
    /** Set when the policy targets gateways, waypoints or Services: it never applies in-process. */
    targetRefs?: unknown[];
    jwtRules?: JwtRule[];
  };
}

/** `PeerAuthentication.MutualTLS.Mode`: UNSET inherits from the enclosing scope. */
export type PeerAuthenticationMode = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';

export interface PeerAuthentication {
  kind: 'PeerAuthentication';
  metadata: PolicyMetadata & {
    /** RFC 3339, as Kubernetes sets it: within one scope the oldest document wins. */
    creationTimestamp?: string;
  };
  spec: {
    selector?: { matchLabels?: Record<string, string> };
    /** Absent (or `mtls: {}`) = UNSET. */
    mtls?: { mode: PeerAuthenticationMode };
    /** Destination (workload) port → mode; only with a selector. */
    portLevelMtls?: Record<string, { mode: PeerAuthenticationMode }>;
  };
}

export type PolicyDocument = AuthorizationPolicy | RequestAuthentication | PeerAuthentication;

/** A validated set of policy documents, as returned by {@link loadPolicies}. */
export interface PolicySet {
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
  readonly requestAuthentications: readonly RequestAuthentication[];
  /** Absent in a hand-built set: none. {@link loadPolicies} always sets it. */
  readonly peerAuthentications?: readonly PeerAuthentication[];
}
