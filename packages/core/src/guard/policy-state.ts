import type { Tracer } from '@opentelemetry/api';
import { ConfigError } from '../errors.js';
import { JwtVerifier } from '../jwt/jwt-verifier.js';
import { isAllowedKeyUrl } from '../jwt/key-url.js';
import {
  compilePolicy,
  type CompileContext,
  type CompiledPolicy,
} from '../policy/compile-policy.js';
import type { PolicySet } from '../policy/model.js';
import {
  composePeerAuthentication,
  peerModeByPort,
  type EffectiveMtlsMode,
} from '../policy/peer-authentication.js';
import { appliesTo, type WorkloadScope } from '../policy/scope.js';
import type { GuardTelemetry } from '../telemetry/guard-telemetry.js';
import { ASYMMETRIC_ALGORITHMS, validateIssuerConfig } from './config-checks.js';
import { createCustomStage } from './custom-stage.js';
import type { GuardOptions, MtlsMode } from './options.js';
import { emitLintWarnings, lintWorkloadPolicies } from './policy-lint.js';
import { createTokenStage, type TokenStageRule } from './token-stage.js';

/** What a guard needs to turn a policy set into its per-request state. */
export interface PolicyEnv {
  readonly options: GuardOptions;
  readonly scope: WorkloadScope;
  readonly defaultMode: MtlsMode;
  readonly compileCtx: CompileContext;
  readonly tracer: Tracer;
  /** Metrics and log events (and the JWKS fetch spans). */
  readonly telemetry?: GuardTelemetry;
}

/**
 * Everything a guard derives from its policy documents, built at once so that a reload swaps it
 * whole: a request runs against one state from start to end.
 */
export interface PolicyState {
  readonly policies: PolicySet;
  readonly compiled: readonly CompiledPolicy[];
  readonly modeFor: (port: number | undefined) => EffectiveMtlsMode;
  readonly verifier: JwtVerifier;
  readonly tokenStage: ReturnType<typeof createTokenStage>;
  readonly customStage: ReturnType<typeof createCustomStage>;
}

/**
 * Composes PeerAuthentication, lints (reported once per build), compiles the AuthorizationPolicies
 * and builds the token verifier of the RequestAuthentications that apply to the workload.
 *
 * @throws {ConfigError} for an invalid token issuer or algorithm.
 */
export async function buildPolicyState(policies: PolicySet, env: PolicyEnv): Promise<PolicyState> {
  const { options, scope, tracer } = env;
  // `mtls.mode` is the top-level default (Istio's is PERMISSIVE).
  const composed = composePeerAuthentication(
    policies.peerAuthentications ?? [],
    scope,
    env.defaultMode,
  );
  // Istio's traps are evaluated faithfully, and reported, here (spec §11).
  (options.onPolicyLint ?? emitLintWarnings)(lintWorkloadPolicies(policies, scope, composed));
  const compiled = policies.authorizationPolicies
    .filter((p) => appliesTo(p, scope))
    .map((p) => compilePolicy(p, env.compileCtx));

  const issuers: TokenStageRule[] = [
    ...policies.requestAuthentications
      .filter((r) => appliesTo(r, scope))
      // Istio puts no limit on a token's lifetime: rules from policy files keep that (the 24 h
      // default of code-configured rules would refuse tokens Istio accepts).
      .flatMap((r) =>
        (r.spec.jwtRules ?? []).map((rule) => ({ maxLifetimeSec: Infinity, ...rule })),
      ),
    ...(options.jwt?.issuers ?? []),
  ];
  const allowInsecureHttp = options.jwt?.allowInsecureHttp === true;
  issuers.forEach((config, i) => {
    // JWT-SVID and Kubernetes rules are validated by the verifier; OIDC rules here, before any I/O.
    if (config?.kind === undefined || config.kind === 'oidc')
      validateIssuerConfig(
        config,
        `token issuer ${i} (${String(config?.issuer)})`,
        allowInsecureHttp,
      );
    else if (
      config.kind === 'kubernetes' &&
      config.jwksUri !== undefined &&
      !isAllowedKeyUrl(config.jwksUri, allowInsecureHttp)
    )
      throw new ConfigError(
        `token issuer ${i}: jwksUri must be an https URL (http only to loopback, or set jwt.allowInsecureHttp)`,
      );
  });
  for (const alg of options.jwt?.algorithms ?? []) {
    if (!ASYMMETRIC_ALGORITHMS.has(alg))
      throw new ConfigError(`jwt.algorithms: ${String(alg)} is not an asymmetric JWS algorithm`);
  }
  const verifier = new JwtVerifier({
    issuers,
    ...(options.jwt?.clockToleranceSec !== undefined
      ? { clockToleranceSec: options.jwt.clockToleranceSec }
      : {}),
    ...(options.jwt?.algorithms ? { algorithms: options.jwt.algorithms } : {}),
    ...(options.jwt?.fetch ? { fetch: options.jwt.fetch } : {}),
    allowInsecureHttp,
    ...(options.jwt?.keyStore || env.telemetry
      ? { keyStore: { ...options.jwt?.keyStore, telemetry: env.telemetry?.jwks } }
      : {}),
  });
  if (options.jwt?.prefetch === true) await verifier.prefetch();
  return {
    policies,
    compiled,
    modeFor: peerModeByPort(composed),
    verifier,
    tokenStage: createTokenStage(issuers, verifier, tracer, env.telemetry),
    customStage: createCustomStage(compiled, options.customProviders, tracer),
  };
}
