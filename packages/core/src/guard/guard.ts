import { SpanStatusCode, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { ConfigError } from '../errors.js';
import { checkHost } from '../http/authority.js';
import { normalizeRequestPath } from '../http/request-path.js';
import { PeerIdentityResolver, type PeerResult } from '../identity/peer-identity.js';
import { parseTrustDomain } from '../identity/spiffe-id.js';
import type { JwksStatus } from '../jwt/jwks-options.js';
import { withoutParams } from '../jwt/token-outputs.js';
import { evaluatePolicies } from '../policy/evaluate.js';
import type { PolicySet } from '../policy/model.js';
import type { WorkloadScope } from '../policy/scope.js';
import * as A from '../telemetry/attributes.js';
import {
  tlsClientCertificateAttributes,
  tlsConnectionAttributes,
} from '../telemetry/tls-attributes.js';
import { GuardTelemetry, type AuthnOutcome } from '../telemetry/guard-telemetry.js';
import type { BundleSource } from '../tls/sources.js';
import { createStaticBundleSource, snapshotBundles } from '../tls/trust-bundles.js';
import { authzAttributes } from './authz-attributes.js';
import { internalErrorDecision, type Decision, type DecisionReason } from './decision.js';
import { explainRequest, probed, type AttrsProbe, type Explanation } from './explain.js';
import { resolveForwardedPeer } from './forwarded-peer.js';
import type { GuardOptions, MtlsMode } from './options.js';
import { resolvePolicies } from './policy-sources.js';
import { buildPolicyState, type PolicyEnv, type PolicyState } from './policy-state.js';
import { watchPolicies } from './policy-watch.js';
import type { RequestFacts } from './request-facts.js';

/** A guard: built once per process, asked once per request. */
export interface Guard {
  /**
   * Decides one request: peer identity → token → authorization. Never throws and never answers
   * 500: any internal failure is a 503 `internal_error` denial.
   */
  check(facts: RequestFacts): Promise<Decision>;
  /**
   * Debugging aid, slower than `check`: the decision `check` would make (without claims and query)
   * and, for each AuthorizationPolicy in scope, whether it matched, which rule, and each other
   * rule's first failing condition (field paths only). Records spans, but skips `onDecision`.
   * @example `(await guard.explain(facts)).policies.filter((p) => !p.matched)`
   */
  explain(facts: RequestFacts): Promise<Explanation>;
  /** The policy documents in force (all of them, applicable or not). */
  readonly policies: PolicySet;
  /**
   * The PeerAuthentication mode composed for this workload (mesh < namespace < workload,
   * `portLevelMtls` for `port`), for configuring a TLS listener, e.g.
   * `mtlsServerOptions(sources, guard.mtlsMode?.(8443))`. Follows policy reloads.
   */
  mtlsMode?(port?: number): MtlsMode;
  /** Stops watching the trust bundle source and the policy files. The guard keeps its state. */
  close?(): void;
  /** The state of each token issuer's key store (`fresh`, `stale`, `failed`, `empty`), for readiness probes. */
  keyStatus?(): { issuer: string | undefined; status: JwksStatus }[];
}

function isBundleSource(value: object): value is BundleSource {
  return typeof (value as Partial<BundleSource>).getBundleFor === 'function';
}

/** The usual method: upper-case letters only (anything else is checked the slow way). */
const UPPER_CASE_METHOD = /^[A-Z]+$/;

function deny(
  status: Decision['status'],
  reason: DecisionReason,
  detail: string,
  extra: Partial<Decision> = {},
): Decision {
  return { allow: false, status, reason, detail, ...extra };
}

/**
 * Builds the guard: loads and compiles policies once, parses trust bundles, prepares one key store
 * per token issuer.
 *
 * @throws {ConfigError} or {@link PolicyError} when the options cannot work.
 * @example
 * ```ts
 * const guard = await createGuard({
 *   workload: { namespace: 'payments', trustDomain: 'example.org' },
 *   trustBundles: { 'example.org': rootPem },
 *   policies: './policies.yaml',
 * });
 * const decision = await guard.check(facts);
 * ```
 */
export async function createGuard(options: GuardOptions): Promise<Guard> {
  const { workload } = options;
  if (!workload || typeof workload.namespace !== 'string' || workload.namespace === '')
    throw new ConfigError('workload.namespace is required');
  let trustDomain: string;
  try {
    trustDomain = parseTrustDomain(workload.trustDomain).name;
  } catch (cause) {
    throw new ConfigError('workload.trustDomain is not a valid trust domain', { cause });
  }
  for (const alias of workload.trustDomainAliases ?? []) {
    try {
      parseTrustDomain(alias);
    } catch (cause) {
      throw new ConfigError('workload.trustDomainAliases holds an invalid trust domain', { cause });
    }
  }
  const scope: WorkloadScope = {
    namespace: workload.namespace,
    labels: workload.labels ?? {},
    rootNamespace: workload.rootNamespace ?? 'istio-system',
  };
  const defaultMode: MtlsMode = options.mtls?.mode ?? 'STRICT';
  const pathMode = options.pathNormalization ?? 'DECODE_AND_MERGE_SLASHES';
  const numTrustedProxies = options.numTrustedProxies ?? 0;
  if (!Number.isSafeInteger(numTrustedProxies) || numTrustedProxies < 0)
    throw new ConfigError('numTrustedProxies must be a non-negative integer');

  const compileCtx = {
    trustDomain,
    trustDomainAliases: (workload.trustDomainAliases ?? []).map((a) => parseTrustDomain(a).name),
    namespace: workload.namespace,
  };
  const telemetry = new GuardTelemetry(options.telemetry);
  const tracer: Tracer = telemetry.tracer;
  const env: PolicyEnv = { options, scope, defaultMode, compileCtx, tracer, telemetry };
  const linkerd = {
    workload: { namespace: workload.namespace, labels: scope.labels, ports: workload.ports ?? {} },
    trustDomain,
    ...options.linkerd,
  };
  const initial = await resolvePolicies(options.policies, linkerd);
  let state = await buildPolicyState(initial.set, env);
  const reloader = watchPolicies(
    initial,
    options.policies,
    linkerd,
    options.policyReload,
    async (next) => {
      state = await buildPolicyState(next.set, env); // throws: the last good state stays
    },
  );

  let bundleSource: BundleSource;
  try {
    const given = options.trustBundles ?? {};
    bundleSource = isBundleSource(given) ? given : createStaticBundleSource(given);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError('trustBundles: invalid trust domain', { cause: error });
  }
  let bundleVersion = 1;
  let bundles = snapshotBundles(bundleSource, bundleVersion);
  // A new bundle set drops every cached peer verdict (per socket and per certificate).
  const stopCertificates = telemetry.observeBundles(bundleSource);
  const unsubscribe = bundleSource.subscribe?.((event) => {
    if (event.type !== 'updated') return;
    bundles = snapshotBundles(bundleSource, ++bundleVersion);
    stopCertificates.recheck();
  });
  const peers = new PeerIdentityResolver(() => bundles, {
    ...(options.mtls?.identityFrom ? { identityFrom: options.mtls.identityFrom } : {}),
  });
  const proxies = options.mtls?.trustedProxies;
  const onDecision = options.onDecision;

  function peerStage(facts: RequestFacts, current: PolicyState): PeerResult | Decision {
    const span = tracer.startSpan(A.SPAN_AUTHN_MTLS, {
      attributes: { [A.ATTR_AUTHN_METHOD]: 'mtls', [A.ATTR_NETWORK_PEER_ADDRESS]: facts.sourceIp },
    });
    if (facts.socket && span.isRecording())
      span.setAttributes(tlsConnectionAttributes(facts.socket));
    const mode = current.modeFor(facts.destinationPort);
    const startedAt = telemetry.start();
    let outcome: AuthnOutcome | undefined;
    try {
      let peer: PeerResult = mode === 'DISABLE' ? { kind: 'none' } : peers.resolve(facts);
      // A failed direct peer is never rescued by a forwarded certificate.
      const forwarded =
        proxies && peer.kind !== 'fail'
          ? resolveForwardedPeer(facts, peer, proxies, peers)
          : undefined;
      if (forwarded) {
        span.setAttribute(A.ATTR_AUTHN_FORWARDED, true);
        peer = forwarded;
      }
      if (peer.kind === 'ok') {
        if (telemetry.on) outcome = { result: 'success', trustDomain: peer.identity.trustDomain };
        if (!span.isRecording()) return peer;
        span.setAttributes({
          [A.ATTR_AUTHN_RESULT]: 'success',
          [A.ATTR_PRINCIPAL_ID]: peer.identity.id,
          ...(peer.identity.trustDomain
            ? { [A.ATTR_TRUST_DOMAIN]: peer.identity.trustDomain }
            : {}),
          [A.ATTR_AUTHN_CACHED]: peer.cached,
          ...(forwarded ? {} : tlsClientCertificateAttributes(peer.identity.fingerprint256)),
        });
        return peer;
      }
      if (peer.kind === 'fail') {
        if (telemetry.on) outcome = { result: 'failure', reason: peer.reason, cached: peer.cached };
        span.setAttributes({
          [A.ATTR_AUTHN_RESULT]: 'failure',
          [A.ATTR_AUTHN_FAILURE_REASON]: peer.reason,
          [A.ATTR_AUTHN_CACHED]: peer.cached,
        });
        return deny(403, peer.reason, peer.detail);
      }
      if (mode === 'STRICT') {
        if (telemetry.on) outcome = { result: 'failure', reason: 'mtls_required' };
        span.setAttributes({
          [A.ATTR_AUTHN_RESULT]: 'failure',
          [A.ATTR_AUTHN_FAILURE_REASON]: 'mtls_required',
        });
        return deny(403, 'mtls_required', 'a verified client certificate is required');
      }
      span.setAttribute(A.ATTR_AUTHN_RESULT, 'none');
      if (telemetry.on) outcome = { result: 'none' };
      return peer;
    } finally {
      if (outcome) telemetry.authn('mtls', startedAt, outcome, facts.sourceIp, span);
      span.end();
    }
  }

  async function decide(facts: RequestFacts, probe?: AttrsProbe): Promise<Decision> {
    const current = state; // one policy state for the whole request, even across a reload
    const finalize = (d: Decision, action?: string, span?: Span, at?: number) =>
      record(facts, d, action, span, at);
    // Istio pre-checks: a non-upper-case method or a bad path is answered with 400 before anything else.
    const { method } = facts;
    if (!UPPER_CASE_METHOD.test(method) && (method === '' || method !== method.toUpperCase()))
      return finalize(deny(400, 'request_invalid_method', 'method must be upper-case'));
    const hostProblem = checkHost(facts);
    if (hostProblem) return finalize(deny(400, 'request_invalid_host', hostProblem));
    const normalized = normalizeRequestPath(facts.path, pathMode);
    if (!normalized.ok) return finalize(deny(400, 'request_invalid_path', normalized.detail));
    const url =
      normalized.query === undefined ? normalized.path : `${normalized.path}?${normalized.query}`;
    // Routing must see the path that is authorized: when the framework routes on a target it
    // cannot rewrite, a target that is not already normal is refused.
    if (facts.routedUrl !== undefined && facts.routedUrl !== url)
      return finalize(deny(400, 'request_invalid_path', 'path is not in normal form'));

    const peer = peerStage(facts, current);
    if ('allow' in peer) return finalize(peer);
    const principal = peer.kind === 'ok' ? peer.identity.id : undefined;
    const base: Partial<Decision> = { url, ...(principal ? { principal } : {}) };
    const { customStage, tokenStage } = current;
    const customAt = telemetry.start();
    const custom =
      customStage &&
      (await customStage(
        facts,
        probed(probe, authzAttributes(facts, normalized.path, principal, numTrustedProxies)),
      ));
    if (custom) return finalize({ ...custom.decision, ...base }, 'CUSTOM', custom.span, customAt);

    const token = await tokenStage(
      facts,
      normalized.query,
      peer.kind === 'ok' ? peer.identity.fingerprint256 : undefined,
    );
    if (token.kind === 'deny') return finalize({ ...token.decision, ...base });
    const verified = token.kind === 'ok' ? token.token : undefined;
    const { remove, set, removeParams } = token.changes;

    const startedAt = telemetry.start();
    const span = tracer.startSpan(A.SPAN_AUTHZ_DECISION);
    const result = evaluatePolicies(
      current.compiled,
      probed(
        probe,
        authzAttributes(facts, normalized.path, principal, numTrustedProxies, verified),
      ),
    );
    // Built field by field: this is every request's path (object rest and spreads cost more).
    const decision: Decision = result.allow
      ? { allow: true, status: 200, reason: result.reason }
      : {
          allow: false,
          status: 403,
          reason: result.reason,
          detail:
            result.reason === 'authz_deny_policy' ? 'denied by policy' : 'no ALLOW policy matched',
        };
    if (principal) decision.principal = principal;
    if (verified) {
      decision.requestPrincipal = verified.principal;
      decision.claims = verified.claims;
    }
    decision.url = withoutParams(url, removeParams);
    if (remove.length > 0 || Object.keys(set).length > 0) decision.requestHeaders = { remove, set };
    if (result.policy !== undefined) decision.policy = result.policy;
    if (result.rule !== undefined) decision.rule = result.rule;
    if (result.audit) decision.audit = true;
    if (result.dryRun) decision.dryRun = result.dryRun;
    return finalize(decision, result.action, span, startedAt);
  }

  /**
   * Records the decision on the `authz.decision` span (started before evaluation when there was
   * one), in `meshless.authz.duration` and, for denials, AUDIT and dry-run matches, as an event.
   */
  function record(
    facts: RequestFacts,
    decision: Decision,
    action?: string,
    span: Span = tracer.startSpan(A.SPAN_AUTHZ_DECISION),
    startedAt = telemetry.start(),
  ): Decision {
    if (telemetry.on) telemetry.decision(decision, action, startedAt, facts, span);
    if (!span.isRecording()) {
      span.end();
      return decision;
    }
    const attrs: Attributes = {
      [A.ATTR_AUTHZ_DECISION]: decision.allow ? 'allow' : 'deny',
      [A.ATTR_AUTHZ_REASON]: decision.reason,
      [A.ATTR_AUTHZ_MODE]: 'enforce',
    };
    if (decision.policy) attrs[A.ATTR_AUTHZ_POLICY] = decision.policy;
    if (decision.rule !== undefined) attrs[A.ATTR_AUTHZ_RULE] = decision.rule;
    if (action) attrs[A.ATTR_AUTHZ_ACTION] = action;
    if (decision.audit) attrs[A.ATTR_AUTHZ_AUDIT] = true;
    if (decision.dryRun) attrs[A.ATTR_AUTHZ_DRY_RUN_WOULD_DENY] = decision.dryRun.wouldDeny;
    if (decision.principal) attrs[A.ATTR_PRINCIPAL_ID] = decision.principal;
    if (facts.route !== undefined) attrs[A.ATTR_HTTP_ROUTE] = facts.route;
    span.setAttributes(attrs);
    span.end();
    return decision;
  }

  return {
    get policies() {
      return state.policies;
    },
    close: () => {
      unsubscribe?.();
      stopCertificates();
      reloader?.close();
    },
    keyStatus: () => state.verifier.keyStatus(),
    mtlsMode: (port) => state.modeFor(port),
    explain: (facts) => explainRequest(facts, state.compiled, decide),
    check(facts: RequestFacts): Promise<Decision> {
      const startedAt = telemetry.start();
      const observed = (decision: Decision): Decision => {
        if (onDecision) {
          try {
            onDecision(decision, facts);
          } catch {
            // An observer must not change the outcome.
          }
        }
        return decision;
      };
      // `decide` is async (it never throws synchronously): one hop from its decision to ours.
      return decide(facts).then(observed, () => {
        // Fail closed: an unexpected error denies, never 500, and says nothing about internals.
        const span = tracer.startSpan(A.SPAN_AUTHZ_DECISION, {
          attributes: {
            [A.ATTR_AUTHZ_DECISION]: 'deny',
            [A.ATTR_AUTHZ_REASON]: 'internal_error',
            [A.ATTR_ERROR_TYPE]: 'internal_error',
          },
        });
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'internal_error' });
        const decision = internalErrorDecision();
        if (telemetry.on) telemetry.decision(decision, undefined, startedAt, facts, span);
        span.end();
        return observed(decision);
      });
    },
  };
}
