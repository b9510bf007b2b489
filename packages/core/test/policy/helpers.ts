import type { AuthzAttributes, CompileContext } from '../../src/policy/compile-policy.js';
import type {
  AuthorizationPolicy,
  OperationSpec,
  RuleSpec,
  SourceSpec,
} from '../../src/policy/model.js';

/** The mesh the tests compile against: trust domain `example.org`, alias `old.example`. */
export const CTX: CompileContext = {
  trustDomain: 'example.org',
  trustDomainAliases: ['old.example'],
  namespace: 'payments',
};

/** A plaintext, anonymous GET / on port 8080 unless overridden. */
export function attrs(overrides: Partial<AuthzAttributes> = {}): AuthzAttributes {
  return {
    principal: undefined,
    requestIssuer: undefined,
    requestSubject: undefined,
    method: 'GET',
    path: '/',
    host: 'payments.example',
    port: 8080,
    ...overrides,
  };
}

export function policy(
  name: string,
  spec: AuthorizationPolicy['spec'],
  metadata: Partial<AuthorizationPolicy['metadata']> = {},
): AuthorizationPolicy {
  return { kind: 'AuthorizationPolicy', metadata: { name, ...metadata }, spec };
}

export const fromSource = (source: SourceSpec): RuleSpec => ({ from: [{ source }] });
export const toOperation = (operation: OperationSpec): RuleSpec => ({ to: [{ operation }] });
