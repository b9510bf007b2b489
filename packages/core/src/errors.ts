import type { BundleErrorCode, SvidErrorCode } from './sources/source-errors.js';
import type { JwksFetchErrorCode } from './jwt/jwks-errors.js';
import type { TokenSourceErrorCode } from './outbound/errors.js';
import type { ServerIdentityErrorCode } from './tls/server-identity.js';
import type { WorkloadApiErrorCode } from './workload-api/errors.js';
/**
 * Typed errors with stable codes. Match on `code`, never on `message`: codes are the contract,
 * messages may change. Messages never contain tokens, keys, certificates or claim values.
 *
 * Errors are branded with `Symbol.for(...)` so `instanceof` still works when two copies of
 * `@meshless/core` are installed.
 */

const kBrands = Symbol.for('@meshless/core.error.brands');

/** Every stable error code `@meshless/core` throws. */
export type MeshlessErrorCode =
  | SpiffeIdErrorCode
  | PolicyErrorCode
  | ConfigErrorCode
  | SvidErrorCode
  | BundleErrorCode
  | WorkloadApiErrorCode
  | ServerIdentityErrorCode
  | TokenSourceErrorCode
  | JwksFetchErrorCode
  | 'ERR_KEYS_UNAVAILABLE';

/**
 * Base class of every error thrown by meshless. `instanceof` works for it and every subclass even
 * when two copies of `@meshless/core` are installed: instances carry the names of their class
 * chain under a `Symbol.for` key, and the checks compare names.
 */
export class MeshlessError extends Error {
  /** Stable, documented error code (see docs/errors.md). */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
    const brands: string[] = [];
    for (
      let c: unknown = new.target;
      typeof c === 'function' && c !== Error;
      c = Object.getPrototypeOf(c)
    )
      brands.push((c as { name: string }).name);
    Object.defineProperty(this, kBrands, { value: brands });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    const brands = (value as { [kBrands]?: unknown })[kBrands];
    return Array.isArray(brands) ? brands.includes(this.name) : false;
  }
}

/** Why a string is not a valid SPIFFE ID. */
export type SpiffeIdErrorCode =
  | 'ERR_SPIFFE_ID_EMPTY'
  | 'ERR_SPIFFE_ID_TOO_LONG'
  | 'ERR_SPIFFE_ID_SCHEME'
  | 'ERR_SPIFFE_ID_TRUST_DOMAIN_MISSING'
  | 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHAR'
  | 'ERR_SPIFFE_ID_TRUST_DOMAIN_TOO_LONG'
  | 'ERR_SPIFFE_ID_PATH_EMPTY_SEGMENT'
  | 'ERR_SPIFFE_ID_PATH_DOT_SEGMENT'
  | 'ERR_SPIFFE_ID_PATH_CHAR'
  | 'ERR_SPIFFE_ID_TRAILING_SLASH';

/** Thrown by {@link parseSpiffeId} and {@link parseTrustDomain}. */
export class SpiffeIdError extends MeshlessError {
  declare readonly code: SpiffeIdErrorCode;
  constructor(code: SpiffeIdErrorCode, message: string) {
    super(code, message);
  }
}

/** Why a policy document was refused at load. */
export type PolicyErrorCode =
  | 'ERR_POLICY_PARSE'
  | 'ERR_POLICY_FILE'
  | 'ERR_POLICY_KIND'
  | 'ERR_POLICY_FIELD'
  | 'ERR_POLICY_VALUE'
  | 'ERR_POLICY_UNSUPPORTED';

/** Where in the input a policy error is. */
export interface PolicyErrorLocation {
  /** File path, when the policies came from a file. */
  file?: string;
  /** Zero-based index of the YAML document (or array element). */
  document?: number;
  /** Dotted field path inside the document, e.g. `spec.rules[0].from[0].source.principals`. */
  field?: string;
}

/** Thrown by {@link loadPolicies}: names the file, document index and field path. */
export class PolicyError extends MeshlessError {
  declare readonly code: PolicyErrorCode;
  readonly location: PolicyErrorLocation;
  constructor(code: PolicyErrorCode, message: string, location: PolicyErrorLocation = {}) {
    const where = [
      location.file,
      location.document === undefined ? undefined : `document ${location.document}`,
      location.field,
    ]
      .filter((p) => p !== undefined)
      .join(', ');
    super(code, where ? `${message} (${where})` : message);
    this.location = location;
  }
}

/** Invalid {@link GuardOptions}. */
export type ConfigErrorCode = 'ERR_CONFIG_INVALID';

/** Thrown by {@link createGuard} when its options cannot work. */
export class ConfigError extends MeshlessError {
  declare readonly code: ConfigErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CONFIG_INVALID', message, options);
  }
}
