import {
  createTestCa,
  DEFAULT_OIDC_CLIENT,
  mtlsRequest,
  startOidcProvider,
  type OidcProviderHarness,
  type Svid,
  type TestCa,
} from '@meshless/testing';
import type { GuardOptions } from '@meshless/core';
import type { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { fromReadableSpan, spanForest, type SpanNode, type TreeSpan } from '../src/span-tree.js';

export const TRUST_DOMAIN = 'example.org';
export const IDS = {
  checkout: `spiffe://${TRUST_DOMAIN}/ns/shop/sa/checkout`,
  frontend: `spiffe://${TRUST_DOMAIN}/ns/web/sa/frontend`,
};
const AUDIENCE = 'https://inventory.shop';

/** A test CA, SVIDs for the server and two callers, and an in-process OpenID Provider. */
export interface Fixture {
  ca: TestCa;
  server: Svid;
  checkout: Svid;
  frontend: Svid;
  op: OidcProviderHarness;
  getToken(): Promise<string>;
  /** Guard options: checkout may GET /items/*, with or without a token; everyone else is denied. */
  guard: GuardOptions;
}

export async function createFixture(): Promise<Fixture> {
  const ca = await createTestCa({ trustDomain: TRUST_DOMAIN });
  const [server, checkout, frontend] = await Promise.all([
    ca.issueSvid({
      spiffeId: `spiffe://${TRUST_DOMAIN}/ns/shop/sa/inventory`,
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    }),
    ca.issueSvid({ spiffeId: IDS.checkout }),
    ca.issueSvid({ spiffeId: IDS.frontend }),
  ]);
  const op = await startOidcProvider({ ca, audience: AUDIENCE });
  return {
    ca,
    server,
    checkout,
    frontend,
    op: op,
    getToken: () => op.getToken(DEFAULT_OIDC_CLIENT),
    guard: {
      workload: { namespace: 'shop', labels: { app: 'inventory' }, trustDomain: TRUST_DOMAIN },
      trustBundles: { [TRUST_DOMAIN]: ca.rootPem },
      jwt: { fetch: op.fetch },
      policies: [
        {
          apiVersion: 'security.istio.io/v1',
          kind: 'RequestAuthentication',
          metadata: { name: 'shop-jwt', namespace: 'shop' },
          spec: { jwtRules: [{ issuer: op.issuer, audiences: [AUDIENCE] }] },
        },
        {
          apiVersion: 'security.istio.io/v1',
          kind: 'AuthorizationPolicy',
          metadata: { name: 'inventory-allow-checkout', namespace: 'shop' },
          spec: {
            selector: { matchLabels: { app: 'inventory' } },
            action: 'ALLOW',
            rules: [
              {
                from: [{ source: { principals: [`${TRUST_DOMAIN}/ns/shop/sa/checkout`] } }],
                to: [{ operation: { methods: ['GET'], paths: ['/items/*'] } }],
              },
            ],
          },
        },
      ],
    },
  };
}

/**
 * The span trees of the calls made to `port` so far (then forgets all spans). The SERVER span
 * ends when the server's response finishes, which can be just after the client got the response:
 * wait until `count` SERVER spans for `port` are there.
 */
export async function takeTrees(
  exporter: InMemorySpanExporter,
  port: number,
  count = 1,
): Promise<SpanNode<TreeSpan & { sdk: ReadableSpan }>[]> {
  const ours = () =>
    spanForest(exporter.getFinishedSpans().map(fromReadableSpan)).filter(
      (r) => r.span.kind === 'SERVER' && r.span.attributes['server.port'] === port,
    );
  for (let i = 0; i < 100 && ours().length < count; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const roots = ours();
  exporter.reset();
  return roots;
}

/** Makes one call with a token, so the issuer's keys are cached before the asserted calls. */
export async function warmUpJwks(fx: Fixture, url: string): Promise<void> {
  const res = await mtlsRequest(`${url}/items/0`, {
    ca: fx.ca.rootPem,
    cert: fx.checkout.chainPem,
    key: fx.checkout.keyPem,
    headers: { authorization: `Bearer ${await fx.getToken()}` },
  });
  if (res.status !== 200) throw new Error(`warm-up call answered ${res.status}`);
}
