import type { LintFinding } from '../policy/lint.js';
import type { LinkerdImportOptions } from '../policy/linkerd/linkerd-model.js';
import type { PolicyReloadOptions } from './policy-watch.js';
import type { PathNormalization } from '../http/request-path.js';
import type { IssuerKeysOptions } from '../jwt/issuer-keys.js';
import type { TokenRule } from '../jwt/token-rules.js';
import type { PeerIdentityKind } from '../identity/peer-identity.js';
import type { TelemetryOptions } from '../telemetry/guard-telemetry.js';
import type { BundleSource } from '../tls/sources.js';
import type { TrustedProxies } from './forwarded-peer.js';
import type { Decision } from './decision.js';
import type { RequestFacts } from './request-facts.js';

/** Which connections the guard accepts, as in Istio's PeerAuthentication. */
export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

/**
 * An external authorizer for Istio `action: CUSTOM` policies: `true` lets the request go on to
 * token validation and DENY/ALLOW, `false` denies it (403 `authz_custom_deny`). A throw or a
 * rejection denies it with 503 `authz_custom_error` (fail closed).
 */
export type CustomProvider = (facts: RequestFacts) => Promise<boolean> | boolean;

/** Options of {@link createGuard}. */
export interface GuardOptions {
  /** The workload this guard protects: selects which policies apply. */
  workload: {
    namespace: string;
    labels?: Record<string, string>;
    /** This mesh's trust domain, e.g. `example.org`. `cluster.local` in policies means this. */
    trustDomain: string;
    trustDomainAliases?: string[];
    /** Namespace whose policies apply mesh-wide. Default `istio-system`. */
    rootNamespace?: string;
    /** Container port names → numbers, for Linkerd `Server`s whose `port` is a name. */
    ports?: Record<string, number>;
  };
  /**
   * Linkerd settings for Linkerd policy documents in `policies` (`Server`, `HTTPRoute`,
   * `AuthorizationPolicy` of `policy.linkerd.io`, `MeshTLSAuthentication`, …; see
   * `importLinkerdPolicies`): the cluster default policy, `clusterNetworks`, the identity domain.
   */
  linkerd?: Omit<LinkerdImportOptions, 'workload' | 'trustDomain' | 'file'>;
  /**
   * Istio `AuthorizationPolicy` / `RequestAuthentication` / `PeerAuthentication` documents (or
   * Linkerd policy documents, see `linkerd`): YAML or JSON text (a string with a newline, starting
   * with `{`/`[`, or holding `key: value`), otherwise a file path or a glob (`*`, `?`, `**`);
   * objects; or a list of paths, texts and objects.
   */
  policies?: string | object | (string | object)[];
  /**
   * Trust domain → PEM roots (one string or a list), or a {@link BundleSource} (SPIFFE bundle
   * documents, federation, the Workload API). A peer is checked against its own domain's roots
   * only. When the source changes, cached peer verdicts are dropped.
   */
  trustBundles?: Record<string, string | string[]> | BundleSource;
  /**
   * Peer authentication mode. STRICT (default): a verified client X.509-SVID is required.
   * PERMISSIVE: the peer identity is used when present, plaintext and anonymous TLS pass on to
   * authorization. DISABLE: client certificates are ignored. `PeerAuthentication` documents that
   * apply override it per workload and per destination port; this mode is what UNSET inherits at
   * the top level (Istio's own default there is PERMISSIVE; meshless keeps STRICT).
   */
  mtls?: {
    mode?: MtlsMode;
    /**
     * Identity sources in precedence order. Default `['spiffe']`. Add `'dns'` and/or `'cn'` to
     * accept verified certificates without a URI SAN as `dns:<first DNS SAN>` / `cn:<subject CN>`
     * (they must chain to a root of any configured bundle; a certificate with a URI SAN is always
     * judged as an X.509-SVID).
     */
    identityFrom?: PeerIdentityKind[];
    /**
     * Front proxies whose `x-forwarded-client-cert` is believed: the forwarded certificate is then
     * verified and becomes the peer identity. From any other peer the header is ignored, and the
     * adapters always remove it from the request.
     */
    trustedProxies?: TrustedProxies;
  };
  /** Default `DECODE_AND_MERGE_SLASHES`. */
  pathNormalization?: PathNormalization;
  /**
   * Proxies in front of this workload that append to `X-Forwarded-For` (Istio
   * `numTrustedProxies`). Default 0: `remote.ip` / `remoteIpBlocks` read the socket's peer address.
   * N > 0: they read the N-th `X-Forwarded-For` entry from the right (the peer address when the
   * header has fewer entries or that entry is not an IP address).
   */
  numTrustedProxies?: number;
  /**
   * Providers for CUSTOM AuthorizationPolicies, by `spec.provider.name`. A CUSTOM policy that
   * applies must name a registered provider, and only one provider may apply per workload.
   */
  customProviders?: Record<string, CustomProvider>;
  jwt?: {
    /**
     * Token rules in addition to the `RequestAuthentication` rules that apply: OIDC issuers
     * (optionally with `profile: 'rfc9068'`, `maxLifetimeSec`, `requiredClaims`), JWT-SVID trust
     * domains (`kind: 'jwt-svid'`) and Kubernetes service-account token issuers (`kind: 'kubernetes'`).
     */
    issuers?: TokenRule[];
    /** Default 30, capped at 300. */
    clockToleranceSec?: number;
    /** Asymmetric algorithm allowlist. */
    algorithms?: string[];
    /** fetch for discovery and JWKS, e.g. one that trusts a private CA. */
    fetch?: typeof fetch;
    /**
     * Allow discovery and JWKS over plain HTTP beyond loopback. Default false: keys come over HTTPS
     * (plain HTTP only to 127.0.0.0/8, ::1 and localhost), since whoever can alter a plain-HTTP
     * JWKS response can mint accepted tokens.
     */
    allowInsecureHttp?: boolean;
    /**
     * Key store timings: `ttlDefaultSec` (600), `ttlMinSec` (300) / `ttlMaxSec` (86400) clamp
     * `Cache-Control`, `staleIfErrorSec` (3600, at most 86400: how long the last good keys serve
     * after fetches start failing, then 503), `cooldownSec` (30) and `rotationBudgetPerMin` (1)
     * for unknown kids, `failureBackoffSec` (5), `timeoutMs` (5000), `maxBodyBytes` (512 KiB).
     */
    keyStore?: IssuerKeysOptions['jwks'];
    /**
     * Fetch every issuer's keys while the guard is created, so the first requests do not wait.
     * A failure does not stop the guard: it shows in `guard.keyStatus()`.
     */
    prefetch?: boolean;
  };
  /**
   * Called after every decision, allowed or denied (e.g. for an audit log). Runs synchronously on
   * the request path: keep it cheap. Errors it throws are ignored.
   */
  onDecision?: (decision: Decision, facts: RequestFacts) => void;
  /**
   * Receives the lint findings (Istio pitfalls: PERMISSIVE, allow-all rules, exact hosts in DENY,
   * …; see `lintPolicies`) of the policies that apply to this workload, once, when the guard is
   * built. Default: one `MeshlessPolicyWarning` process warning per finding of severity `warning`.
   * Pass `() => {}` to silence them.
   */
  onPolicyLint?: (findings: readonly LintFinding[]) => void;
  /**
   * Hot reload of `policies` given as file paths or globs (on by default for them): the files are
   * read again after a change, and a valid new set replaces the old one for new requests. An
   * invalid one is refused and reported; the last good set stays.
   */
  policyReload?: PolicyReloadOptions;
  /** Where spans, metrics and log events go (default: the global providers). */
  telemetry?: TelemetryOptions;
}
