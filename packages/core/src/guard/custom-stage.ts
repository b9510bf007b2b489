/** The CUSTOM authorization stage (Istio ext_authz): after peer authentication, before the token. */
import { SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api';
import { ConfigError } from '../errors.js';
import type { AuthzAttributes, CompiledPolicy } from '../policy/compile-policy.js';
import * as A from '../telemetry/attributes.js';
import type { Decision } from './decision.js';
import type { CustomProvider } from './options.js';
import type { RequestFacts } from './request-facts.js';

/** A CUSTOM verdict that ends the request, with the span `finalize` completes (on provider errors). */
export interface CustomDenial {
  decision: Decision;
  span?: Span;
}

export type CustomStage = (
  facts: RequestFacts,
  attrs: AuthzAttributes,
) => Promise<CustomDenial | undefined>;

/**
 * Prepares the CUSTOM stage from the applicable compiled policies. Dry-run CUSTOM policies are
 * ignored (Istio has no shadow ext_authz): they call nothing and report nothing.
 *
 * @throws {ConfigError} when an enforced CUSTOM policy names an unregistered provider, or when
 * two different providers apply (Istio allows one ext_authz provider per workload).
 */
export function createCustomStage(
  compiled: readonly CompiledPolicy[],
  providers: Readonly<Record<string, CustomProvider>> | undefined,
  tracer: Tracer,
): CustomStage | undefined {
  const custom = compiled.filter((p) => p.action === 'CUSTOM' && !p.dryRun);
  if (custom.length === 0) return undefined;
  const names = new Set(custom.map((p) => p.provider as string));
  if (names.size > 1)
    throw new ConfigError(
      `CUSTOM policies name several providers (${[...names].join(', ')}): only one applies per workload`,
    );
  const name = [...names][0] as string;
  const provider = providers && Object.hasOwn(providers, name) ? providers[name] : undefined;
  if (typeof provider !== 'function')
    throw new ConfigError(
      `CUSTOM policy ${custom[0]?.name ?? ''} names provider "${name}", which is not in customProviders`,
    );
  const call = provider;

  return async (facts, attrs) => {
    // Istio builds one ext_authz matcher from all CUSTOM policies: the provider is asked once,
    // when any of them matches; the first matching policy and rule are reported.
    let policy: string | undefined;
    let rule = -1;
    for (const p of custom) {
      rule = p.rules.findIndex((r) => r(attrs));
      if (rule >= 0) {
        policy = p.name;
        break;
      }
    }
    if (policy === undefined) return undefined;
    let allowed: boolean;
    try {
      allowed = (await call(facts)) === true;
    } catch {
      // Fail closed; the provider's error message never reaches the response or the span.
      const span = tracer.startSpan(A.SPAN_AUTHZ_DECISION, {
        attributes: { [A.ATTR_ERROR_TYPE]: 'custom_provider_error' },
      });
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'custom_provider_error' });
      return {
        decision: {
          allow: false,
          status: 503,
          reason: 'authz_custom_error',
          detail: 'the authorization provider failed',
          policy,
          rule,
        },
        span,
      };
    }
    if (allowed) return undefined;
    return {
      decision: {
        allow: false,
        status: 403,
        reason: 'authz_custom_deny',
        detail: 'denied by the authorization provider',
        policy,
        rule,
      },
    };
  };
}
