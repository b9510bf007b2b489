import { X509Certificate } from 'node:crypto';
import { createCaFetch, createTestCa, type TestCa } from '@meshless/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  createFederatedBundleSource,
  type FederatedBundleSource,
  type FederatedBundleSourceOptions,
} from '../../src/sources/federated-bundle-source.js';
import { BundleError } from '../../src/sources/source-errors.js';
import { serializeSpiffeBundle } from '../../src/sources/spiffe-bundle.js';
import type { SourceEvent } from '../../src/tls/sources.js';
import { startBundleEndpoint, type BundleEndpoint } from './bundle-endpoint.js';

const TD = 'partner.test';
let webCa: TestCa; // issues the endpoint's TLS certificate (stands in for a public CA)
let rootA: X509Certificate;
let rootB: X509Certificate;
let endpoint: BundleEndpoint;
const cleanup: (() => unknown)[] = [];

beforeAll(async () => {
  const [web, a, b] = await Promise.all([
    createTestCa({ trustDomain: 'web.test' }),
    createTestCa({ trustDomain: TD }),
    createTestCa({ trustDomain: TD }),
  ]);
  webCa = web;
  rootA = new X509Certificate(a.rootPem);
  rootB = new X509Certificate(b.rootPem);
});

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function startEndpoint(): Promise<BundleEndpoint> {
  endpoint = await startBundleEndpoint(webCa);
  cleanup.push(() => endpoint.stop());
  return endpoint;
}

const doc = (roots: X509Certificate[], sequence?: number, refreshHintSec?: number) =>
  serializeSpiffeBundle({
    trustDomain: TD,
    authorities: roots,
    ...(sequence !== undefined ? { sequence } : {}),
    ...(refreshHintSec !== undefined ? { refreshHintSec } : {}),
  });

function open(options: Partial<FederatedBundleSourceOptions> = {}): FederatedBundleSource {
  const source = createFederatedBundleSource({
    trustDomain: TD,
    endpointUrl: endpoint.url,
    fetch: createCaFetch(webCa.rootPem),
    ...options,
  });
  cleanup.push(() => source.close());
  return source;
}

/** Fast refresh for tests: no hint → 100 ms (the 30 s floor lowered to 50 ms). */
const fast = { refreshHintSec: 0.1, minRefreshSec: 0.05 };

function nextEvent(
  source: FederatedBundleSource,
  type: SourceEvent['type'],
  ms = 2000,
): Promise<SourceEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => (off(), reject(new Error(`no ${type} event within ${ms} ms`))),
      ms,
    );
    const off = source.subscribe((event) => {
      if (event.type !== type) return;
      clearTimeout(timer);
      off();
      resolve(event);
    });
  });
}

const codeOf = (event: SourceEvent) =>
  event.type === 'error' ? (event.error as BundleError).code : undefined;
