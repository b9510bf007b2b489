/**
 * `AuthorizationPolicy`, `MeshTLSAuthentication`, `NetworkAuthentication` (policy.linkerd.io/v1alpha1)
 * and the legacy `ServerAuthorization` (v1beta1).
 */
import { PolicyError } from '../../errors.js';
import { at, expectObject, index, onlyKeys, type Loc } from '../validate.js';
import {
  checkNamespace,
  checkServiceAccount,
  mapLinkerdIdentity,
  namespacePrincipal,
  serviceAccountPrincipal,
  type IdentityContext,
} from './linkerd-identity.js';
import type {
  AuthnRef,
  LinkerdAuthorizationPolicy,
  LinkerdMeshTlsAuthentication,
  LinkerdNetworkAuthentication,
  LinkerdServerAuthorization,
} from './linkerd-model.js';
import {
  validateLabelSelector,
  validateNetworks,
  validateRef,
  type Meta,
} from './linkerd-validate.js';

const POLICY = ['policy.linkerd.io'];
const CORE = ['', 'core'];
const GATEWAY = ['policy.linkerd.io', 'gateway.networking.k8s.io'];

function list(raw: unknown, loc: Loc): unknown[] {
  if (!Array.isArray(raw)) throw new PolicyError('ERR_POLICY_FIELD', 'must be a list', loc);
  return raw;
}

function identities(raw: unknown, loc: Loc, ctx: IdentityContext): string[] {
  return list(raw, loc).map((id, i) => {
    if (typeof id !== 'string' || id === '')
      throw new PolicyError('ERR_POLICY_VALUE', 'expected a non-empty string', index(loc, i));
    return mapLinkerdIdentity(id, ctx, index(loc, i));
  });
}

export function validateAuthorizationPolicy(
  doc: Record<string, unknown>,
  meta: Meta,
  loc: Loc,
): LinkerdAuthorizationPolicy {
  const sloc = at(loc, 'spec');
  const spec = expectObject(doc['spec'], sloc);
  onlyKeys(spec, ['targetRef', 'requiredAuthenticationRefs'], sloc);
  const tloc = at(sloc, 'targetRef');
  const t = validateRef(
    spec['targetRef'],
    tloc,
    { Server: POLICY, HTTPRoute: GATEWAY, Namespace: CORE },
    ['group', 'kind', 'name'],
  );
  if (t.name === undefined)
    throw new PolicyError('ERR_POLICY_VALUE', 'name is required', at(tloc, 'name'));
  if (t.kind === 'Namespace' && t.name !== meta.namespace)
    throw new PolicyError(
      'ERR_POLICY_VALUE',
      'a Namespace target must be the policy namespace',
      at(tloc, 'name'),
    );
  const rloc = at(sloc, 'requiredAuthenticationRefs');
  const authns: AuthnRef[] = list(spec['requiredAuthenticationRefs'] ?? [], rloc).map((r, i) => {
    const ref = validateRef(r, index(rloc, i), {
      MeshTLSAuthentication: POLICY,
      NetworkAuthentication: POLICY,
      ServiceAccount: CORE,
    });
    if (ref.name === undefined)
      throw new PolicyError('ERR_POLICY_VALUE', 'name is required', at(index(rloc, i), 'name'));
    return {
      kind: ref.kind as AuthnRef['kind'],
      name: ref.name,
      namespace: ref.namespace ?? meta.namespace,
    };
  });
  // Linkerd's controller ignores (and its admission webhook rejects) a policy with more than one
  // identity authentication or more than one NetworkAuthentication: refuse rather than guess.
  const ids = authns.filter((a) => a.kind !== 'NetworkAuthentication').length;
  const nets = authns.length - ids;
  if (ids > 1 || nets > 1)
    throw new PolicyError(
      'ERR_POLICY_VALUE',
      'Linkerd allows at most one MeshTLSAuthentication or ServiceAccount and at most one NetworkAuthentication per policy',
      rloc,
    );
  return {
    kind: 'AuthorizationPolicy',
    ...meta,
    target: { kind: t.kind as LinkerdAuthorizationPolicy['target']['kind'], name: t.name },
    authns,
  };
}

export function validateMeshTlsAuthentication(
  doc: Record<string, unknown>,
  meta: Meta,
  loc: Loc,
  ctx: IdentityContext,
): LinkerdMeshTlsAuthentication {
  const sloc = at(loc, 'spec');
  const spec = expectObject(doc['spec'], sloc);
  onlyKeys(spec, ['identities', 'identityRefs'], sloc);
  const principals = identities(spec['identities'] ?? [], at(sloc, 'identities'), ctx);
  const rloc = at(sloc, 'identityRefs');
  list(spec['identityRefs'] ?? [], rloc).forEach((r, i) => {
    const iloc = index(rloc, i);
    const ref = validateRef(r, iloc, { ServiceAccount: CORE, Namespace: CORE });
    if (ref.kind === 'Namespace') {
      if (ref.name === undefined)
        throw new PolicyError('ERR_POLICY_VALUE', 'name is required', at(iloc, 'name'));
      principals.push(
        namespacePrincipal(ctx.trustDomain, checkNamespace(ref.name, at(iloc, 'name'))),
      );
      return;
    }
    const ns = checkNamespace(ref.namespace ?? meta.namespace, at(iloc, 'namespace'));
    // No name: every ServiceAccount of the namespace.
    principals.push(
      ref.name === undefined
        ? namespacePrincipal(ctx.trustDomain, ns)
        : serviceAccountPrincipal(
            ctx.trustDomain,
            ns,
            checkServiceAccount(ref.name, at(iloc, 'name')),
          ),
    );
  });
  if (principals.length === 0)
    throw new PolicyError('ERR_POLICY_VALUE', 'identities or identityRefs is required', sloc);
  return { kind: 'MeshTLSAuthentication', ...meta, principals };
}

