/**
 * Adapter conformance: x509-svid-rules.md part A over real mTLS. Every rule's violating client
 * certificate is sent to a server running meshless through the adapter under test (STRICT, ALLOW
 * `principals: ['*']`), after a positive control on the same server. Each adapter's test file calls
 * {@link describeSvidRuleSuite} with a factory that starts its server.
 */
import https, { type Server } from 'node:https';
import { createGuard, type Decision, type Guard, type GuardOptions } from '@meshless/core';
import {
  createMutableBundleSource,
  createSvidRulePki,
  groupSvidRuleCases,
  issueIntermediate,
  sendSvidRuleRequest,
  SERVER_SEES_CLIENT_CHAIN,
  svidRuleCases,
  svidRulePolicies,
  svidRuleProfiles,
  SVID_RULES_NAMESPACE,
  SVID_RULES_TRUST_DOMAIN,
  type ClientCredentials,
  type SvidRuleExpectation,
  type SvidRulePki,
  type TrustProfile,
  type TrustProfileName,
} from '@meshless/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const HOUR_MS = 3_600_000;

/** TLS settings the adapter's server must use: requestCert without rejectUnauthorized, so meshless decides. */
export interface ConformanceTls {
  key: string;
  cert: string;
  ca: string[];
  requestCert: true;
  rejectUnauthorized: false;
}

/** A started adapter server that answers every GET with `{ principal: <req.auth.principal> }`. */
export interface AdapterServer {
  base: string;
  server: Server;
  close(): Promise<void>;
}

/** Starts the adapter under test with meshless configured from `guard` over HTTPS with `tls`. */
export type AdapterServerFactory = (
  guard: GuardOptions | Guard,
  tls: ConformanceTls,
) => Promise<AdapterServer>;

interface Running extends AdapterServer {
  /** Every decision of this server's guard, in order (the authorizer spy of A22). */
  decisions: Decision[];
  /** TLS connections accepted so far. */
  connections(): number;
}

function guardOptions(
  trustBundles: NonNullable<GuardOptions['trustBundles']>,
  decisions: Decision[],
): GuardOptions {
  return {
    workload: { namespace: SVID_RULES_NAMESPACE, trustDomain: SVID_RULES_TRUST_DOMAIN },
    trustBundles,
    mtls: { mode: 'STRICT' },
    policies: svidRulePolicies(),
    onDecision: (decision) => {
      decisions.push(decision);
    },
  };
}