const printsOf = (source: FederatedBundleSource) =>
  source.getBundleFor(TD)?.authorities.map((c) => c.fingerprint256);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('createFederatedBundleSource over real HTTPS', () => {
  it('fetches the bundle initially', async () => {
    await startEndpoint();
    endpoint.serve(doc([rootA], 1, 600));
    const source = open();
    expect(source.trustDomains()).toEqual([]);
    await source.ready;
    expect(source.trustDomains()).toEqual([TD]);
    expect(printsOf(source)).toEqual([rootA.fingerprint256]);
    expect(source.getBundleFor(TD)).toMatchObject({
      trustDomain: TD,
      sequence: 1,
      refreshHintSec: 600,
    });
    expect(source.getBundleFor('other.test')).toBeUndefined();
  });

  it('refreshes on its own and reports a changed bundle as updated', async () => {
    await startEndpoint();
    endpoint.serve(doc([rootA], 1));
    const source = open(fast);
    await source.ready;
    const updated = nextEvent(source, 'updated');
    endpoint.serve(doc([rootA, rootB], 2));
    await updated;
    expect(printsOf(source)).toEqual([rootA.fingerprint256, rootB.fingerprint256]);
    expect(source.getBundleFor(TD)?.sequence).toBe(2);
  });

  it('clamps the refresh hint to maxRefreshSec, and stays quiet for an unchanged bundle', async () => {
    await startEndpoint();
    endpoint.serve(doc([rootA], 1, 3600));
    const source = open({ minRefreshSec: 0.05, maxRefreshSec: 0.1 });
    const events: SourceEvent[] = [];
    source.subscribe((e) => events.push(e));
    await source.ready;
    await sleep(350);
    expect(endpoint.hits()).toBeGreaterThanOrEqual(3);
    expect(events).toEqual([{ type: 'updated' }]); // the first fetch only
  });

  it('keeps the last good bundle and reports errors while the endpoint is down', async () => {
    await startEndpoint();
    endpoint.serve(doc([rootA], 1));
    const source = open(fast);
    await source.ready;
    const failing = nextEvent(source, 'error');
    endpoint.respond((_req, res) => res.writeHead(500).end('oops'));
    expect(codeOf(await failing)).toBe('ERR_BUNDLE_HTTP_STATUS');
    const down = nextEvent(source, 'error');
    await endpoint.stop();
    const event = await down;
    expect(codeOf(event)).toBe('ERR_BUNDLE_FETCH');
    expect(event.type === 'error' && event.error.message).toContain(TD);
    expect(printsOf(source)).toEqual([rootA.fingerprint256]);
    await expect(source.refresh()).rejects.toMatchObject({ code: 'ERR_BUNDLE_FETCH' });
    expect(printsOf(source)).toEqual([rootA.fingerprint256]);
  });

  it('ignores a document with a lower spiffe_sequence, and takes a higher one', async () => {
    await startEndpoint();
    endpoint.serve(doc([rootA], 5));
    const source = open(fast);
    await source.ready;
    const stale = nextEvent(source, 'error');
    endpoint.serve(doc([rootB], 4));
    expect(codeOf(await stale)).toBe('ERR_BUNDLE_STALE_SEQUENCE');
    expect(printsOf(source)).toEqual([rootA.fingerprint256]);
    expect(source.getBundleFor(TD)?.sequence).toBe(5);
    const updated = nextEvent(source, 'updated');
    endpoint.serve(doc([rootB], 6));
    await updated;
    expect(printsOf(source)).toEqual([rootB.fingerprint256]);
  });

  it('does not trust an endpoint certificate outside the fetch trust store (Web PKI)', async () => {
    await startEndpoint();
    endpoint.serve(doc([rootA], 1));
    const stranger = await createTestCa({ trustDomain: 'stranger.test' });
    const source = open({ fetch: createCaFetch(stranger.rootPem) });
    await expect(source.ready).rejects.toMatchObject({ code: 'ERR_BUNDLE_FETCH' });
    expect(source.trustDomains()).toEqual([]);
  });

  it.each<[string, (e: BundleEndpoint) => void, Partial<FederatedBundleSourceOptions>, string]>([
    [
      'a redirect',
      (e) => e.respond((_q, r) => r.writeHead(302, { location: 'https://localhost/x' }).end()),
      {},
      'ERR_BUNDLE_REDIRECT',
    ],
    [
      'a large declared body',
      (e) => e.serve(doc([rootA, rootB])),
      { maxBodyBytes: 100 },
      'ERR_BUNDLE_TOO_LARGE',
    ],
    [
      'a large chunked body',
      (e) =>
        e.respond((_q, r) => {
          r.writeHead(200);
          r.write('{"keys":[');
          r.end(' '.repeat(500) + ']}');
        }),
      { maxBodyBytes: 100 },
      'ERR_BUNDLE_TOO_LARGE',
    ],
    ['no answer', (e) => e.respond(() => undefined), { timeoutMs: 150 }, 'ERR_BUNDLE_TIMEOUT'],
    ['an invalid document', (e) => e.serve('{"not":"a bundle"}'), {}, 'ERR_BUNDLE_KEYS_MISSING'],
    ['not JSON', (e) => e.serve('<html>'), {}, 'ERR_BUNDLE_PARSE'],
  ])('refuses %s', async (_name, setup, options, code) => {
    await startEndpoint();
    setup(endpoint);
    const source = open(options);
    const error = await source.ready.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BundleError);
    expect(error).toMatchObject({ code });
  });

  it('serves initialBundle when the first fetch fails, and replaces it once the endpoint answers', async () => {
    await startEndpoint();
    endpoint.respond((_q, r) => r.writeHead(503).end());
    const errors: SourceEvent[] = [];
    const source = open({ ...fast, initialBundle: doc([rootA], 1) });
    source.subscribe((e) => e.type === 'error' && errors.push(e));
    expect(printsOf(source)).toEqual([rootA.fingerprint256]); // before any fetch
    await source.ready; // resolves: a bundle is available
    expect(errors.map(codeOf)).toContain('ERR_BUNDLE_HTTP_STATUS');
    const updated = nextEvent(source, 'updated');
    endpoint.serve(doc([rootB], 2));
    await updated;
    expect(printsOf(source)).toEqual([rootB.fingerprint256]);
  });

  it('close() aborts a fetch under way and stops refreshing', async () => {
    await startEndpoint();
    endpoint.respond(() => undefined); // hangs
    const source = open(fast);
    const settled = source.ready.catch((e: unknown) => e);
    await sleep(50);
    source.close();
    expect(await settled).toMatchObject({ code: 'ERR_BUNDLE_SOURCE_CLOSED' });
    endpoint.serve(doc([rootA], 1));
    const hits = endpoint.hits();
    await sleep(200);
    expect(endpoint.hits()).toBe(hits);
    await expect(source.refresh()).rejects.toMatchObject({ code: 'ERR_BUNDLE_SOURCE_CLOSED' });
  });

  it.each<[string, Partial<FederatedBundleSourceOptions>]>([
    ['http URL', { endpointUrl: 'http://localhost/bundle' }],
    ['userinfo', { endpointUrl: 'https://user:pw@localhost/bundle' }],
    ['not a URL', { endpointUrl: 'nope' }],
    ['invalid trust domain', { trustDomain: 'Partner.test' }],
    ['zero timeout', { timeoutMs: 0 }],
    ['invalid initialBundle', { initialBundle: '{}' }],
    [
      'initialBundle of another trust domain',
      {
        initialBundle: { trustDomain: 'other.test', authorities: [], jwtAuthorities: { keys: [] } },
      },
    ],
  ])('rejects %s with ConfigError', (_name, options) => {
    expect(() =>
      createFederatedBundleSource({
        trustDomain: TD,
        endpointUrl: 'https://localhost/b',
        ...options,
      }),
    ).toThrow(ConfigError);
  });
});
