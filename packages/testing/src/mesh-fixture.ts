import { createTestCa, type Svid, type TestCa } from './ca.js';
import { startOidcProvider, type OidcProviderHarness } from './oidc-provider.js';

/** A small mesh for adapter tests: one trust domain, a server, allowed and other callers, an OP. */
export interface MeshFixture {
  readonly trustDomain: string;
  readonly ca: TestCa;
  /** A CA that also calls itself `example.org` but is not trusted. */
  readonly rogueCa: TestCa;
  readonly audience: string;
  readonly server: Svid;
  /** `spiffe://example.org/ns/payments/sa/checkout`: the caller the policies allow. */
  readonly checkout: Svid;
  /** `spiffe://example.org/ns/web/sa/frontend`: valid, but not allowed by the policies. */
  readonly frontend: Svid;
  /** Same ID as `checkout`, issued by `rogueCa`. */
  readonly rogue: Svid;
  readonly op: OidcProviderHarness;
  /** A fresh access token for the `checkout` client. */
  token(): Promise<string>;
  /** Istio policies: ALLOW checkout (with any token) to POST /charge*; DENY /admin*; RequestAuthentication for the OP. */
  policies(): object[];
  /** TLS server options (key, cert, ca, requestCert, rejectUnauthorized: false). */
  serverTls(): {
    key: string;
    cert: string;
    ca: string;
    requestCert: true;
    rejectUnauthorized: false;
  };
  close(): Promise<void>;
}

const CLIENT = { clientId: 'checkout', clientSecret: 'checkout-secret-0123456789abcdef0123456789' };

/** Builds a {@link MeshFixture}: about 50 ms of key generation plus an in-process OP. */
export async function createMeshFixture(): Promise<MeshFixture> {
  const trustDomain = 'example.org';
  const audience = 'https://payment-processor.payments';
  const ca = await createTestCa({ trustDomain });
  const rogueCa = await createTestCa({ trustDomain, name: 'CN=rogue example.org CA' });
  const [server, checkout, frontend, rogue] = await Promise.all([
    ca.issueSvid({
      spiffeId: `spiffe://${trustDomain}/ns/payments/sa/payment-processor`,
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    }),
    ca.issueSvid({ spiffeId: `spiffe://${trustDomain}/ns/payments/sa/checkout` }),
    ca.issueSvid({ spiffeId: `spiffe://${trustDomain}/ns/web/sa/frontend` }),
    rogueCa.issueSvid({ spiffeId: `spiffe://${trustDomain}/ns/payments/sa/checkout` }),
  ]);
  const op = await startOidcProvider({ ca, audience, clients: [CLIENT] });
  return {
    trustDomain,
    ca,
    rogueCa,
    audience,
    server,
    checkout,
    frontend,
    rogue,
    op,
    token: () => op.getToken(CLIENT),
    policies: () => [
      {
        apiVersion: 'security.istio.io/v1',
        kind: 'RequestAuthentication',
        metadata: { name: 'jwt', namespace: 'payments' },
        spec: { jwtRules: [{ issuer: op.issuer, audiences: [audience] }] },
      },
      {
        apiVersion: 'security.istio.io/v1',
        kind: 'AuthorizationPolicy',
        metadata: { name: 'allow-checkout', namespace: 'payments' },
        spec: {
          action: 'ALLOW',
          rules: [
            {
              from: [
                {
                  source: {
                    principals: ['cluster.local/ns/payments/sa/checkout'],
                    requestPrincipals: ['*'],
                  },
                },
              ],
              to: [{ operation: { methods: ['POST', 'GET'], paths: ['/charge', '/charge/*'] } }],
            },
          ],
        },
      },
      {
        apiVersion: 'security.istio.io/v1',
        kind: 'AuthorizationPolicy',
        metadata: { name: 'deny-admin', namespace: 'payments' },
        spec: {
          action: 'DENY',
          rules: [{ to: [{ operation: { paths: ['/admin', '/admin/*'] } }] }],
        },
      },
    ],
    serverTls: () => ({
      key: server.keyPem,
      cert: server.chainPem,
      ca: ca.rootPem,
      requestCert: true,
      rejectUnauthorized: false,
    }),
    close: () => op.close(),
  };
}