/** Registers the part-A suite for one adapter. */
export function describeSvidRuleSuite(adapter: string, start: AdapterServerFactory): void {
  async function startServer(
    pki: SvidRulePki,
    serverCa: string[],
    guard: GuardOptions | Guard,
    decisions: Decision[],
  ): Promise<Running> {
    const tls: ConformanceTls = {
      key: pki.server.keyPem,
      cert: pki.server.chainPem,
      ca: serverCa,
      requestCert: true,
      rejectUnauthorized: false,
    };
    const running = await start(guard, tls);
    let connections = 0;
    running.server.on('secureConnection', () => connections++);
    return { ...running, decisions, connections: () => connections };
  }

  let pki: SvidRulePki;
  let profiles: Record<TrustProfileName, TrustProfile>;
  const servers = new Map<TrustProfileName, Running>();

  beforeAll(async () => {
    pki = await createSvidRulePki();
    profiles = svidRuleProfiles(pki);
    for (const profile of Object.values(profiles)) {
      const decisions: Decision[] = [];
      servers.set(
        profile.name,
        await startServer(
          pki,
          profile.serverCa,
          guardOptions(profile.trustBundles, decisions),
          decisions,
        ),
      );
    }
  });

  afterAll(async () => {
    await Promise.all([...servers.values()].map((running) => running.close()));
  });

  async function expectOutcome(
    running: Running,
    client: ClientCredentials | undefined,
    expected: SvidRuleExpectation,
    options: { path?: string; agent?: https.Agent } = {},
  ): Promise<void> {
    running.decisions.length = 0;
    const outcome = await sendSvidRuleRequest(running.base, pki.serverRootPem, client, options);
    if ('handshake' in expected) {
      expect(outcome.kind).toBe('refused');
      return;
    }
    if (outcome.kind === 'refused') throw outcome.error;
    if (expected.status === 200) {
      expect({ status: outcome.status, body: outcome.body }).toEqual({
        status: 200,
        body: { principal: expected.principal },
      });
      expect(running.decisions.at(-1)?.principal).toBe(expected.principal);
      return;
    }
    expect({
      status: outcome.status,
      reason: outcome.body.reason,
      principal: outcome.body.principal,
    }).toEqual({ status: 403, reason: expected.reason, principal: undefined });
    if (expected.detail) expect(outcome.body.detail).toMatch(expected.detail);
    const decision = running.decisions.at(-1);
    expect(decision?.reason).toBe(expected.reason);
    if (expected.reason !== 'authz_deny_policy') {
      // A peer failure decides before authorization: no principal, no policy evaluated (A22); a
      // refused certificate never yields an identity (A21: never spiffe://td.test/admin).
      expect(decision?.principal).toBeUndefined();
      expect(decision?.policy).toBeUndefined();
    }
  }

  const serverFor = (name: TrustProfileName) => servers.get(name)!;

  async function positiveControl(name: TrustProfileName): Promise<void> {
    const profile = profiles[name];
    await expectOutcome(serverFor(name), await profile.control(), {
      status: 200,
      principal: profile.controlId,
    });
  }

  describe(`${adapter}: X.509-SVID rules (part A) over real mTLS`, () => {
    for (const group of groupSvidRuleCases(svidRuleCases())) {
      describe(`${group.rule} on the ${group.profile} server`, () => {
        it('positive control: a good leaf is answered 200 with its principal', async () => {
          await positiveControl(group.profile);
        });
        for (const c of group.cases) {
          it(`${c.rule} ${c.name}`, async () => {
            const client = await c.build(pki);
            await expectOutcome(serverFor(c.profile), client, c.expect, {
              ...(c.path ? { path: c.path } : {}),
            });
          });
        }
      });
    }

    it('A15 validity is checked on every request, not only at the handshake', async () => {
      const running = serverFor('td');
      const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
      const leaf = await pki.td.issueSvid({ spiffeId: 'spiffe://td.test/short-lived' });
      const client = { cert: leaf.certPem, key: leaf.keyPem };
      try {
        await expectOutcome(
          running,
          client,
          { status: 200, principal: 'spiffe://td.test/short-lived' },
          { agent },
        );
        // The guard's clock moves past the leaf's notAfter (now + 1 h); OpenSSL's does not.
        vi.useFakeTimers({ toFake: ['Date'] });
        vi.setSystemTime(Date.now() + 2 * HOUR_MS);
        await expectOutcome(
          running,
          client,
          { status: 403, reason: 'mtls_cert_expired' },
          { agent },
        );
      } finally {
        vi.useRealTimers();
        agent.destroy();
      }
    });

    it('A15 an intermediate that expires while the connection is open', async () => {
      const running = serverFor('td');
      const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
      const int = await issueIntermediate(pki.td, 'td.test short-lived intermediate', {
        notAfter: new Date(Date.now() + HOUR_MS / 2),
      });
      const leaf = await pki.td.issueSvid({ spiffeId: 'spiffe://td.test/short-int', issuer: int });
      const client = { cert: leaf.certPem + int.certPem, key: leaf.keyPem };
      try {
        await expectOutcome(
          running,
          client,
          { status: 200, principal: 'spiffe://td.test/short-int' },
          { agent },
        );
        vi.useFakeTimers({ toFake: ['Date'] });
        vi.setSystemTime(Date.now() + (3 * HOUR_MS) / 4); // intermediate expired, leaf still valid
        // Node 20 shows the guard the intermediate, whose notAfter bounds the identity. Node 24
        // shows only the leaf (nodejs/node#65579): the intermediate's validity cannot be known after
        // the handshake, so the identity lasts until the leaf expires.
        await expectOutcome(
          running,
          client,
          SERVER_SEES_CLIENT_CHAIN
            ? { status: 403, reason: 'mtls_cert_expired' }
            : { status: 200, principal: 'spiffe://td.test/short-int' },
          { agent },
        );
      } finally {
        vi.useRealTimers();
        agent.destroy();
      }
    });

    describe('A20 bundle updates reach open keep-alive connections', () => {
      async function startDynamic(bundles: Record<string, string[]>, serverCa: string[]) {
        const source = createMutableBundleSource(bundles);
        const decisions: Decision[] = [];
        const guard = await createGuard(guardOptions(source, decisions));
        const running = await startServer(pki, serverCa, guard, decisions);
        const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
        return { source, guard, running, agent };
      }

      it('(b) after R(td.test) is dropped, the same connection is refused on its next request', async () => {
        const { source, guard, running, agent } = await startDynamic(
          { 'td.test': [pki.td.rootPem] },
          [pki.td.rootPem],
        );
        try {
          const control = await profiles.td.control();
          await expectOutcome(
            running,
            control,
            { status: 200, principal: 'spiffe://td.test/workload' },
            { agent },
          );
          expect(source.subscribers).toBe(1);
          source.set({ 'td.test': [pki.tdNext.rootPem] }); // rotation that drops R(td.test)
          await expectOutcome(
            running,
            control,
            { status: 403, reason: 'mtls_untrusted_domain', detail: /trust domain td\.test/ },
            { agent },
          );
          expect(running.connections()).toBe(1);
        } finally {
          agent.destroy();
          guard.close?.();
          await running.close();
        }
      });

      it('after de-federating a.test (bundle and server ca), a connection verified against R(a.test) gains no td.test identity', async () => {
        // R(a.test)'s holder issues itself spiffe://td.test/admin. While the server trusts R(a.test)
        // the guard cannot tell which root OpenSSL used, so it refuses. Then a.test is removed from
        // the bundles and from the TLS server's ca: the open connection was still verified against
        // R(a.test), so its leaf must stay refused.
        const { source, guard, running, agent } = await startDynamic(
          { 'td.test': [pki.td.rootPem], 'a.test': [pki.a.rootPem] },
          [pki.td.rootPem, pki.a.rootPem],
        );
        try {
          const forged = await pki.a.issueSvid({ spiffeId: 'spiffe://td.test/admin' });
          const client = { cert: forged.certPem, key: forged.keyPem };
          await expectOutcome(
            running,
            client,
            { status: 403, reason: 'mtls_untrusted_domain' },
            { agent },
          );
          running.server.setSecureContext({
            key: pki.server.keyPem,
            cert: pki.server.chainPem,
            ca: [pki.td.rootPem],
          });
          source.set({ 'td.test': [pki.td.rootPem] });
          await expectOutcome(
            running,
            client,
            { status: 403, reason: 'mtls_untrusted_domain' },
            { agent },
          );
          expect(running.connections()).toBe(1);
        } finally {
          agent.destroy();
          guard.close?.();
          await running.close();
        }
      });

      it('(c) a federated domain left out of the next update is refused; the others still pass', async () => {
        const { source, guard, running, agent } = await startDynamic(
          { 'td.test': [pki.td.rootPem], 'b.test': [pki.b.rootPem] },
          [pki.td.rootPem, pki.b.rootPem],
        );
        try {
          const bLeaf = await pki.b.issueSvid({ spiffeId: 'spiffe://b.test/x' });
          const bClient = { cert: bLeaf.certPem, key: bLeaf.keyPem };
          await expectOutcome(
            running,
            bClient,
            { status: 200, principal: 'spiffe://b.test/x' },
            { agent },
          );
          source.set({ 'td.test': [pki.td.rootPem] });
          await expectOutcome(
            running,
            bClient,
            {
              status: 403,
              reason: 'mtls_untrusted_domain',
              detail: /no trust bundle for trust domain b\.test/,
            },
            { agent },
          );
          expect(running.connections()).toBe(1);
          // td.test is still trusted (new connection: the client certificate differs).
          await expectOutcome(running, await profiles.td.control(), {
            status: 200,
            principal: 'spiffe://td.test/workload',
          });
        } finally {
          agent.destroy();
          guard.close?.();
          await running.close();
        }
      });
    });
  });
}