export function validateNetworkAuthentication(
  doc: Record<string, unknown>,
  meta: Meta,
  loc: Loc,
): LinkerdNetworkAuthentication {
  const sloc = at(loc, 'spec');
  const spec = expectObject(doc['spec'], sloc);
  onlyKeys(spec, ['networks'], sloc);
  return {
    kind: 'NetworkAuthentication',
    ...meta,
    networks: validateNetworks(spec['networks'], at(sloc, 'networks')),
  };
}

export function validateServerAuthorization(
  doc: Record<string, unknown>,
  meta: Meta,
  loc: Loc,
  ctx: IdentityContext,
): LinkerdServerAuthorization {
  const sloc = at(loc, 'spec');
  const spec = expectObject(doc['spec'], sloc);
  onlyKeys(spec, ['server', 'client'], sloc);
  const srvLoc = at(sloc, 'server');
  const srv = expectObject(spec['server'], srvLoc);
  onlyKeys(srv, ['name', 'selector'], srvLoc);
  if ((srv['name'] === undefined) === (srv['selector'] === undefined))
    throw new PolicyError(
      'ERR_POLICY_VALUE',
      'exactly one of name or selector is required',
      srvLoc,
    );
  if (srv['name'] !== undefined && (typeof srv['name'] !== 'string' || srv['name'] === ''))
    throw new PolicyError('ERR_POLICY_VALUE', 'must be a non-empty string', at(srvLoc, 'name'));
  const srvName = srv['name'];
  const server =
    typeof srvName === 'string'
      ? { name: srvName }
      : { selector: validateLabelSelector(srv['selector'], at(srvLoc, 'selector')) };

  const cloc = at(sloc, 'client');
  const client = expectObject(spec['client'], cloc);
  onlyKeys(client, ['meshTLS', 'unauthenticated', 'networks'], cloc);
  const networks =
    client['networks'] === undefined
      ? []
      : validateNetworks(client['networks'], at(cloc, 'networks'));
  const unauth = client['unauthenticated'] ?? false;
  if (typeof unauth !== 'boolean')
    throw new PolicyError('ERR_POLICY_VALUE', 'must be a boolean', at(cloc, 'unauthenticated'));
  if (unauth === (client['meshTLS'] !== undefined))
    throw new PolicyError(
      'ERR_POLICY_VALUE',
      'exactly one of meshTLS or unauthenticated: true is required',
      cloc,
    );
  if (unauth) return { kind: 'ServerAuthorization', ...meta, server, networks };

  const mloc = at(cloc, 'meshTLS');
  const mtls = expectObject(client['meshTLS'], mloc);
  onlyKeys(mtls, ['identities', 'serviceAccounts', 'unauthenticatedTLS'], mloc);
  if (mtls['unauthenticatedTLS'] === true)
    throw new PolicyError(
      'ERR_POLICY_UNSUPPORTED',
      'unauthenticatedTLS (TLS without a client identity) has no meshless equivalent: a peer either presents a verified SVID or is plaintext',
      at(mloc, 'unauthenticatedTLS'),
    );
  const principals = identities(mtls['identities'] ?? [], at(mloc, 'identities'), ctx);
  const saLoc = at(mloc, 'serviceAccounts');
  list(mtls['serviceAccounts'] ?? [], saLoc).forEach((s, i) => {
    const aloc = index(saLoc, i);
    const sa = expectObject(s, aloc);
    onlyKeys(sa, ['name', 'namespace'], aloc);
    if (typeof sa['name'] !== 'string')
      throw new PolicyError('ERR_POLICY_VALUE', 'name is required', at(aloc, 'name'));
    const ns = sa['namespace'] ?? meta.namespace;
    if (typeof ns !== 'string')
      throw new PolicyError('ERR_POLICY_VALUE', 'must be a string', at(aloc, 'namespace'));
    principals.push(
      serviceAccountPrincipal(
        ctx.trustDomain,
        checkNamespace(ns, at(aloc, 'namespace')),
        checkServiceAccount(sa['name'], at(aloc, 'name')),
      ),
    );
  });
  if (principals.length === 0)
    throw new PolicyError('ERR_POLICY_VALUE', 'the authorization authorizes no clients', mloc);
  return { kind: 'ServerAuthorization', ...meta, server, principals, networks };
}
