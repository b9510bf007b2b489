import type { PeerIdentityResolver, PeerResult } from '../identity/peer-identity.js';
import { parseLastXfccElement } from '../identity/xfcc.js';
import { parsePemCertificates } from '../tls/trust-bundles.js';
import type { RequestFacts } from './request-facts.js';

/** The header a front proxy (Envoy) forwards its client's certificate in. */
export const FORWARDED_CLIENT_CERT_HEADER = 'x-forwarded-client-cert';

/** Front proxies whose `x-forwarded-client-cert` is believed. */
export interface TrustedProxies {
  /** Exact SPIFFE IDs of proxies, verified over mTLS like any peer. */
  principals?: string[];
  /** Socket addresses of proxies (`::ffff:` is unwrapped). Prefer `principals`: addresses can be spoofed on shared networks. */
  addresses?: string[];
}

function unwrapIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

const fail = (detail: string): PeerResult => ({
  kind: 'fail',
  reason: 'mtls_svid_invalid',
  detail,
  cached: false,
});

/**
 * The client identity forwarded by a trusted front proxy, verified like a directly presented
 * certificate (SVID rules and the trust-domain bundle). Returns undefined when there is no
 * forwarded certificate or the direct peer is not a trusted proxy: the header is then ignored
 * (and the adapters remove it, so the application cannot be fooled by it either).
 */
export function resolveForwardedPeer(
  facts: RequestFacts,
  direct: PeerResult,
  proxies: TrustedProxies,
  resolver: PeerIdentityResolver,
): PeerResult | undefined {
  const header = facts.headers[FORWARDED_CLIENT_CERT_HEADER];
  if (header === undefined) return undefined;
  const trusted =
    (direct.kind === 'ok' && (proxies.principals ?? []).includes(direct.identity.id)) ||
    (proxies.addresses ?? []).includes(unwrapIp(facts.sourceIp));
  if (!trusted) return undefined;
  if (Array.isArray(header) || typeof header !== 'string')
    return fail('more than one x-forwarded-client-cert header');
  let pem: string | undefined;
  try {
    const element = parseLastXfccElement(header);
    pem = element.chain ?? element.cert;
  } catch {
    return fail('malformed x-forwarded-client-cert');
  }
  if (pem === undefined) return fail('x-forwarded-client-cert carries no certificate');
  let certs;
  try {
    certs = parsePemCertificates(pem);
  } catch {
    return fail('x-forwarded-client-cert holds an invalid certificate');
  }
  const [leaf, ...intermediates] = certs;
  if (!leaf) return fail('x-forwarded-client-cert holds no certificate');
  return resolver.resolve({ peerCertificate: leaf, peerIntermediates: intermediates });
}
