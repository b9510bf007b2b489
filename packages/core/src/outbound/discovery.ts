import { TokenSourceError, type TokenSourceErrorCode } from './errors.js';
import { sendWithRetry, type HttpSend, type TokenRetryOptions } from './http.js';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Parses an endpoint URL: `https:` (or `http:` to a loopback host only), no userinfo, no
 * fragment. Credentials never travel in clear text to another host.
 *
 * @internal
 */
export function checkEndpointUrl(value: string, what: string, code: TokenSourceErrorCode): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw new TokenSourceError(code, `${what} is not a URL`, { cause });
  }
  const loopbackHttp = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp)
    throw new TokenSourceError(code, `${what} must be https (http only to loopback)`);
  if (url.username !== '' || url.password !== '')
    throw new TokenSourceError(code, `${what} must not carry userinfo`);
  if (url.hash !== '') throw new TokenSourceError(code, `${what} must not have a fragment`);
  return url;
}

/** What discovery found. @internal */
export interface DiscoveredEndpoints {
  readonly tokenEndpoint: string;
  /** RFC 8705 §5 `mtls_endpoint_aliases.token_endpoint`, when the server publishes one. */
  readonly mtlsTokenEndpoint?: string;
}

function discoveryUrls(issuer: URL): string[] {
  const path = issuer.pathname.replace(/\/$/, '');
  return [
    `${issuer.origin}${path}/.well-known/openid-configuration`,
    // RFC 8414 §3: the well-known segment goes between the host and the issuer's path.
    `${issuer.origin}/.well-known/oauth-authorization-server${path}`,
  ];
}

function fail(message: string, details: { cause?: unknown; status?: number } = {}): never {
  throw new TokenSourceError('ERR_TOKEN_SOURCE_DISCOVERY', message, details);
}

/**
 * Finds the token endpoint of `issuer`: OpenID Connect discovery, then RFC 8414 authorization
 * server metadata when the first answers 404. The document's `issuer` must equal the configured
 * one exactly (mix-up defence); `token_endpoint` must be https.
 *
 * @internal
 */
export async function discoverTokenEndpoint(
  issuer: string,
  send: HttpSend,
  retry: Required<TokenRetryOptions>,
  timeoutMs: number,
): Promise<DiscoveredEndpoints> {
  const issuerUrl = checkEndpointUrl(issuer, 'issuer', 'ERR_TOKEN_SOURCE_CONFIG');
  let document: unknown;
  for (const url of discoveryUrls(issuerUrl)) {
    const answer = await sendWithRetry(
      (signal) => send(url, { headers: { accept: 'application/json' }, signal }),
      retry,
      timeoutMs,
      'ERR_TOKEN_SOURCE_DISCOVERY',
      `discovery at ${url}`,
    );
    if (answer.status === 404) continue;
    if (answer.status !== 200)
      fail(`discovery at ${url} answered HTTP ${answer.status}`, { status: answer.status });
    try {
      document = JSON.parse(answer.body);
    } catch (cause) {
      fail(`discovery document at ${url} is not JSON`, { cause });
    }
    break;
  }
  if (document === undefined) fail(`no discovery document for issuer ${issuer}`, { status: 404 });
  if (typeof document !== 'object' || document === null)
    fail('discovery document is not a JSON object');
  const meta = document as Record<string, unknown>;
  if (meta['issuer'] !== issuer)
    fail(`discovery document issuer does not equal the configured issuer ${issuer}`);
  const tokenEndpoint = meta['token_endpoint'];
  if (typeof tokenEndpoint !== 'string') fail('discovery document has no token_endpoint');
  checkEndpointUrl(tokenEndpoint, 'token_endpoint', 'ERR_TOKEN_SOURCE_DISCOVERY');
  const aliases = meta['mtls_endpoint_aliases'];
  const mtls =
    typeof aliases === 'object' && aliases !== null
      ? (aliases as Record<string, unknown>)['token_endpoint']
      : undefined;
  if (typeof mtls !== 'string') return { tokenEndpoint };
  checkEndpointUrl(mtls, 'mtls_endpoint_aliases.token_endpoint', 'ERR_TOKEN_SOURCE_DISCOVERY');
  return { tokenEndpoint, mtlsTokenEndpoint: mtls };
}
