/**
 * PeerAuthentication through the guard: the composed mode is applied per destination port.
 *
 * Sources: istio.io reference "PeerAuthentication" (STRICT: mTLS required; PERMISSIVE: mTLS or
 * plaintext; DISABLE: plaintext) and istio/istio `pilot/pkg/security/authn`
 * `ComposePeerAuthentication` (per-port modes), as summarized in istio-semantics.md §1, §8.
 */
import { createTestCa, type Svid, type TestCa } from '@meshless/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createGuard } from '../../src/guard/guard.js';
import type { GuardOptions } from '../../src/guard/options.js';
import type { RequestFacts } from '../../src/guard/request-facts.js';

const WORKLOAD = { namespace: 'payments', trustDomain: 'example.org', labels: { app: 'payments' } };
let ca: TestCa;
let checkout: Svid;

beforeAll(async () => {
  ca = await createTestCa({ trustDomain: 'example.org' });
  checkout = await ca.issueSvid({ spiffeId: 'spiffe://example.org/ns/payments/sa/checkout' });
});

const facts = (destinationPort: number, overrides: Partial<RequestFacts> = {}): RequestFacts => ({
  method: 'GET',
  path: '/',
  host: 'payments',
  headers: {},
  sourceIp: '10.0.0.7',
  destinationPort,
  ...overrides,
});

const peerAuthn = {
  apiVersion: 'security.istio.io/v1',
  kind: 'PeerAuthentication',
  metadata: { name: 'payments', namespace: 'payments' },
  spec: {
    selector: { matchLabels: { app: 'payments' } },
    mtls: { mode: 'STRICT' },
    portLevelMtls: { '8080': { mode: 'PERMISSIVE' }, '9000': { mode: 'DISABLE' } },
  },
};

const allowPrincipal = {
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'only-checkout', namespace: 'payments' },
  spec: {
    rules: [{ from: [{ source: { principals: ['cluster.local/ns/payments/sa/checkout'] } }] }],
  },
};

const guardWith = (policies: object[], options: Partial<GuardOptions> = {}) =>
  createGuard({
    workload: WORKLOAD,
    trustBundles: { 'example.org': ca.rootPem },
    policies,
    ...options,
  });

describe('guard: PeerAuthentication per destination port', () => {
  it('STRICT port: a request without a peer identity → 403 mtls_required', async () => {
    const guard = await guardWith([peerAuthn]);
    expect(await guard.check(facts(8443))).toMatchObject({
      allow: false,
      status: 403,
      reason: 'mtls_required',
    });
    expect(await guard.check(facts(8443, { peerCertificate: checkout.certDer }))).toMatchObject({
      allow: true,
      principal: 'spiffe://example.org/ns/payments/sa/checkout',
    });
  });

  it('PERMISSIVE port: plaintext passes on to authorization', async () => {
    expect(await (await guardWith([peerAuthn])).check(facts(8080))).toMatchObject({
      allow: true,
      status: 200,
    });
    // Authorization still decides: no principal, so an ALLOW on a principal refuses it.
    const guard = await guardWith([peerAuthn, allowPrincipal]);
    expect(await guard.check(facts(8080))).toMatchObject({
      allow: false,
      status: 403,
      reason: 'authz_no_allow_match',
    });
    expect(await guard.check(facts(8080, { peerCertificate: checkout.certDer }))).toMatchObject({
      allow: true,
      principal: 'spiffe://example.org/ns/payments/sa/checkout',
    });
  });

  it('DISABLE port: the peer certificate is ignored', async () => {
    const guard = await guardWith([peerAuthn, allowPrincipal]);
    const decision = await guard.check(facts(9000, { peerCertificate: checkout.certDer }));
    expect(decision).toMatchObject({ allow: false, status: 403, reason: 'authz_no_allow_match' });
    expect(decision.principal).toBeUndefined();
    expect(await (await guardWith([peerAuthn])).check(facts(9000))).toMatchObject({ allow: true });
  });

  it('namespace-wide PERMISSIVE overrides the STRICT default; mtls.mode is what UNSET inherits', async () => {
    const nsWide = {
      apiVersion: 'security.istio.io/v1beta1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: 'payments' },
      spec: { mtls: { mode: 'PERMISSIVE' } },
    };
    expect(await (await guardWith([nsWide])).check(facts(1234))).toMatchObject({ allow: true });
    const unset = { ...nsWide, spec: { mtls: { mode: 'UNSET' } } };
    expect(await (await guardWith([unset])).check(facts(1234))).toMatchObject({
      reason: 'mtls_required',
    });
    expect(
      await (await guardWith([unset], { mtls: { mode: 'PERMISSIVE' } })).check(facts(1234)),
    ).toMatchObject({ allow: true });
    // A STRICT mesh-wide policy wins over a PERMISSIVE guard option.
    const meshStrict = {
      ...nsWide,
      metadata: { name: 'default', namespace: 'istio-system' },
      spec: { mtls: { mode: 'STRICT' } },
    };
    expect(
      await (await guardWith([meshStrict], { mtls: { mode: 'PERMISSIVE' } })).check(facts(1234)),
    ).toMatchObject({ reason: 'mtls_required' });
  });

  it('exposes the loaded documents on guard.policies', async () => {
    const guard = await guardWith([peerAuthn]);
    expect(guard.policies.peerAuthentications).toHaveLength(1);
  });
});
