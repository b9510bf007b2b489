import {
  createLocalJWKSet,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { ConfigError } from '../errors.js';
import { parseSpiffeId, parseTrustDomain, type SpiffeId } from '../identity/spiffe-id.js';
import type { TokenFailure } from './jwt-verifier.js';
import type { JwtRuleOptions } from './token-profile.js';

/**
 * A JSON Web Key Set, or a getter for the current one (e.g. `() => bundles.get(td)?.jwks` over
 * the Workload API's JWT bundles). A getter that returns nothing or throws makes the keys
 * unavailable (503 `jwks_unavailable`). Return a new object when the set changes: keys are
 * imported once per object.
 */
export type JwksInput =
  JSONWebKeySet | (() => JSONWebKeySet | undefined | Promise<JSONWebKeySet | undefined>);

/**
 * JWT-SVIDs of one trust domain (SPIFFE JWT-SVID spec), verified against its JWT bundle.
 *
 * Issuer selection: a token **with** `iss` is matched by exact `iss` like any other token, so it
 * reaches this rule only when `issuer` is set to that value (SPIRE's `jwt_issuer`). A token
 * **without** `iss` is matched by the trust domain of its `sub`, and reaches only rules without
 * `issuer`.
 */
export interface JwtSvidRule extends Omit<JwtRuleOptions, 'profile'> {
  kind: 'jwt-svid';
  /** Trust domain name (`example.org`) or ID (`spiffe://example.org`); `sub` must belong to it. */
  trustDomain: string;
  /** The trust domain's JWT bundle. Keys with `use: "x509-svid"` are ignored. */
  jwks: JwksInput;
  /** Accepted `aud` values (required: a JWT-SVID is always audience-restricted). */
  audiences: string[];
  /** The `iss` the SPIRE server sets, if it sets one. */
  issuer?: string;
}

/** Kubernetes projected service-account tokens of one cluster. */
export interface KubernetesTokenRule extends Omit<JwtRuleOptions, 'profile'> {
  kind: 'kubernetes';
  /** The cluster's service-account issuer (`--service-account-issuer`), compared exactly. */
  issuer: string;
  /** The cluster's JWKS URL. Without it or `jwks`, OIDC discovery at the issuer finds it. */
  jwksUri?: string;
  /** Inline keys (`kubectl get --raw /openid/v1/jwks`), instead of `jwksUri`. */
  jwks?: JwksInput;
  /**
   * Accepted `aud` values (required: the projected volume's `audience`). Never list the API
   * server's own audience: such tokens are valid for a year and meant for the API server.
   */
  audiences: string[];
}

/** The workload a verified workload token names. */
export type TokenWorkload =
  | { readonly kind: 'spiffe'; readonly id: string; readonly trustDomain: string }
  | { readonly kind: 'kubernetes'; readonly namespace: string; readonly serviceAccount: string };

/** JWT-SVID spec §3: RS, ES and PS with SHA-256 to SHA-512. */
export const JWT_SVID_ALGORITHMS: readonly string[] = [
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
];

/** Thrown by a key resolver when its keys cannot be read; mapped to `jwks_unavailable`. */
export class LocalKeysUnavailableError extends Error {
  readonly code = 'ERR_KEYS_UNAVAILABLE';
}

/**
 * A jose key resolver over an inline or computed JWKS. With `jwtSvid`, keys marked
 * `use: "jwt-svid"` (SPIFFE bundle format) are used as signing keys and keys with any other
 * `use` (e.g. `x509-svid`) are dropped.
 */
export function localKeyResolver(
  input: JwksInput,
  options: { jwtSvid?: boolean } = {},
): JWTVerifyGetKey {
  const sets = new WeakMap<object, JWTVerifyGetKey>();
  return async (header, token) => {
    let jwks: JSONWebKeySet | undefined;
    try {
      jwks = typeof input === 'function' ? await input() : input;
    } catch (cause) {
      throw new LocalKeysUnavailableError('the key set could not be read', { cause });
    }
    if (typeof jwks !== 'object' || jwks === null)
      throw new LocalKeysUnavailableError('no key set is available');
    let keys = sets.get(jwks);
    if (!keys) {
      try {
        keys = createLocalJWKSet(options.jwtSvid ? svidSigningKeys(jwks) : jwks);
      } catch (cause) {
        throw new LocalKeysUnavailableError('the key set is not a JWKS document', { cause });
      }
      sets.set(jwks, keys);
    }
    return keys(header, token);
  };
}

function svidSigningKeys(jwks: JSONWebKeySet): JSONWebKeySet {
  if (!Array.isArray(jwks.keys)) return jwks; // createLocalJWKSet refuses it
  const keys: JWK[] = [];
  for (const key of jwks.keys) {
    if (typeof key !== 'object' || key === null) continue;
    if (key.use === undefined || key.use === 'sig') keys.push(key);
    else if (key.use === 'jwt-svid') {
      const { use: _use, ...rest } = key;
      keys.push(rest);
    }
  }
  return { keys };
}

/** Header rules of a JWT-SVID: `kid` present, `typ` absent or `JWT`/`JOSE`. */
export function checkJwtSvidHeader(
  header: { kid?: unknown; typ?: unknown },
  kid: string | undefined,
): TokenFailure | undefined {
  if (kid === undefined || header.kid === undefined)
    return { reason: 'jwt_invalid', detail: 'JWT-SVID has no valid kid header' };
  if (header.typ !== undefined && header.typ !== 'JWT' && header.typ !== 'JOSE')
    return { reason: 'jwt_typ_invalid', detail: 'JWT-SVID typ must be JWT or JOSE' };
  return undefined;
}

/** The SPIFFE ID in `sub`, when it is one of `trustDomain`'s workloads. */
export function jwtSvidWorkload(
  payload: JWTPayload,
  trustDomain: string,
): TokenWorkload | TokenFailure {
  let id: SpiffeId;
  try {
    id = parseSpiffeId(typeof payload.sub === 'string' ? payload.sub : '');
  } catch {
    return { reason: 'jwt_claims_invalid', detail: 'JWT-SVID sub is not a SPIFFE ID' };
  }
  if (id.trustDomain.name !== trustDomain)
    return { reason: 'jwt_claims_invalid', detail: 'JWT-SVID sub is of another trust domain' };
  if (id.isTrustDomainId)
    return { reason: 'jwt_claims_invalid', detail: 'JWT-SVID sub is a trust domain ID' };
  return Object.freeze({ kind: 'spiffe', id: id.toString(), trustDomain });
}

/** The trust domain of a `sub` that is a SPIFFE ID, else undefined. Never throws. */
export function spiffeTrustDomainOf(sub: unknown): string | undefined {
  if (typeof sub !== 'string' || !sub.startsWith('spiffe://')) return undefined;
  try {
    return parseSpiffeId(sub).trustDomain.name;
  } catch {
    return undefined;
  }
}

const DNS1123_LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const SA_PREFIX = 'system:serviceaccount:';

/**
 * Parses `system:serviceaccount:<namespace>:<name>`: a DNS-1123 label namespace and a DNS-1123
 * subdomain name (at most 253 characters), as the API server validates them.
 */
export function parseServiceAccountSubject(
  sub: unknown,
): { namespace: string; serviceAccount: string } | undefined {
  if (typeof sub !== 'string' || !sub.startsWith(SA_PREFIX)) return undefined;
  const parts = sub.slice(SA_PREFIX.length).split(':');
  if (parts.length !== 2) return undefined;
  const [namespace, serviceAccount] = parts as [string, string];
  if (!DNS1123_LABEL.test(namespace)) return undefined;
  if (serviceAccount.length > 253 || !DNS1123_SUBDOMAIN.test(serviceAccount)) return undefined;
  return { namespace, serviceAccount };
}

/**
 * The service account in `sub`. When the token also has the `kubernetes.io` claim, its
 * `namespace` and `serviceaccount.name` must agree with `sub`.
 */
export function kubernetesWorkload(payload: JWTPayload): TokenWorkload | TokenFailure {
  const parsed = parseServiceAccountSubject(payload.sub);
  if (!parsed)
    return {
      reason: 'jwt_claims_invalid',
      detail: 'sub is not system:serviceaccount:<namespace>:<name>',
    };
  const k8s = payload['kubernetes.io'];
  if (k8s !== undefined) {
    const claim = (typeof k8s === 'object' && k8s !== null ? k8s : {}) as {
      namespace?: unknown;
      serviceaccount?: { name?: unknown } | null;
    };
    if (
      claim.namespace !== parsed.namespace ||
      claim.serviceaccount?.name !== parsed.serviceAccount
    )
      return { reason: 'jwt_claims_invalid', detail: 'claim kubernetes.io does not match sub' };
  }
  return Object.freeze({ kind: 'kubernetes', ...parsed });
}

function checkAudiences(audiences: unknown, where: string): void {
  if (
    !Array.isArray(audiences) ||
    audiences.length === 0 ||
    audiences.some((a) => typeof a !== 'string' || a === '')
  )
    throw new ConfigError(`${where}.audiences must be a non-empty list of non-empty strings`);
}

function isJwksInput(value: unknown): boolean {
  if (typeof value === 'function') return true;
  return (
    typeof value === 'object' && value !== null && Array.isArray((value as { keys?: unknown }).keys)
  );
}

/**
 * Validates a JWT-SVID rule; returns its trust domain name.
 *
 * @throws {ConfigError}
 */
export function validateJwtSvidRule(rule: JwtSvidRule, where: string): string {
  let trustDomain: string;
  try {
    trustDomain = parseTrustDomain(rule.trustDomain).name;
  } catch (cause) {
    throw new ConfigError(`${where}.trustDomain is not a valid trust domain`, { cause });
  }
  if (!isJwksInput(rule.jwks))
    throw new ConfigError(`${where}.jwks must be a JSON Web Key Set or a function returning one`);
  checkAudiences(rule.audiences, where);
  if (rule.issuer !== undefined && (typeof rule.issuer !== 'string' || rule.issuer === ''))
    throw new ConfigError(`${where}.issuer must be a non-empty string when set`);
  return trustDomain;
}

/**
 * Validates a Kubernetes rule (the key URL is checked where keys are fetched).
 *
 * @throws {ConfigError}
 */
export function validateKubernetesRule(rule: KubernetesTokenRule, where: string): void {
  if (typeof rule.issuer !== 'string' || rule.issuer === '')
    throw new ConfigError(`${where}.issuer must be a non-empty string`);
  if (rule.jwks !== undefined && rule.jwksUri !== undefined)
    throw new ConfigError(`${where}: give jwks or jwksUri, not both`);
  if (rule.jwks !== undefined && !isJwksInput(rule.jwks))
    throw new ConfigError(`${where}.jwks must be a JSON Web Key Set or a function returning one`);
  checkAudiences(rule.audiences, where);
}
