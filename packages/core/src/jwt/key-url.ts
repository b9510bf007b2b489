/**
 * Whether keys may be fetched from `url`: HTTPS always; plain HTTP only to a loopback host (tests,
 * local development) or with the explicit `allowInsecureHttp` opt-in. Anyone on the path of a
 * plain-HTTP JWKS fetch could serve their own keys.
 */
export function isAllowedKeyUrl(url: string, allowInsecureHttp: boolean): boolean {
  if (!URL.canParse(url)) return false;
  const { protocol, hostname } = new URL(url);
  if (protocol === 'https:') return true;
  if (protocol !== 'http:') return false;
  return allowInsecureHttp || isLoopback(hostname);
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}
