import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestCa, type Svid, type TestCa } from '@meshless/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  createFileX509Source,
  type FileX509Source,
  type FileX509SourceOptions,
} from '../../src/sources/file-x509-source.js';
import { BundleError, SvidError } from '../../src/sources/source-errors.js';
import { serializeSpiffeBundle } from '../../src/sources/spiffe-bundle.js';
import type { SourceEvent } from '../../src/tls/sources.js';
import { createK8sSecretDir, type K8sSecretDir } from './k8s-secret-dir.js';

let ca: TestCa;
let ca2: TestCa;
let first: Svid;
let second: Svid;
let third: Svid;
const cleanup: (() => unknown)[] = [];

beforeAll(async () => {
  ca = await createTestCa({ trustDomain: 'td.test' });
  ca2 = await createTestCa({ trustDomain: 'td.test' });
  [first, second, third] = await Promise.all([
    ca.issueSvid({ spiffeId: 'spiffe://td.test/first' }),
    ca.issueSvid({ spiffeId: 'spiffe://td.test/second' }),
    ca.issueSvid({ spiffeId: 'spiffe://td.test/third' }),
  ]);
});

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const payload = (svid: Svid, bundle = ca.rootPem) => ({
  'tls.crt': svid.chainPem,
  'tls.key': svid.keyPem,
  'ca.crt': bundle,
});

async function k8sDir(files: Record<string, string>): Promise<K8sSecretDir> {
  const dir = await createK8sSecretDir(files);
  cleanup.push(() => dir.remove());
  return dir;
}

async function open(
  dir: K8sSecretDir,
  extra: Partial<FileX509SourceOptions> = {},
): Promise<FileX509Source> {
  const source = await createFileX509Source({
    certFile: dir.path('tls.crt'),
    keyFile: dir.path('tls.key'),
    bundleFile: dir.path('ca.crt'),
    pollIntervalMs: 60_000,
    debounceMs: 50,
    ...extra,
  });
  cleanup.push(() => source.close());
  return source;
}

