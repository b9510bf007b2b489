import { fileURLToPath } from 'node:url';
import type { Decision, GuardOptions, RequestFacts } from '@meshless/core';
import {
  createTestCa,
  mtlsRequest,
  startOidcProvider,
  type MtlsRequestOptions,
} from '@meshless/testing';
import type { TracerProvider } from '@opentelemetry/api';
import { startCheckout } from './checkout.js';
import { formatDecision } from './decision-log.js';
import { startPaymentProcessor } from './payment-processor.js';

const TRUST_DOMAIN = 'example.org';
const IDS = {
  checkout: `spiffe://${TRUST_DOMAIN}/ns/payments/sa/checkout`,
  paymentProcessor: `spiffe://${TRUST_DOMAIN}/ns/payments/sa/payment-processor`,
  frontend: `spiffe://${TRUST_DOMAIN}/ns/web/sa/frontend`,
};
const AUDIENCE = 'https://payment-processor.payments';
const policyFile = (name: string) =>
  fileURLToPath(new URL(`../policies/${name}.yaml`, import.meta.url));

/** One scenario's expected and actual outcome. */
export interface Outcome {
  name: string;
  expected: { status: number; reason?: string };
  actual: { status: number; reason?: string };
  ok: boolean;
}

/**
 * Runs the payments scenario: a test CA and an OpenID Provider start in-process, checkout
 * (Express) and payment-processor (Fastify) run behind meshless over mTLS, then one allowed call
 * chain and several denied calls are made. Every decision is reported through `log`.
 */
export async function runDemo(options: {
  log?: (line: string) => void;
  /** The tracer provider of each service (e.g. one with its own `service.name` resource). */
  tracerProviderFor?: (service: string) => TracerProvider;
  /** Called after each scenario's call returned (e.g. to print the spans it recorded). */
  afterScenario?: (outcome: Outcome) => void;
}): Promise<{ ok: boolean; outcomes: Outcome[] }> {
  const log = options.log ?? ((line: string) => console.log(line));
  const ca = await createTestCa({ trustDomain: TRUST_DOMAIN });
  const rogueCa = await createTestCa({
    trustDomain: TRUST_DOMAIN,
    name: 'CN=rogue example.org CA',
  });
  const server = { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] };
  const [checkoutSvid, processorSvid, frontendSvid, rogueSvid] = await Promise.all([
    ca.issueSvid({ spiffeId: IDS.checkout, ...server }),
    ca.issueSvid({ spiffeId: IDS.paymentProcessor, ...server }),
    ca.issueSvid({ spiffeId: IDS.frontend }),
    rogueCa.issueSvid({ spiffeId: IDS.checkout }),
  ]);
  const op = await startOidcProvider({
    ca,
    audience: AUDIENCE,
    clients: [{ clientId: 'checkout', clientSecret: 'checkout-secret-0123456789abcdef0123456789' }],
  });
  const getToken = () =>
    op.getToken({
      clientId: 'checkout',
      clientSecret: 'checkout-secret-0123456789abcdef0123456789',
    });

  const guardOptions = (
    app: string,
    policies: NonNullable<GuardOptions['policies']>,
  ): GuardOptions => ({
    workload: { namespace: 'payments', labels: { app }, trustDomain: TRUST_DOMAIN },
    trustBundles: { [TRUST_DOMAIN]: ca.rootPem },
    policies,
    jwt: { fetch: op.fetch },
    onDecision: (decision: Decision, facts: RequestFacts) =>
      log(formatDecision(app, decision, facts)),
    ...(options.tracerProviderFor
      ? { telemetry: { tracerProvider: options.tracerProviderFor(app) } }
      : {}),
  });
  const requestAuthentication = {
    apiVersion: 'security.istio.io/v1',
    kind: 'RequestAuthentication',
    metadata: { name: 'payments-jwt', namespace: 'payments' },
    spec: { jwtRules: [{ issuer: op.issuer, audiences: [AUDIENCE] }] }, // no jwksUri: OIDC discovery
  };
  const tls = (svid: { keyPem: string; chainPem: string }) => ({
    key: svid.keyPem,
    cert: svid.chainPem,
    ca: ca.rootPem,
  });

  const processor = await startPaymentProcessor({
    tls: tls(processorSvid),
    guard: guardOptions('payment-processor', [
      policyFile('payment-processor'),
      requestAuthentication,
    ]),
  });
  const checkout = await startCheckout({
    tls: tls(checkoutSvid),
    guard: guardOptions('checkout', [policyFile('checkout')]),
    paymentProcessor: { url: processor.url, spiffeId: IDS.paymentProcessor },
    getToken,
  });

  const outcomes: Outcome[] = [];
  async function scenario(
    name: string,
    url: string,
    request: Omit<MtlsRequestOptions, 'ca'>,
    expected: Outcome['expected'],
  ): Promise<void> {
    log(`\n▶ ${name}`);
    const res = await mtlsRequest(url, { ca: ca.rootPem, ...request });
    const body = res.json<{ reason?: string }>();
    const actual = { status: res.status, ...(body.reason ? { reason: body.reason } : {}) };
    const ok =
      actual.status === expected.status &&
      (expected.reason === undefined || actual.reason === expected.reason);
    const outcome = { name, expected, actual, ok };
    outcomes.push(outcome);
    options.afterScenario?.(outcome);
  }
  const as = (svid: { chainPem: string; keyPem: string }) => ({
    cert: svid.chainPem,
    key: svid.keyPem,
  });
  const post = (token?: string) => ({
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: '{"amount":4200,"currency":"EUR"}',
  });

  try {
    const token = await getToken();
    const [h, p, s] = token.split('.') as [string, string, string];
    const tampered = `${h}.${p}.${s.startsWith('A') ? 'B' : 'A'}${s.slice(1)}`;

    await scenario(
      'frontend → checkout → payment-processor (mTLS + token): allowed',
      `${checkout.url}/checkout`,
      { ...as(frontendSvid), expectedServerId: IDS.checkout, ...post() },
      { status: 201 },
    );
    await scenario(
      'no client certificate → payment-processor',
      `${processor.url}/v1/charges`,
      { ...post(token) },
      { status: 403, reason: 'mtls_required' },
    );
    await scenario(
      'frontend (not allowed by policy) → payment-processor',
      `${processor.url}/v1/charges`,
      { ...as(frontendSvid), ...post(token) },
      { status: 403, reason: 'authz_no_allow_match' },
    );
    await scenario(
      'checkout with a tampered token → payment-processor',
      `${processor.url}/v1/charges`,
      { ...as(checkoutSvid), ...post(tampered) },
      { status: 401, reason: 'jwt_signature_invalid' },
    );
    await scenario(
      'checkout without a token → payment-processor',
      `${processor.url}/v1/charges`,
      { ...as(checkoutSvid), ...post() },
      { status: 403, reason: 'authz_no_allow_match' },
    );
    await scenario(
      'certificate from a rogue CA claiming checkout → payment-processor',
      `${processor.url}/v1/charges`,
      { ...as(rogueSvid), ...post(token) },
      { status: 403, reason: 'mtls_unverified' },
    );
    await scenario(
      'checkout → /v1/charges/../../admin (path bypass attempt)',
      `${processor.url}/v1/charges/../../admin`,
      { ...as(checkoutSvid), method: 'GET', headers: { authorization: `Bearer ${token}` } },
      { status: 403, reason: 'authz_deny_policy' },
    );
  } finally {
    await checkout.close();
    await processor.close();
    await op.close();
  }
  return { ok: outcomes.every((o) => o.ok), outcomes };
}
