import { parseAllDocuments } from 'yaml';
import { PolicyError } from '../../errors.js';
import type { PolicySet } from '../model.js';
import { at, expectObject, onlyKeys, type Loc } from '../validate.js';
import { checkNamespace, type IdentityContext } from './linkerd-identity.js';
import type { LinkerdImportOptions, LinkerdResource } from './linkerd-model.js';
import { translateLinkerd } from './linkerd-translate.js';
import {
  validateAuthorizationPolicy,
  validateMeshTlsAuthentication,
  validateNetworkAuthentication,
  validateServerAuthorization,
} from './linkerd-validate-authz.js';
import { validateHttpRoute } from './linkerd-validate-route.js';
import {
  DOCUMENT_FIELDS,
  validateDefaultPolicy,
  validateMeta,
  validateNetworks,
  validateServer,
  type Meta,
} from './linkerd-validate.js';

/** apiVersions each kind is read from. */
const KINDS: Record<string, readonly string[]> = {
  Server: ['policy.linkerd.io/v1beta1', 'policy.linkerd.io/v1beta2', 'policy.linkerd.io/v1beta3'],
  HTTPRoute: [
    'policy.linkerd.io/v1beta1',
    'policy.linkerd.io/v1beta2',
    'policy.linkerd.io/v1beta3',
    'gateway.networking.k8s.io/v1',
    'gateway.networking.k8s.io/v1beta1',
  ],
  AuthorizationPolicy: ['policy.linkerd.io/v1alpha1'],
  MeshTLSAuthentication: ['policy.linkerd.io/v1alpha1'],
  NetworkAuthentication: ['policy.linkerd.io/v1alpha1'],
  ServerAuthorization: ['policy.linkerd.io/v1beta1'],
};

/** True for a document this importer reads (used to tell Linkerd input from Istio input). */
export function isLinkerdDocument(doc: unknown): boolean {
  if (typeof doc !== 'object' || doc === null) return false;
  const { apiVersion, kind } = doc as Record<string, unknown>;
  return typeof kind === 'string' && (KINDS[kind]?.includes(String(apiVersion)) ?? false);
}

