import type { RequestFacts } from '../guard/request-facts.js';

/**
 * One authority per request: several `Host` headers, or a `Host` that differs from HTTP/2's
 * `:authority` (RFC 9113 §8.3.1), would let the application and the policy see different hosts.
 */
export function checkHost(facts: RequestFacts): string | undefined {
  const host = facts.headers['host'];
  if (Array.isArray(host)) return 'more than one Host header';
  const authority = facts.headers[':authority'];
  if (Array.isArray(authority)) return 'more than one :authority';
  if (
    typeof host === 'string' &&
    typeof authority === 'string' &&
    host.toLowerCase() !== authority.toLowerCase()
  )
    return 'Host differs from :authority';
  return undefined;
}
