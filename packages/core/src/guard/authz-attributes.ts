/** The request attributes authorization reads, built once per request from the facts and the token. */
import type { AuthzAttributes } from '../policy/compile-policy.js';
import { normalizeIp } from '../policy/ip-match.js';
import type { RequestFacts } from './request-facts.js';

/**
 * Socket addresses repeat (every request on a connection, every connection of a client): their
 * normal form is remembered, bounded. Header values (X-Forwarded-For) are not: anyone picks them.
 */
const socketAddresses = new Map<string, string | undefined>();
const MAX_SOCKET_ADDRESSES = 1024;

function normalizeSocketIp(ip: string | undefined): string | undefined {
  if (ip === undefined) return undefined;
  if (socketAddresses.has(ip)) return socketAddresses.get(ip);
  const normal = normalizeIp(ip);
  if (socketAddresses.size >= MAX_SOCKET_ADDRESSES) socketAddresses.clear();
  socketAddresses.set(ip, normal);
  return normal;
}

/** The N-th `X-Forwarded-For` entry from the right (Envoy `xff_num_trusted_hops`), else the peer. */
function forwardedClientIp(
  facts: RequestFacts,
  n: number,
  peer: string | undefined,
): string | undefined {
  const raw = facts.headers['x-forwarded-for'];
  if (raw === undefined) return peer;
  const entries = (typeof raw === 'string' ? raw : raw.join(',')).split(',');
  if (entries.length < n) return peer;
  return normalizeIp((entries[entries.length - n] as string).trim()) ?? peer;
}

/** The attributes authorization reads; without `token` (the CUSTOM stage) token attributes are missing. */
export function authzAttributes(
  facts: RequestFacts,
  path: string,
  principal: string | undefined,
  numTrustedProxies: number,
  token?: { issuer: string; subject?: string | undefined; claims: Record<string, unknown> },
): AuthzAttributes {
  const sourceIp = normalizeSocketIp(facts.sourceIp);
  return {
    principal,
    requestIssuer: token?.issuer,
    requestSubject: token?.subject,
    method: facts.method,
    path,
    host: facts.host,
    port: facts.destinationPort,
    sourceIp,
    remoteIp:
      numTrustedProxies > 0 ? forwardedClientIp(facts, numTrustedProxies, sourceIp) : sourceIp,
    destinationIp: normalizeSocketIp(facts.destinationIp),
    sni: facts.sni,
    headers: facts.headers,
    claims: token?.claims,
  };
}
