import { X509Certificate } from 'node:crypto';
import { createTestCa, type TestCa } from '@meshless/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createGuard } from '../../src/guard/guard.js';
import { combineBundleSources } from '../../src/sources/combined-bundle-source.js';
import type { BundleSource, SourceEvent, X509Bundle } from '../../src/tls/sources.js';
import { createStaticBundleSource } from '../../src/tls/trust-bundles.js';

let local: TestCa;
let partner: TestCa;
let impostor: TestCa;

beforeAll(async () => {
  [local, partner, impostor] = await Promise.all([
    createTestCa({ trustDomain: 'local.test' }),
    createTestCa({ trustDomain: 'partner.test' }),
    createTestCa({ trustDomain: 'partner.test' }),
  ]);
});

/** A changeable bundle source with subscribers (a stand-in for a rotating source). */
function mutableSource(initial: Record<string, string>) {
  let bundles = new Map<string, X509Bundle>();
  const listeners = new Set<(e: SourceEvent) => void>();
  const set = (next: Record<string, string>) => {
    bundles = new Map(
      Object.entries(next).map(([td, pem]) => [
        td,
        { trustDomain: td, authorities: [new X509Certificate(pem)] },
      ]),
    );
  };
  set(initial);
  const source: BundleSource = {
    getBundleFor: (td) => bundles.get(td),
    trustDomains: () => [...bundles.keys()],
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return {
    source,
    listenerCount: () => listeners.size,
    update(next: Record<string, string>) {
      set(next);
      for (const l of listeners) l({ type: 'updated' });
    },
  };
}

describe('combineBundleSources', () => {
  it('asks the sources in order: the first with the trust domain wins, never a merge', () => {
    const first = createStaticBundleSource({ 'local.test': local.rootPem });
    const second = createStaticBundleSource({
      'local.test': impostor.rootPem,
      'partner.test': partner.rootPem,
    });
    const combined = combineBundleSources(first, second);
    expect(combined.trustDomains()).toEqual(['local.test', 'partner.test']);
    expect(combined.getBundleFor('local.test')?.authorities).toHaveLength(1);
    expect(combined.getBundleFor('local.test')).toBe(first.getBundleFor('local.test'));
    expect(combined.getBundleFor('partner.test')).toBe(second.getBundleFor('partner.test'));
    expect(combined.getBundleFor('nobody.test')).toBeUndefined();
    expect(combineBundleSources().trustDomains()).toEqual([]);
  });

  it('fans in subscriptions and unsubscribes from every source', () => {
    const a = mutableSource({ 'local.test': local.rootPem });
    const b = mutableSource({});
    const combined = combineBundleSources(a.source, createStaticBundleSource({}), b.source);
    const events: SourceEvent[] = [];
    const off = combined.subscribe?.((e) => events.push(e));
    a.update({ 'local.test': local.rootPem });
    b.update({ 'partner.test': partner.rootPem });
    expect(events).toEqual([{ type: 'updated' }, { type: 'updated' }]);
    expect(combined.trustDomains()).toEqual(['local.test', 'partner.test']);
    off?.();
    expect(a.listenerCount() + b.listenerCount()).toBe(0);
  });

  it('lets a guard verify peers of the local and of a federated trust domain', async () => {
    const federated = mutableSource({});
    const guard = await createGuard({
      workload: { namespace: 'payments', trustDomain: 'local.test' },
      trustBundles: combineBundleSources(
        createStaticBundleSource({ 'local.test': local.rootPem }),
        federated.source,
      ),
    });
    const partnerPeer = await partner.issueSvid({ spiffeId: 'spiffe://partner.test/ns/x/sa/y' });
    const localPeer = await local.issueSvid({ spiffeId: 'spiffe://local.test/ns/x/sa/y' });
    const check = (der: Buffer) =>
      guard.check({
        method: 'GET',
        path: '/',
        host: 'payments',
        headers: {},
        sourceIp: '127.0.0.1',
        destinationPort: 8443,
        peerCertificate: der,
      });
    expect(await check(localPeer.certDer)).toMatchObject({
      allow: true,
      principal: 'spiffe://local.test/ns/x/sa/y',
    });
    expect(await check(partnerPeer.certDer)).toMatchObject({ allow: false });
    federated.update({ 'partner.test': partner.rootPem }); // the federated bundle arrives
    expect(await check(partnerPeer.certDer)).toMatchObject({
      allow: true,
      principal: 'spiffe://partner.test/ns/x/sa/y',
    });
    guard.close?.();
  });
});
