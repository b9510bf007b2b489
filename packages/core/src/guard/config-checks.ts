import { ConfigError } from '../errors.js';
import type { JwtIssuerConfig } from '../jwt/issuer-keys.js';
import { isAllowedKeyUrl } from '../jwt/key-url.js';

/**
 * A string is policy text (YAML or JSON) when it has a newline, starts with `{`/`[`, or holds a
 * `key: value` pair; otherwise it is a file path.
 */
export function looksLikePolicyText(s: string): boolean {
  return /\n|^\s*[{[]|:\s/.test(s);
}

export const ASYMMETRIC_ALGORITHMS = new Set([
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
  'Ed25519',
]);

export function validateIssuerConfig(
  config: JwtIssuerConfig,
  where: string,
  allowInsecureHttp: boolean,
): void {
  if (typeof config?.issuer !== 'string' || config.issuer === '')
    throw new ConfigError(`${where}.issuer must be a non-empty string`);
  if (config.jwksUri !== undefined) {
    if (typeof config.jwksUri !== 'string' || !isAllowedKeyUrl(config.jwksUri, allowInsecureHttp))
      throw new ConfigError(
        `${where}.jwksUri must be an https URL (http only to loopback, or set jwt.allowInsecureHttp)`,
      );
  } else if (
    (config as { jwks?: unknown }).jwks === undefined &&
    !isAllowedKeyUrl(config.issuer, allowInsecureHttp)
  ) {
    throw new ConfigError(
      `${where}: discovery needs an https issuer (http only to loopback, or set jwt.allowInsecureHttp); or give jwksUri`,
    );
  }
  if (
    config.audiences !== undefined &&
    (!Array.isArray(config.audiences) ||
      config.audiences.some((a) => typeof a !== 'string' || a === ''))
  )
    throw new ConfigError(`${where}.audiences must be a list of non-empty strings`);
}
