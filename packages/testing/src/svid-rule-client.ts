/** Sending one request of the X.509-SVID rule suite. */
import { mtlsRequest, type MtlsRequestOptions } from './mtls-request.js';
import type { ClientCredentials } from './svid-rule-pki.js';

/** What a request of the suite observed. */
export type SvidRuleOutcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly body: { reason?: string; detail?: string; principal?: string };
    }
  | { readonly kind: 'refused'; readonly error: Error };

/**
 * Sends `GET path` to `base` with the client credentials (none when undefined), trusting the
 * server's root. A TLS or network error is returned as `refused`.
 */
export async function sendSvidRuleRequest(
  base: string,
  serverRootPem: string,
  client: ClientCredentials | undefined,
  options: { path?: string; agent?: MtlsRequestOptions['agent'] } = {},
): Promise<SvidRuleOutcome> {
  try {
    const res = await mtlsRequest(base, {
      path: options.path ?? '/',
      ca: serverRootPem,
      ...(client ? { cert: client.cert, key: client.key } : {}),
      ...(options.agent ? { agent: options.agent } : {}),
    });
    let body: { reason?: string; detail?: string; principal?: string };
    try {
      body = res.json();
    } catch {
      body = { detail: res.text };
    }
    return { kind: 'response', status: res.status, body };
  } catch (error) {
    return { kind: 'refused', error: error as Error };
  }
}
