import { parseAllDocuments } from 'yaml';
import { PolicyError } from '../errors.js';
import { validateJwtRule } from './jwt-rule.js';
import { validateRule } from './authz-rule.js';
import { validatePeerAuthentication } from './peer-authentication.js';
import {
  at,
  expectObject,
  onlyKeys,
  validateMetadata,
  validateSelector,
  type Loc,
} from './validate.js';
import type {
  AuthorizationPolicy,
  PeerAuthentication,
  PolicyDocument,
  PolicySet,
  RequestAuthentication,
  RuleSpec,
} from './model.js';

/** Top-level fields of a Kubernetes object; `status` (from `kubectl get -o yaml`) is ignored. */
const DOCUMENT_FIELDS = ['apiVersion', 'kind', 'metadata', 'spec', 'status'];
const API_VERSIONS = new Set(['security.istio.io/v1', 'security.istio.io/v1beta1']);
/** `targetRef` / `targetRefs` attach a policy to a gateway, waypoint or Service, not to a workload. */
function targetRefsOf(spec: Record<string, unknown>, loc: Loc): unknown[] | undefined {
  if (spec['targetRef'] !== undefined && spec['targetRefs'] !== undefined)
    throw new PolicyError(
      'ERR_POLICY_VALUE',
      'only one of targetRef or targetRefs can be set',
      loc,
    );
  if (spec['targetRef'] === undefined && spec['targetRefs'] === undefined) return undefined;
  if (spec['selector'] !== undefined)
    throw new PolicyError(
      'ERR_POLICY_VALUE',
      'selector and targetRef(s) cannot both be set',
      at(loc, 'selector'),
    );
  if (spec['targetRef'] !== undefined)
    return [expectObject(spec['targetRef'], at(loc, 'targetRef'))];
  if (!Array.isArray(spec['targetRefs']) || spec['targetRefs'].length === 0)
    throw new PolicyError(
      'ERR_POLICY_VALUE',
      'targetRefs must be a non-empty list',
      at(loc, 'targetRefs'),
    );
  return spec['targetRefs'].map((r, i) => expectObject(r, at(loc, `targetRefs[${i}]`)));
}

function validateProvider(raw: unknown, loc: Loc): { name: string } {
  if (raw === undefined)
    throw new PolicyError('ERR_POLICY_VALUE', 'a CUSTOM policy needs provider.name', loc);
  const obj = expectObject(raw, loc);
  onlyKeys(obj, ['name'], loc);
  if (typeof obj['name'] !== 'string' || obj['name'] === '')
    throw new PolicyError('ERR_POLICY_VALUE', 'provider.name is required', at(loc, 'name'));
  return { name: obj['name'] };
}

/** CUSTOM runs before JWT validation: Istio refuses request principals and `request.auth.*` keys. */
function checkCustomRule(rule: RuleSpec, loc: Loc): void {
  rule.from?.forEach((f, i) => {
    for (const k of ['requestPrincipals', 'notRequestPrincipals'] as const)
      if (f.source[k])
        throw new PolicyError(
          'ERR_POLICY_VALUE',
          `${k} is not allowed with action CUSTOM`,
          at(loc, `from[${i}].source.${k}`),
        );
  });
  rule.when?.forEach((c, i) => {
    if (c.key.startsWith('request.auth.'))
      throw new PolicyError(
        'ERR_POLICY_VALUE',
        `${c.key} is not allowed with action CUSTOM`,
        at(loc, `when[${i}].key`),
      );
  });
}

function validateAuthorizationPolicy(doc: Record<string, unknown>, loc: Loc): AuthorizationPolicy {
  const spec = expectObject(doc['spec'] ?? {}, at(loc, 'spec'));
  const sloc = at(loc, 'spec');
  onlyKeys(spec, ['selector', 'action', 'rules', 'targetRef', 'targetRefs', 'provider'], sloc);
  const action = spec['action'] ?? 'ALLOW';
  if (action !== 'ALLOW' && action !== 'DENY' && action !== 'AUDIT' && action !== 'CUSTOM')
    throw new PolicyError(
      'ERR_POLICY_VALUE',
      'action must be ALLOW, DENY, AUDIT or CUSTOM',
      at(sloc, 'action'),
    );
  const out: AuthorizationPolicy = {
    kind: 'AuthorizationPolicy',
    metadata: validateMetadata(doc['metadata'], at(loc, 'metadata')),
    spec: { action },
  };
  if (spec['selector'] !== undefined)
    out.spec.selector = validateSelector(spec['selector'], at(sloc, 'selector'));
  const targetRefs = targetRefsOf(spec, sloc);
  if (targetRefs) out.spec.targetRefs = targetRefs;
  if (spec['rules'] !== undefined) {
    if (!Array.isArray(spec['rules']))
      throw new PolicyError('ERR_POLICY_FIELD', 'rules must be a list', at(sloc, 'rules'));
    out.spec.rules = spec['rules'].map((r, i) => validateRule(r, at(sloc, `rules[${i}]`)));
  }
  if ((action === 'DENY' || action === 'CUSTOM') && (out.spec.rules ?? []).length === 0)
    throw new PolicyError(
      'ERR_POLICY_VALUE',
      `a ${action} policy needs at least one rule`,
      at(sloc, 'rules'),
    );
  if (action === 'CUSTOM') {
    out.spec.provider = validateProvider(spec['provider'], at(sloc, 'provider'));
    (out.spec.rules ?? []).forEach((r, i) => checkCustomRule(r, at(sloc, `rules[${i}]`)));
  } else if (spec['provider'] !== undefined)
    throw new PolicyError(
      'ERR_POLICY_VALUE',
      'provider can only be set with action CUSTOM',
      at(sloc, 'provider'),
    );
  return out;
}