function parseYaml(text: string, file: string | undefined): unknown[] {
  return parseAllDocuments(text).map((d, i) => {
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

function validateDocument(
  raw: unknown,
  loc: Loc,
  defaultNs: string,
  ctx: IdentityContext,
): LinkerdResource {
  const doc = expectObject(raw, loc);
  onlyKeys(doc, DOCUMENT_FIELDS, loc);
  const kind = doc['kind'];
  const versions = typeof kind === 'string' ? KINDS[kind] : undefined;
  if (typeof kind !== 'string' || versions === undefined)
    throw new PolicyError('ERR_POLICY_KIND', `unsupported kind "${String(kind)}"`, at(loc, 'kind'));
  const apiVersion = String(doc['apiVersion']);
  if (!versions.includes(apiVersion))
    throw new PolicyError(
      'ERR_POLICY_KIND',
      `${kind} apiVersion must be one of ${versions.join(', ')}`,
      at(loc, 'apiVersion'),
    );
  const meta = validateMeta(doc, loc, defaultNs);
  checkNamespace(meta.namespace, at(loc, 'metadata.namespace'));
  try {
    return validateKind(kind, doc, apiVersion, meta, loc, ctx);
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
    // Name the Linkerd resource in front of the message; the location stays as it was.
    const suffix = new PolicyError(e.code, '', e.location).message;
    const text = e.message.endsWith(suffix) ? e.message.slice(0, -suffix.length) : e.message;
    throw new PolicyError(e.code, `${meta.origin.label}: ${text}`, e.location);
  }
}

function validateKind(
  kind: string,
  doc: Record<string, unknown>,
  apiVersion: string,
  meta: Meta,
  loc: Loc,
  ctx: IdentityContext,
): LinkerdResource {
  switch (kind) {
    case 'Server':
      return validateServer(doc, apiVersion.slice(apiVersion.indexOf('/') + 1), meta, loc);
    case 'HTTPRoute':
      return validateHttpRoute(doc, meta, loc);
    case 'AuthorizationPolicy':
      return validateAuthorizationPolicy(doc, meta, loc);
    case 'MeshTLSAuthentication':
      return validateMeshTlsAuthentication(doc, meta, loc, ctx);
    case 'NetworkAuthentication':
      return validateNetworkAuthentication(doc, meta, loc);
    default:
      return validateServerAuthorization(doc, meta, loc, ctx);
  }
}

/**
 * Compiles Linkerd policy resources (`Server`, `HTTPRoute`, `AuthorizationPolicy`,
 * `MeshTLSAuthentication`, `NetworkAuthentication`, legacy `ServerAuthorization`) into meshless
 * AuthorizationPolicies for one workload, reproducing Linkerd's decision under meshless's Istio
 * evaluation. The workload's labels pick the Servers that apply; ports no Server selects follow
 * `defaultPolicy`. Linkerd identities `<sa>.<ns>.serviceaccount.identity.linkerd.cluster.local`
 * become principals `spiffe://<trustDomain>/ns/<ns>/sa/<sa>`.
 *
 * Anything meshless cannot evaluate exactly (RegularExpression paths, query-parameter matches,
 * `unauthenticatedTLS`, overlapping routes with different authorizations, …) is refused.
 *
 * @throws {PolicyError} naming the file, document index, field path and the Linkerd resource.
 * @example
 * ```ts
 * const set = importLinkerdPolicies(fs.readFileSync('linkerd-policy.yaml', 'utf8'), {
 *   workload: { namespace: 'booksapp', labels: { app: 'authors' }, ports: { service: 7001 } },
 *   trustDomain: 'cluster.local',
 *   defaultPolicy: 'all-unauthenticated',
 * });
 * ```
 */
export function importLinkerdPolicies(
  input: string | object | (string | object)[],
  options: LinkerdImportOptions,
): PolicySet {
  const file = options.file;
  const base: Loc = file ? { file } : {};
  const ns = checkNamespace(options.workload.namespace, {
    ...base,
    field: 'options.workload.namespace',
  });
  if (
    typeof options.trustDomain !== 'string' ||
    options.trustDomain === '' ||
    options.trustDomain.includes('/')
  )
    throw new PolicyError('ERR_POLICY_VALUE', 'trustDomain must be a trust domain name', {
      field: 'options.trustDomain',
    });
  const defaultPolicy = validateDefaultPolicy(options.defaultPolicy ?? 'all-unauthenticated', {
    field: 'options.defaultPolicy',
  });
  const clusterNetworks = options.clusterNetworks
    ? validateNetworks(
        options.clusterNetworks.map((cidr) => ({ cidr })),
        { field: 'options.clusterNetworks' },
      ).map((n) => n.cidr)
    : undefined;
  const ctx: IdentityContext = {
    trustDomain: options.trustDomain,
    identityDomain: options.identityDomain ?? 'identity.linkerd.cluster.local',
  };
  const inputs: readonly (string | object)[] = Array.isArray(input)
    ? (input as readonly (string | object)[])
    : [input];
  const raw = inputs.flatMap((item) =>
    typeof item === 'string' ? parseYaml(item, file) : [item as unknown],
  );
  const resources: LinkerdResource[] = [];
  raw.forEach((doc, i) => {
    if (doc === null || doc === undefined) return; // empty YAML document
    resources.push(validateDocument(doc, { ...base, document: i }, ns, ctx));
  });
  const authorizationPolicies = translateLinkerd(resources, {
    namespace: ns,
    labels: options.workload.labels ?? {},
    ports: options.workload.ports ?? {},
    trustDomain: options.trustDomain,
    defaultPolicy,
    ...(clusterNetworks && { clusterNetworks }),
  });
  return { authorizationPolicies, requestAuthentications: [], peerAuthentications: [] };
}