/** Records events; `next(type)` resolves with the next event of that type (or rejects after ms). */
function recorder(source: FileX509Source) {
  const events: SourceEvent[] = [];
  const waiters: { type: SourceEvent['type']; resolve: (e: SourceEvent) => void }[] = [];
  source.subscribe((event) => {
    events.push(event);
    const i = waiters.findIndex((w) => w.type === event.type);
    if (i !== -1) waiters.splice(i, 1)[0]?.resolve(event);
  });
  return {
    events,
    next(type: SourceEvent['type'], ms = 1000): Promise<SourceEvent> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${type} event within ${ms} ms`)), ms);
        waiters.push({ type, resolve: (e) => (clearTimeout(timer), resolve(e)) });
      });
    },
  };
}

const errorCode = (event: SourceEvent): string | undefined =>
  event.type === 'error' ? (event.error as SvidError | BundleError).code : undefined;

const idOf = (source: FileX509Source): string => source.getX509Svid().id.toString();

describe('createFileX509Source: initial load', () => {
  it('loads SVID and bundle from a Kubernetes-style secret volume', async () => {
    const dir = await k8sDir(payload(first));
    const source = await open(dir);
    expect(idOf(source)).toBe('spiffe://td.test/first');
    expect(source.trustDomains()).toEqual(['td.test']);
    const bundle = source.getBundleFor('td.test');
    expect(bundle?.trustDomain).toBe('td.test');
    expect(bundle?.authorities.map((c) => c.fingerprint256)).toEqual([
      new X509Certificate(ca.rootPem).fingerprint256,
    ]);
    expect(source.getBundleFor('other.test')).toBeUndefined();
  });

  it('serves no bundle without bundleFile, and the bundle under the trustDomain option', async () => {
    const dir = await k8sDir(payload(first));
    const noBundle = await createFileX509Source({
      certFile: dir.path('tls.crt'),
      keyFile: dir.path('tls.key'),
    });
    cleanup.push(() => noBundle.close());
    expect(noBundle.trustDomains()).toEqual([]);
    const named = await open(dir, { trustDomain: 'spiffe://other.test' });
    expect(named.trustDomains()).toEqual(['other.test']);
    expect(named.getBundleFor('td.test')).toBeUndefined();
  });

  it('reads a SPIFFE bundle document as bundleFile', async () => {
    const doc = serializeSpiffeBundle({
      trustDomain: 'td.test',
      authorities: [new X509Certificate(ca.rootPem), new X509Certificate(ca2.rootPem)],
      sequence: 3,
    });
    const dir = await k8sDir(payload(first, doc));
    const source = await open(dir);
    expect(source.getBundleFor('td.test')?.authorities).toHaveLength(2);
    expect(source.getBundleFor('td.test')?.sequence).toBe(3);
  });

  it.each<
    [
      string,
      (d: K8sSecretDir) => Partial<FileX509SourceOptions>,
      () => Record<string, string>,
      string,
    ]
  >([
    [
      'missing cert file',
      (d) => ({ certFile: d.path('nope.crt') }),
      () => payload(first),
      'ERR_SVID_FILE',
    ],
    [
      'key of another SVID',
      () => ({}),
      () => ({ ...payload(first), 'tls.key': second.keyPem }),
      'ERR_SVID_KEY_MISMATCH',
    ],
    [
      'cert file is a directory',
      (d) => ({ certFile: d.dir }),
      () => payload(first),
      'ERR_SVID_FILE',
    ],
    [
      'bundle without certificates',
      () => ({}),
      () => payload(first, 'empty\n'),
      'ERR_BUNDLE_NO_CERTIFICATE',
    ],
    [
      'missing bundle file',
      (d) => ({ bundleFile: d.path('nope.crt') }),
      () => payload(first),
      'ERR_BUNDLE_FILE',
    ],
  ])('rejects: %s', async (_name, options, files, code) => {
    const dir = await k8sDir(files());
    const error = await open(dir, options(dir)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(code.startsWith('ERR_SVID') ? SvidError : BundleError);
    expect(error).toMatchObject({ code });
  });

  it.each<Partial<FileX509SourceOptions>>([
    { certFile: '' },
    { pollIntervalMs: 0 },
    { debounceMs: -1 },
    { trustDomain: 'Not Valid' },
  ])('rejects invalid options %o with ConfigError', async (options) => {
    const dir = await k8sDir(payload(first));
    await expect(open(dir, options)).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('createFileX509Source: rotation', () => {
  it('picks up an atomic ..data symlink swap through fs.watch within a second', async () => {
    const dir = await k8sDir(payload(first));
    const source = await open(dir); // polling every 60 s: only the watcher can see it in time
    const rec = recorder(source);
    const started = Date.now();
    await dir.swap(payload(second, ca2.rootPem));
    await rec.next('updated');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(idOf(source)).toBe('spiffe://td.test/second');
    expect(source.getBundleFor('td.test')?.authorities[0]?.fingerprint256).toBe(
      new X509Certificate(ca2.rootPem).fingerprint256,
    );
    expect(rec.events.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('picks up a swap by polling alone (watch: false)', async () => {
    const dir = await k8sDir(payload(first));
    const source = await open(dir, { watch: false, pollIntervalMs: 100 });
    const rec = recorder(source);
    await dir.swap(payload(second));
    await rec.next('updated');
    expect(idOf(source)).toBe('spiffe://td.test/second');
  });

  it('picks up plain files rewritten in place, cert and key written one after the other', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshless-plain-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'c.pem'), first.chainPem);
    await writeFile(join(dir, 'k.pem'), first.keyPem);
    const source = await createFileX509Source({
      certFile: join(dir, 'c.pem'),
      keyFile: join(dir, 'k.pem'),
      debounceMs: 50,
    });
    cleanup.push(() => source.close());
    const rec = recorder(source);
    await writeFile(join(dir, 'c.pem'), second.chainPem);
    await new Promise((r) => setTimeout(r, 20)); // new cert with the old key on disk for a moment
    await writeFile(join(dir, 'k.pem'), second.keyPem);
    await rec.next('updated');
    expect(idOf(source)).toBe('spiffe://td.test/second');
    expect(rec.events).toEqual([{ type: 'updated' }]); // the half-written pair was never reported
  });

  it('keeps the old SVID and reports an error for a bad PEM, then recovers', async () => {
    const dir = await k8sDir(payload(first));
    const source = await open(dir);
    const rec = recorder(source);
    const before = source.getX509Svid();
    await dir.swap({ ...payload(second), 'tls.crt': '-----BEGIN CERTIFICATE-----\nMIIB\n' });
    expect(errorCode(await rec.next('error'))).toBe('ERR_SVID_CERTIFICATE_INVALID');
    expect(source.getX509Svid()).toBe(before);
    await dir.swap(payload(third));
    await rec.next('updated');
    expect(idOf(source)).toBe('spiffe://td.test/third');
  });

  it('never pairs a new certificate with the old key: a mismatched pair is refused whole', async () => {
    const dir = await k8sDir(payload(first));
    const source = await open(dir);
    const rec = recorder(source);
    await dir.swap({ ...payload(second), 'tls.key': third.keyPem });
    const event = await rec.next('error');
    expect(errorCode(event)).toBe('ERR_SVID_KEY_MISMATCH');
    expect(event.type === 'error' && event.error.message).toContain('tls.crt');
    expect(idOf(source)).toBe('spiffe://td.test/first');
    expect(source.getX509Svid().privateKeyPem).toBe(first.keyPem.replace(/\r\n/g, '\n'));
  });

  it('keeps the old bundle on a bad bundle file while the SVID still rotates', async () => {
    const dir = await k8sDir(payload(first));
    const source = await open(dir);
    const rec = recorder(source);
    const bundle = source.getBundleFor('td.test');
    await dir.swap(payload(second, 'no certificates here'));
    const [updated, error] = await Promise.all([rec.next('updated'), rec.next('error')]);
    expect(updated).toEqual({ type: 'updated' });
    expect(errorCode(error)).toBe('ERR_BUNDLE_NO_CERTIFICATE');
    expect(idOf(source)).toBe('spiffe://td.test/second');
    expect(source.getBundleFor('td.test')).toBe(bundle);
  });

  it('emits nothing when the files are rewritten with the same content', async () => {
    const dir = await k8sDir(payload(first));
    const source = await open(dir, { pollIntervalMs: 50 });
    const rec = recorder(source);
    await dir.swap(payload(first));
    await new Promise((r) => setTimeout(r, 250));
    expect(rec.events).toEqual([]);
  });

  it('reports a broken file once, not on every poll', async () => {
    const dir = await k8sDir(payload(first));
    const source = await open(dir, { pollIntervalMs: 30 });
    const rec = recorder(source);
    await dir.swap({ ...payload(first), 'tls.key': second.keyPem });
    await rec.next('error');
    await new Promise((r) => setTimeout(r, 200));
    expect(rec.events).toHaveLength(1);
  });
});

describe('createFileX509Source: close', () => {
  it('holds no handle that keeps the process alive, and stops watching on close', async () => {
    // Handles that keep the event loop alive (unref'd timers and non-persistent watchers are not listed).
    const handles = () =>
      process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap' || r === 'Timeout');
    const dir = await k8sDir(payload(first));
    const before = handles();
    const source = await open(dir, { pollIntervalMs: 30 });
    expect(handles()).toEqual(before);
    let calls = 0;
    source.subscribe(() => (calls += 1));
    source.close();
    await dir.swap(payload(second));
    await new Promise((r) => setTimeout(r, 250));
    expect(calls).toBe(0);
    expect(idOf(source)).toBe('spiffe://td.test/first'); // the last material stays readable
  });
});
