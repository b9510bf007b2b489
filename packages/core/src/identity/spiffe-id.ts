import { SpiffeIdError } from '../errors.js';

const SCHEME = 'spiffe://';
/** SPIFFE-ID spec §2.3: a SPIFFE ID is at most 2048 bytes. */
const MAX_ID_LENGTH = 2048;
/** SPIFFE-ID spec §2.1: a trust domain name is at most 255 bytes. */
const MAX_TRUST_DOMAIN_LENGTH = 255;

/** ASCII-only character classes, compared byte-wise (no Unicode case folding). */
function isTrustDomainChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2d || // -
    c === 0x2e || // .
    c === 0x5f // _
  );
}

function isPathChar(c: number): boolean {
  return isTrustDomainChar(c) || (c >= 0x41 && c <= 0x5a); // + A-Z
}

/**
 * A SPIFFE trust domain (`example.org`). A value type: parse once, compare with `equals` or by
 * `name`.
 */
export class TrustDomain {
  /** The trust domain name, e.g. `example.org`. */
  readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }

  /** @internal Use {@link parseTrustDomain}. */
  static fromValidated(name: string): TrustDomain {
    return new TrustDomain(name);
  }

  /** The trust domain's own ID, `spiffe://<name>`. */
  get idString(): string {
    return SCHEME + this.name;
  }

  equals(other: TrustDomain): boolean {
    return this.name === other.name;
  }

  toString(): string {
    return this.name;
  }
}

/**
 * A parsed, valid SPIFFE ID. A value type: compare with `equals` or by `toString()`.
 *
 * @example
 * ```ts
 * const id = parseSpiffeId('spiffe://example.org/ns/payments/sa/checkout');
 * id.trustDomain.name; // 'example.org'
 * id.path;             // '/ns/payments/sa/checkout'
 * ```
 */
export class SpiffeId {
  readonly trustDomain: TrustDomain;
  /** The path, `''` for a trust domain's own ID, else starting with `/`. */
  readonly path: string;
  readonly #text: string;

  private constructor(trustDomain: TrustDomain, path: string) {
    this.trustDomain = trustDomain;
    this.path = path;
    this.#text = SCHEME + trustDomain.name + path;
  }

  /** @internal Use {@link parseSpiffeId}. */
  static fromValidated(trustDomain: TrustDomain, path: string): SpiffeId {
    return new SpiffeId(trustDomain, path);
  }

  /** Path segments, e.g. `['ns', 'payments', 'sa', 'checkout']`. */
  get segments(): string[] {
    return this.path === '' ? [] : this.path.slice(1).split('/');
  }

  /** True for `spiffe://td` (no path): a trust domain's ID, never a workload's. */
  get isTrustDomainId(): boolean {
    return this.path === '';
  }

  equals(other: SpiffeId): boolean {
    return this.#text === other.toString();
  }

  toString(): string {
    return this.#text;
  }

  toJSON(): string {
    return this.#text;
  }
}

function fail(code: ConstructorParameters<typeof SpiffeIdError>[0], message: string): never {
  throw new SpiffeIdError(code, message);
}

function validateTrustDomain(name: string): void {
  if (name.length === 0) fail('ERR_SPIFFE_ID_TRUST_DOMAIN_MISSING', 'trust domain is missing');
  if (name.length > MAX_TRUST_DOMAIN_LENGTH)
    fail('ERR_SPIFFE_ID_TRUST_DOMAIN_TOO_LONG', 'trust domain exceeds 255 bytes');
  for (let i = 0; i < name.length; i++) {
    if (!isTrustDomainChar(name.charCodeAt(i)))
      fail(
        'ERR_SPIFFE_ID_TRUST_DOMAIN_CHAR',
        'trust domain characters are limited to lower-case letters, numbers, dots, dashes, and underscores',
      );
  }
}

function validatePath(path: string): void {
  if (path === '') return;
  let segmentStart = 1;
  for (let i = 1; i <= path.length; i++) {
    if (i === path.length || path.charCodeAt(i) === 0x2f) {
      const segment = path.slice(segmentStart, i);
      if (segment === '') {
        if (i === path.length)
          fail('ERR_SPIFFE_ID_TRAILING_SLASH', 'path cannot have a trailing slash');
        fail('ERR_SPIFFE_ID_PATH_EMPTY_SEGMENT', 'path cannot contain empty segments');
      }
      if (segment === '.' || segment === '..')
        fail('ERR_SPIFFE_ID_PATH_DOT_SEGMENT', 'path cannot contain dot segments');
      segmentStart = i + 1;
      continue;
    }
    if (!isPathChar(path.charCodeAt(i)))
      fail(
        'ERR_SPIFFE_ID_PATH_CHAR',
        'path segment characters are limited to letters, numbers, dots, dashes, and underscores',
      );
  }
}

/**
 * Parses a SPIFFE ID strictly and byte-wise, as go-spiffe does: ASCII only, lower-case scheme and
 * trust domain (upper-case input is rejected, not normalized), no port, userinfo, query, fragment or
 * percent-encoding, no empty, `.` or `..` segments, no trailing slash, at most 2048 bytes.
 *
 * @throws {SpiffeIdError} with a stable `code` (`ERR_SPIFFE_ID_*`) naming the reason.
 * @example
 * ```ts
 * parseSpiffeId('spiffe://example.org/ns/payments/sa/checkout').trustDomain.name; // 'example.org'
 * parseSpiffeId('SPIFFE://example.org/x'); // throws ERR_SPIFFE_ID_SCHEME
 * ```
 */
export function parseSpiffeId(input: string): SpiffeId {
  if (typeof input !== 'string' || input.length === 0)
    fail('ERR_SPIFFE_ID_EMPTY', 'SPIFFE ID is empty');
  // Length is checked in UTF-8 bytes, but any non-ASCII char is rejected below anyway.
  if (input.length > MAX_ID_LENGTH) fail('ERR_SPIFFE_ID_TOO_LONG', 'SPIFFE ID exceeds 2048 bytes');
  if (!input.startsWith(SCHEME)) fail('ERR_SPIFFE_ID_SCHEME', 'scheme is missing or invalid');
  const rest = input.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  const td = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash);
  validateTrustDomain(td);
  validatePath(path);
  return SpiffeId.fromValidated(TrustDomain.fromValidated(td), path);
}

/**
 * Parses a trust domain name (`example.org`) or a trust domain ID (`spiffe://example.org`).
 *
 * @throws {SpiffeIdError}
 */
export function parseTrustDomain(input: string): TrustDomain {
  if (typeof input !== 'string' || input.length === 0)
    fail('ERR_SPIFFE_ID_TRUST_DOMAIN_MISSING', 'trust domain is missing');
  if (input.includes(':/')) {
    const id = parseSpiffeId(input);
    if (!id.isTrustDomainId) fail('ERR_SPIFFE_ID_PATH_CHAR', 'a trust domain ID has no path');
    return id.trustDomain;
  }
  validateTrustDomain(input);
  return TrustDomain.fromValidated(input);
}
