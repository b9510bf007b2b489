/**
 * Lint rules for AuthorizationPolicy. Each rule cites where the trap is documented:
 * istio-semantics.md (the spec meshless implements) and Istio "Security Best Practices"
 * (https://istio.io/latest/docs/ops/best-practices/security/, "BP" below).
 */
import type { LintContext, LintEmit } from './lint.js';
import {
  hasLiteralWildcard,
  hasLiteralWildcardInRequestPrincipal,
  hasSpiffeScheme,
  isUncoveredExactHost,
  namespaceWidePrincipal,
} from './lint-values.js';
import type {
  AuthorizationAction,
  AuthorizationPolicy,
  ConditionSpec,
  OperationSpec,
  RuleSpec,
  SourceSpec,
} from './model.js';
import { isPathTemplate } from './string-match.js';

/** Source fields compared with the peer certificate's identity (istio-semantics.md §4). */
const PEER_ID_FIELDS = [
  'principals',
  'notPrincipals',
  'namespaces',
  'notNamespaces',
  'serviceAccounts',
  'notServiceAccounts',
] as const;
/** `when` keys that read the mTLS connection (Istio "Authorization Policy Conditions"). */
const MTLS_KEYS = new Set(['source.principal', 'source.namespace', 'connection.sni']);

interface Walk {
  action: AuthorizationAction;
  context: LintContext;
  emit: LintEmit;
}

const q = (v: string): string => JSON.stringify(v);

