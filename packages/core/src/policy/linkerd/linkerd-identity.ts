/**
 * Linkerd identities → meshless principals.
 *
 * Linkerd names a meshed client `<sa>.<ns>.serviceaccount.<identityDomain>` (default identity
 * domain `identity.linkerd.cluster.local`). meshless peers carry `spiffe://<trustDomain>/ns/<ns>/sa/<sa>`.
 * The importer maps the first onto the second, assuming both meshes name the same service account
 * the same way and that the Linkerd identity domain stands for meshless's `trustDomain`.
 */
import { PolicyError } from '../../errors.js';
import type { Loc } from '../validate.js';

/** A namespace is a DNS label. */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A service account name is a DNS subdomain (dots allowed). */
const SERVICE_ACCOUNT = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export interface IdentityContext {
  trustDomain: string;
  identityDomain: string;
}

export function checkNamespace(ns: string, loc: Loc): string {
  if (!NAMESPACE.test(ns))
    throw new PolicyError('ERR_POLICY_VALUE', `"${ns}" is not a valid namespace name`, loc);
  return ns;
}

export function checkServiceAccount(sa: string, loc: Loc): string {
  if (!SERVICE_ACCOUNT.test(sa))
    throw new PolicyError('ERR_POLICY_VALUE', `"${sa}" is not a valid service account name`, loc);
  return sa;
}

/** The meshless principal of one service account: `<td>/ns/<ns>/sa/<sa>` (Istio principal form). */
export function serviceAccountPrincipal(td: string, ns: string, sa: string): string {
  return `${td}/ns/${ns}/sa/${sa}`;
}

/** Every service account of a namespace: a principal prefix. */
export function namespacePrincipal(td: string, ns: string): string {
  return `${td}/ns/${ns}/sa/*`;
}

/**
 * Maps one Linkerd identity (as in `MeshTLSAuthentication.spec.identities` or
 * `ServerAuthorization.spec.client.meshTLS.identities`) to a meshless principal:
 *
 * - `*` → `*` (any authenticated peer);
 * - `<sa>.<ns>.serviceaccount.<identityDomain>` → `<td>/ns/<ns>/sa/<sa>`;
 * - `*.<ns>.serviceaccount.<identityDomain>` → `<td>/ns/<ns>/sa/*` (any service account of `<ns>`);
 * - `*.serviceaccount.<identityDomain>` or `*.<identityDomain>` → `<td>/ns/*` (any identity of the mesh).
 *
 * Anything else (another identity domain, a suffix cutting through a name) has no exact
 * equivalent and is refused.
 */
export function mapLinkerdIdentity(id: string, ctx: IdentityContext, loc: Loc): string {
  if (id === '*') return '*';
  const td = ctx.trustDomain;
  const saSuffix = `.serviceaccount.${ctx.identityDomain}`;
  if (id.startsWith('*.')) {
    const rest = id.slice(2);
    if (rest === ctx.identityDomain || `.${rest}` === saSuffix) return `${td}/ns/*`;
    if (`.${rest}`.endsWith(saSuffix)) {
      const ns = `.${rest}`.slice(1, -saSuffix.length);
      if (NAMESPACE.test(ns)) return namespacePrincipal(td, ns);
    }
    throw new PolicyError(
      'ERR_POLICY_UNSUPPORTED',
      `identity "${id}": only "*", "*.<ns>${saSuffix}" and "*${saSuffix}" wildcards map exactly to SPIFFE IDs`,
      loc,
    );
  }
  if (id.endsWith(saSuffix)) {
    const name = id.slice(0, -saSuffix.length);
    const dot = name.lastIndexOf('.');
    const sa = name.slice(0, Math.max(dot, 0));
    const ns = name.slice(dot + 1);
    if (dot > 0 && NAMESPACE.test(ns) && SERVICE_ACCOUNT.test(sa))
      return serviceAccountPrincipal(td, ns, sa);
  }
  throw new PolicyError(
    'ERR_POLICY_UNSUPPORTED',
    `identity "${id}" is not "<sa>.<ns>${saSuffix}": it has no SPIFFE equivalent in trust domain "${td}"`,
    loc,
  );
}
