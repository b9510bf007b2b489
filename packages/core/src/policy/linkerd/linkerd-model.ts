/**
 * Linkerd policy resources (policy.linkerd.io, and Gateway API HTTPRoutes attached to a Server),
 * as validated by the Linkerd importer. Only what changes an authorization decision is kept.
 */
import type { PolicyErrorLocation } from '../../errors.js';

/** Linkerd's default inbound policies (`proxy.defaultInboundPolicy`, Server `accessPolicy`). */
export type LinkerdDefaultPolicy =
  | 'all-unauthenticated'
  | 'all-authenticated'
  | 'cluster-authenticated'
  | 'cluster-unauthenticated'
  | 'deny'
  | 'audit';

export const LINKERD_DEFAULT_POLICIES: readonly LinkerdDefaultPolicy[] = [
  'all-unauthenticated',
  'all-authenticated',
  'cluster-authenticated',
  'cluster-unauthenticated',
  'deny',
  'audit',
];

/** A Kubernetes label selector (`matchLabels` ANDed with `matchExpressions`). */
export interface LabelSelector {
  matchLabels: Record<string, string>;
  matchExpressions: {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values: string[];
  }[];
}

/** Where a resource came from, for error messages. */
export interface Origin {
  loc: PolicyErrorLocation;
  /** `Kind namespace/name`. */
  label: string;
}

interface Base {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  origin: Origin;
}

export interface LinkerdServer extends Base {
  kind: 'Server';
  /** Absent when the Server selects ExternalWorkloads (never a pod). */
  podSelector?: LabelSelector;
  port: number | string;
  proxyProtocol: string;
  accessPolicy: LinkerdDefaultPolicy;
}

/** A path match: `prefix` is Gateway API PathPrefix (segment-aware), already without a trailing `/`. */
export type PathMatch = { type: 'Exact'; value: string } | { type: 'PathPrefix'; value: string };

export interface RouteMatch {
  path: PathMatch;
  method?: string;
  /** Lower-case names, first entry per name only (Gateway API). */
  headers: { name: string; value: string }[];
}

export interface LinkerdHttpRoute extends Base {
  kind: 'HTTPRoute';
  /** Names of the Servers (same namespace) this route attaches to. */
  servers: string[];
  /** Lower-case exact hostnames; empty = any host. */
  hostnames: string[];
  /** All matches of all rules (ORed). */
  matches: RouteMatch[];
}

/** A reference from an AuthorizationPolicy to an authentication. */
export interface AuthnRef {
  kind: 'MeshTLSAuthentication' | 'NetworkAuthentication' | 'ServiceAccount';
  name: string;
  namespace: string;
}

export interface LinkerdAuthorizationPolicy extends Base {
  kind: 'AuthorizationPolicy';
  target: { kind: 'Server' | 'HTTPRoute' | 'Namespace'; name: string };
  authns: AuthnRef[];
}

/** Linkerd identities already mapped to meshless principals (`<td>/ns/<ns>/sa/<sa>`, `*`, prefixes). */
export interface LinkerdMeshTlsAuthentication extends Base {
  kind: 'MeshTLSAuthentication';
  principals: string[];
}

export interface Network {
  cidr: string;
  except: string[];
}

export interface LinkerdNetworkAuthentication extends Base {
  kind: 'NetworkAuthentication';
  networks: Network[];
}

export interface LinkerdServerAuthorization extends Base {
  kind: 'ServerAuthorization';
  server: { name: string } | { selector: LabelSelector };
  /** Mapped principals; `undefined` = `unauthenticated: true`. */
  principals?: string[];
  /** Empty = all networks (Linkerd's default). */
  networks: Network[];
}

export type LinkerdResource =
  | LinkerdServer
  | LinkerdHttpRoute
  | LinkerdAuthorizationPolicy
  | LinkerdMeshTlsAuthentication
  | LinkerdNetworkAuthentication
  | LinkerdServerAuthorization;

/**
 * One Linkerd authorization, resolved: the client must have one of `principals` (absent: no
 * identity required) AND come from one of `networks` (empty: any address).
 */
export interface ClientAuthorization {
  /** `Kind namespace/name` of the resource it comes from. */
  source: string;
  principals?: string[];
  networks: Network[];
}

/** Options of {@link importLinkerdPolicies}. */
export interface LinkerdImportOptions {
  /** The workload meshless protects, standing in for the pod Linkerd would select. */
  workload: {
    namespace: string;
    labels?: Record<string, string>;
    /** Container port names → numbers, for Servers whose `port` is a name. */
    ports?: Record<string, number>;
  };
  /** meshless trust domain: Linkerd identities map to `spiffe://<trustDomain>/ns/<ns>/sa/<sa>`. */
  trustDomain: string;
  /** Policy for ports no Server selects (Linkerd's cluster default). Default `all-unauthenticated`. */
  defaultPolicy?: LinkerdDefaultPolicy;
  /** Linkerd's `clusterNetworks`; required when a `cluster-*` policy is used. */
  clusterNetworks?: string[];
  /** Linkerd identity suffix (`identity.<linkerd-namespace>.<trust-domain>`). Default `identity.linkerd.cluster.local`. */
  identityDomain?: string;
  /** Shown in error locations. */
  file?: string;
}