function validateRequestAuthentication(
  doc: Record<string, unknown>,
  loc: Loc,
): RequestAuthentication {
  const spec = expectObject(doc['spec'] ?? {}, at(loc, 'spec'));
  const sloc = at(loc, 'spec');
  onlyKeys(spec, ['selector', 'jwtRules', 'targetRef', 'targetRefs'], sloc);
  const out: RequestAuthentication = {
    kind: 'RequestAuthentication',
    metadata: validateMetadata(doc['metadata'], at(loc, 'metadata')),
    spec: {},
  };
  if (spec['selector'] !== undefined)
    out.spec.selector = validateSelector(spec['selector'], at(sloc, 'selector'));
  const targetRefs = targetRefsOf(spec, sloc);
  if (targetRefs) out.spec.targetRefs = targetRefs;
  if (spec['jwtRules'] !== undefined) {
    if (!Array.isArray(spec['jwtRules']))
      throw new PolicyError('ERR_POLICY_FIELD', 'jwtRules must be a list', at(sloc, 'jwtRules'));
    out.spec.jwtRules = spec['jwtRules'].map((raw, i) =>
      validateJwtRule(raw, at(sloc, `jwtRules[${i}]`)),
    );
  }
  return out;
}

function validateDocument(raw: unknown, loc: Loc): PolicyDocument {
  const doc = expectObject(raw, loc);
  onlyKeys(doc, DOCUMENT_FIELDS, loc);
  if (typeof doc['apiVersion'] !== 'string' || !API_VERSIONS.has(doc['apiVersion']))
    throw new PolicyError(
      'ERR_POLICY_KIND',
      'apiVersion must be security.istio.io/v1 or v1beta1',
      at(loc, 'apiVersion'),
    );
  switch (doc['kind']) {
    case 'AuthorizationPolicy':
      return validateAuthorizationPolicy(doc, loc);
    case 'RequestAuthentication':
      return validateRequestAuthentication(doc, loc);
    case 'PeerAuthentication':
      return validatePeerAuthentication(doc, loc);
    default:
      throw new PolicyError(
        'ERR_POLICY_KIND',
        `unsupported kind "${String(doc['kind'])}"`,
        at(loc, 'kind'),
      );
  }
}

function parseYaml(text: string, file?: string): unknown[] {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return [];
  return docs.map((d, i) => {
    if (d.errors.length > 0)
      throw new PolicyError(
        'ERR_POLICY_PARSE',
        `invalid YAML: ${d.errors[0]?.code ?? 'syntax error'}`,
        {
          ...(file ? { file } : {}),
          document: i,
        },
      );
    return d.toJS() as unknown;
  });
}

/**
 * Loads Istio `AuthorizationPolicy`, `RequestAuthentication` and `PeerAuthentication` documents from YAML text
 * (multi-document) or from objects, and validates them as Istio does. Fields meshless cannot
 * evaluate yet are refused, never silently ignored.
 *
 * @throws {PolicyError} naming the file, document index and field path.
 * @example
 * ```ts
 * const set = loadPolicies(fs.readFileSync('policies.yaml', 'utf8'));
 * ```
 */
export function loadPolicies(
  source: string | object | object[],
  options: { file?: string } = {},
): PolicySet {
  const raw =
    typeof source === 'string'
      ? parseYaml(source, options.file)
      : Array.isArray(source)
        ? source
        : [source];
  const authorizationPolicies: AuthorizationPolicy[] = [];
  const requestAuthentications: RequestAuthentication[] = [];
  const peerAuthentications: PeerAuthentication[] = [];
  raw.forEach((doc, i) => {
    if (doc === null || doc === undefined) return; // empty YAML document (`---` at the end)
    const parsed = validateDocument(doc, {
      ...(options.file ? { file: options.file } : {}),
      document: i,
    });
    if (parsed.kind === 'AuthorizationPolicy') authorizationPolicies.push(parsed);
    else if (parsed.kind === 'RequestAuthentication') requestAuthentications.push(parsed);
    else peerAuthentications.push(parsed);
  });
  return { authorizationPolicies, requestAuthentications, peerAuthentications };
}

/** Merges several policy sets (e.g. one per file). */
export function mergePolicySets(sets: readonly PolicySet[]): PolicySet {
  return {
    authorizationPolicies: sets.flatMap((s) => s.authorizationPolicies),
    requestAuthentications: sets.flatMap((s) => s.requestAuthentications),
    peerAuthentications: sets.flatMap((s) => s.peerAuthentications ?? []),
  };
}