function literalWildcard(w: Walk, path: string, value: string, requestPrincipal = false): void {
  // istio-semantics.md §4: "A middle `*` is a literal ... lint it"; §11 item 7.
  const literal = requestPrincipal
    ? hasLiteralWildcardInRequestPrincipal(value)
    : hasLiteralWildcard(value);
  const hint = /\.(not)?[pP]aths\[/.test(path)
    ? 'use a path template such as "/api/{*}/admin"'
    : `use a prefix or suffix match${requestPrincipal ? ' on the issuer or subject' : ''}`;
  if (literal)
    w.emit(
      'lint_middle_wildcard',
      'warning',
      path,
      `${q(value)} holds a "*" that Istio compares literally (only a leading or a trailing "*" is a wildcard), so it almost never matches; ${hint}, or list the values.`,
    );
}

function principal(w: Walk, path: string, value: string, positive: boolean): void {
  // istio-semantics.md §5: "A policy value that already has `spiffe://` never matches".
  if (hasSpiffeScheme(value))
    w.emit(
      'lint_spiffe_scheme',
      'warning',
      path,
      `${q(value)} starts with "spiffe://", but Istio principals are written without the scheme, so it never matches; drop the "spiffe://" prefix.`,
    );
  literalWildcard(w, path, value);
  // §11 item 7: "namespace-wide principals where a service account is meant".
  const ns = namespaceWidePrincipal(value);
  if (positive && w.action === 'ALLOW' && ns !== undefined)
    w.emit(
      'lint_namespace_wide_principal',
      'warning',
      path,
      `${q(value)} admits every service account in namespace ${ns}, including ones created later; name the service account (serviceAccounts: ["${ns}/<sa>"] or an exact principal), or write namespaces: [${q(ns)}] if the whole namespace is meant.`,
    );
}

function mtlsOnly(w: Walk, path: string, field: string): void {
  // istio-semantics.md §3 and §9 (ISTIO-SECURITY-2021-004: "warn unless STRICT"); BP "Mutual TLS".
  const mode = w.context.mtlsMode;
  if (mode === undefined || mode === 'STRICT') return;
  const who = mode === 'DISABLE' ? 'no peer has one' : 'plaintext peers have none';
  w.emit(
    'lint_mtls_field_without_strict',
    'warning',
    path,
    `${field} needs a peer identity but the effective mTLS mode is ${mode}, so ${who}: positive matches miss them (a DENY is bypassed) and not-matches include them; set PeerAuthentication to STRICT.`,
  );
}

function notFieldInAllow(w: Walk, path: string, field: string, missing: string, fix: string): void {
  // istio-semantics.md §3: missing attributes make every notX true (ISTIO-SECURITY-2021-004).
  w.emit(
    'lint_not_field_allow',
    'warning',
    path,
    `In an ALLOW policy ${field} is also true for requests with ${missing}, so those are allowed; ${fix}.`,
  );
}

function lintSource(w: Walk, base: string, s: SourceSpec): void {
  for (const f of ['principals', 'notPrincipals'] as const)
    s[f]?.forEach((v, k) => principal(w, `${base}.${f}[${k}]`, v, f === 'principals'));
  for (const f of ['requestPrincipals', 'notRequestPrincipals'] as const)
    s[f]?.forEach((v, k) => literalWildcard(w, `${base}.${f}[${k}]`, v, true));
  for (const f of PEER_ID_FIELDS) if (s[f]) mtlsOnly(w, `${base}.${f}`, f);
  if (w.action !== 'ALLOW') return;
  const hasPeerId = Boolean(s.principals ?? s.namespaces ?? s.serviceAccounts);
  if (!hasPeerId && w.context.mtlsMode !== 'STRICT')
    for (const f of ['notPrincipals', 'notNamespaces', 'notServiceAccounts'] as const)
      if (s[f])
        notFieldInAllow(
          w,
          `${base}.${f}`,
          f,
          'no peer identity (plaintext)',
          'add principals: ["*"] to the same source to require mTLS, or enforce STRICT mTLS',
        );
  if (s.notRequestPrincipals && !s.requestPrincipals)
    notFieldInAllow(
      w,
      `${base}.notRequestPrincipals`,
      'notRequestPrincipals',
      'no token',
      'add requestPrincipals: ["*"] to the same source to require a valid token',
    );
}

function lintOperation(w: Walk, base: string, o: OperationSpec): void {
  for (const f of ['hosts', 'notHosts', 'methods', 'notMethods'] as const)
    o[f]?.forEach((v, k) => literalWildcard(w, `${base}.${f}[${k}]`, v));
  for (const f of ['paths', 'notPaths'] as const)
    o[f]?.forEach((v, k) => {
      if (!isPathTemplate(v)) literalWildcard(w, `${base}.${f}[${k}]`, v);
    });
  // istio-semantics.md §4 hosts row and §9 "2021-008": Host carries the port; BP "host match".
  const hostField = w.action === 'DENY' ? 'hosts' : w.action === 'ALLOW' ? 'notHosts' : undefined;
  const hosts = hostField ? o[hostField] : undefined;
  hosts?.forEach((v, k) => {
    if (isUncoveredExactHost(v, hosts))
      w.emit(
        'lint_exact_host',
        'warning',
        `${base}.${hostField}[${k}]`,
        `Host ${q(v)} matches only without a port, and the Host header may carry one (${q(`${v}:443`)}), which escapes this ${w.action}; also list ${q(`${v}:*`)}${w.action === 'DENY' ? ', or prefer an ALLOW policy with positive hosts' : ''}.`,
      );
  });
  // istio-semantics.md §6 (paths are exact and case-sensitive; "lint DENY-with-paths"); BP "Use
  // ALLOW-with-positive-matching and DENY-with-negative-match patterns".
  if (w.action === 'DENY' && o.paths && !o.paths.every((p) => p === '*'))
    w.emit(
      'lint_deny_paths',
      'warning',
      `${base}.paths`,
      `A DENY on paths is bypassed by any spelling of the path it does not list (case, encoding, a trailing slash) that the application still routes; prefer an ALLOW policy with paths, or a DENY with notPaths.`,
    );
  if (w.action === 'ALLOW' && o.notPaths)
    w.emit(
      'lint_allow_not_paths',
      'warning',
      `${base}.notPaths`,
      `An ALLOW with notPaths allows any spelling of the excluded paths it does not list (case, encoding, a trailing slash); list the allowed paths instead, or deny the excluded ones with a separate policy.`,
    );
}

function lintCondition(w: Walk, base: string, c: ConditionSpec): void {
  for (const f of ['values', 'notValues'] as const)
    c[f]?.forEach((v, k) => {
      const path = `${base}.${f}[${k}]`;
      if (c.key === 'source.principal') principal(w, path, v, f === 'values');
      else if (c.key === 'request.auth.principal') literalWildcard(w, path, v, true);
      // source.namespace: each `*` is a regex `.*` anywhere (§4); IPs and ports have no `*`.
      else if (!/^(source|remote|destination)\.(ip|namespace|port)$/.test(c.key))
        literalWildcard(w, path, v);
    });
  if (MTLS_KEYS.has(c.key)) mtlsOnly(w, `${base}.key`, c.key);
  if (w.action !== 'ALLOW' || !c.notValues || c.values) return;
  const peer = c.key === 'source.principal' || c.key === 'source.namespace';
  if (peer && w.context.mtlsMode === 'STRICT') return;
  const missing = peer
    ? 'no peer identity (plaintext)'
    : c.key.startsWith('request.auth.')
      ? 'no token (or no such claim)'
      : c.key.startsWith('request.headers')
        ? 'no such header'
        : c.key === 'connection.sni'
          ? 'no SNI'
          : undefined;
  if (missing)
    notFieldInAllow(
      w,
      `${base}.notValues`,
      `notValues on ${c.key}`,
      missing,
      'add values: ["*"] to the same condition to require the attribute',
    );
}

function isEmptyRule(r: RuleSpec): boolean {
  return r.from === undefined && r.to === undefined && (r.when ?? []).length === 0;
}

/** Lints one AuthorizationPolicy. */
export function lintAuthorizationPolicy(
  policy: AuthorizationPolicy,
  context: LintContext,
  emit: LintEmit,
): void {
  const action = policy.spec.action ?? 'ALLOW';
  const w: Walk = { action, context, emit };
  const rules = policy.spec.rules ?? [];
  // istio-semantics.md §2: absent/[] rules never match; BP "Use default-deny patterns".
  if (rules.length === 0) {
    if (action === 'ALLOW')
      emit(
        'lint_no_rules',
        'info',
        'spec.rules',
        'An ALLOW policy without rules matches nothing, so it denies every request to the selected workloads (allow-nothing); this is right only if default-deny is intended.',
      );
    else
      emit(
        'lint_no_rules',
        'warning',
        'spec.rules',
        `A ${action} policy without rules never matches, so it has no effect; add a rule (rules: [{}] matches every request).`,
      );
  }
  rules.forEach((rule, i) => {
    const base = `spec.rules[${i}]`;
    // istio-semantics.md §2: `rules: [{}]` always matches; §11 item 7 "allow-all rules".
    if (action === 'ALLOW' && isEmptyRule(rule))
      emit(
        'lint_allow_all',
        'warning',
        base,
        'This empty rule matches every request, so the ALLOW policy admits anyone, plaintext and unauthenticated peers included; add from, to or when constraints, or delete the policy.',
      );
    rule.from?.forEach((f, j) => lintSource(w, `${base}.from[${j}].source`, f.source));
    rule.to?.forEach((t, j) => lintOperation(w, `${base}.to[${j}].operation`, t.operation));
    rule.when?.forEach((c, j) => lintCondition(w, `${base}.when[${j}]`, c));
  });
}
