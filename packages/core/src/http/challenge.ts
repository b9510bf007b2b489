/** RFC 6750 error codes used in `WWW-Authenticate` challenges. */
export type BearerErrorCode = 'invalid_token' | 'invalid_request' | 'insufficient_scope';

/**
 * Builds an RFC 6750 `WWW-Authenticate: Bearer` challenge. The description comes from a fixed
 * vocabulary chosen by the guard, never from the token; quotes, backslashes and control characters
 * are removed anyway.
 */
export function bearerChallenge(
  options: { realm?: string; error?: BearerErrorCode; description?: string } = {},
): string {
  const params = [`realm="${safe(options.realm ?? 'meshless')}"`];
  if (options.error) params.push(`error="${options.error}"`);
  if (options.description) params.push(`error_description="${safe(options.description)}"`);
  return `Bearer ${params.join(', ')}`;
}

function safe(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/["\\\x00-\x1f\x7f]/g, '');
}
