import { decodeJwt, type JSONWebKeySet, type JWTPayload } from 'jose';
import { MeshlessError } from '../errors.js';
import { parseSpiffeId, parseTrustDomain, type SpiffeId } from '../identity/spiffe-id.js';
import { WorkloadApiError } from './errors.js';
import type { JwtSvidMessage, ProtoStruct, ProtoValue } from './proto.js';

/**
 * A JWT-SVID as the agent issued it. The token is not verified here (the agent is trusted, as in
 * go-spiffe's `ParseInsecure`); receivers verify it against the JWT bundle.
 */
export interface JwtSvid {
  /** The SPIFFE ID, from the `sub` claim. */
  readonly id: SpiffeId;
  /** The JWS compact serialization, for an `Authorization: Bearer` header. */
  readonly token: string;
  /** The `aud` claim as a list. */
  readonly audience: readonly string[];
  /** The `exp` claim. */
  readonly expiresAt: Date;
  /** Every claim of the payload. */
  readonly claims: Readonly<JWTPayload>;
  /** Workload API hint, when the agent sent one. */
  readonly hint?: string;
}

/** The JWT signing keys of one trust domain (a JWKS document). */
export interface JwtBundle {
  readonly trustDomain: string;
  /** Use with jose's `createLocalJWKSet(bundle.jwks)`. */
  readonly jwks: JSONWebKeySet;
}

/** JWT bundles by trust domain name. Every update is the full state. */
export type JwtBundleSet = ReadonlyMap<string, JwtBundle>;

function invalid(message: string, cause?: unknown): never {
  throw new WorkloadApiError(
    'ERR_WORKLOAD_API_INVALID_RESPONSE',
    message,
    cause === undefined ? undefined : { cause },
  );
}

function reason(error: unknown): string {
  return error instanceof MeshlessError ? error.code : 'parse error';
}

/**
 * Parses one `JWTSVID` message: the `sub` claim must be a valid SPIFFE ID equal to `spiffe_id`,
 * and `exp` and `aud` must be present.
 *
 * @throws {WorkloadApiError} `ERR_WORKLOAD_API_INVALID_RESPONSE`.
 */
export function parseJwtSvid(message: JwtSvidMessage): JwtSvid {
  let claims: JWTPayload;
  try {
    claims = decodeJwt(message.svid);
  } catch (cause) {
    return invalid('JWTSVID is not a JWT', cause);
  }
  let id: SpiffeId;
  try {
    id = parseSpiffeId(claims.sub ?? '');
  } catch (cause) {
    return invalid(`JWT-SVID sub claim is not a SPIFFE ID (${reason(cause)})`, cause);
  }
  if (message.spiffe_id !== '' && message.spiffe_id !== id.toString())
    invalid(`JWT-SVID sub claim does not match spiffe_id ${message.spiffe_id}`);
  if (typeof claims.exp !== 'number') invalid('JWT-SVID has no exp claim');
  const aud = claims.aud;
  const audience = typeof aud === 'string' ? [aud] : (aud ?? []);
  if (audience.length === 0) invalid('JWT-SVID has no aud claim');
  return {
    id,
    token: message.svid,
    audience,
    expiresAt: new Date(claims.exp * 1000),
    claims: Object.freeze(claims),
    ...(message.hint === '' ? {} : { hint: message.hint }),
  };
}

/**
 * Parses `JWTBundlesResponse.bundles`: JWKS JSON documents keyed by trust domain ID.
 *
 * @throws {WorkloadApiError} `ERR_WORKLOAD_API_INVALID_RESPONSE`.
 */
export function parseJwtBundles(bundles: Record<string, Uint8Array>): Map<string, JwtBundle> {
  const map = new Map<string, JwtBundle>();
  for (const [key, bytes] of Object.entries(bundles)) {
    let trustDomain: string;
    try {
      trustDomain = parseTrustDomain(key).name;
    } catch (cause) {
      return invalid(`JWT bundle key is not a trust domain (${reason(cause)})`, cause);
    }
    let jwks: unknown;
    try {
      jwks = JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch (cause) {
      return invalid(`JWT bundle of ${trustDomain} is not JSON`, cause);
    }
    const keys = (jwks as { keys?: unknown } | null)?.keys;
    if (
      typeof jwks !== 'object' ||
      !Array.isArray(keys) ||
      keys.some((k) => typeof k !== 'object' || k === null)
    )
      invalid(`JWT bundle of ${trustDomain} is not a JWKS document`);
    map.set(trustDomain, { trustDomain, jwks: jwks as JSONWebKeySet });
  }
  return map;
}

function valueToJson(value: ProtoValue | undefined): unknown {
  if (value === undefined) return null;
  switch (value.kind) {
    case 'numberValue':
      return value.numberValue ?? 0;
    case 'stringValue':
      return value.stringValue ?? '';
    case 'boolValue':
      return value.boolValue ?? false;
    case 'structValue':
      return structToJson(value.structValue);
    case 'listValue':
      return (value.listValue?.values ?? []).map(valueToJson);
    default:
      return null;
  }
}

/** Converts a decoded `google.protobuf.Struct` to plain JSON. */
export function structToJson(struct: ProtoStruct | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(struct?.fields ?? {})) out[key] = valueToJson(value);
  return out;
}
