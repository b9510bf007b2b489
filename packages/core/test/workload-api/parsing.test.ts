import { fileURLToPath } from 'node:url';
import { loadSync } from '@grpc/proto-loader';
import { createTestCa, type Svid } from '@meshless/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLinearBackoff } from '../../src/workload-api/backoff.js';
import { splitDerSequence } from '../../src/workload-api/der.js';
import { structToJson } from '../../src/workload-api/jwt.js';
import {
  loadWorkloadApiDefinition,
  PROTO_LOADER_OPTIONS,
  type X509SvidMessage,
} from '../../src/workload-api/proto.js';
import { parseX509Context, parseX509Svid } from '../../src/workload-api/x509-context.js';

describe('the embedded descriptor', () => {
  it('equals workload.proto, message by message', () => {
    const protoFile = fileURLToPath(
      new URL('../../src/workload-api/workload.proto', import.meta.url),
    );
    // proto-loader resolves google/protobuf/struct.proto from protobufjs' bundled copy.
    const fromFile = loadSync(protoFile, PROTO_LOADER_OPTIONS);
    const embedded = loadWorkloadApiDefinition();
    expect(Object.keys(embedded).sort()).toEqual(Object.keys(fromFile).sort());
    for (const [name, def] of Object.entries(fromFile)) {
      const other = embedded[name] as Record<string, unknown>;
      if ('format' in def) {
        expect(other['type'], name).toEqual(def.type);
      } else {
        for (const [method, m] of Object.entries(def)) {
          const o = (other as Record<string, typeof m>)[method]!;
          expect(o.path, method).toBe(`/SpiffeWorkloadAPI/${method}`);
          expect([o.path, o.requestStream, o.responseStream]).toEqual([
            m.path,
            m.requestStream,
            m.responseStream,
          ]);
        }
      }
    }
  });

  it('serves the stable RPCs without a package prefix', () => {
    const service = loadWorkloadApiDefinition()['SpiffeWorkloadAPI'] as Record<
      string,
      { path: string; responseStream: boolean }
    >;
    expect(Object.entries(service).map(([, m]) => [m.path, m.responseStream])).toEqual([
      ['/SpiffeWorkloadAPI/FetchX509SVID', true],
      ['/SpiffeWorkloadAPI/FetchX509Bundles', true],
      ['/SpiffeWorkloadAPI/FetchJWTSVID', false],
      ['/SpiffeWorkloadAPI/FetchJWTBundles', true],
      ['/SpiffeWorkloadAPI/ValidateJWTSVID', false],
    ]);
  });
});

describe('splitDerSequence', () => {
  it('splits concatenated certificates (short and long DER lengths)', async () => {
    const ca = await createTestCa({ trustDomain: 'td.test', intermediate: true });
    const svid = await ca.issueSvid();
    const parts = splitDerSequence(Buffer.concat([...svid.chainDer, ca.rootDer]), 'x');
    expect(parts).toEqual([...svid.chainDer, ca.rootDer]);
    expect(splitDerSequence(Buffer.from([0x30, 0x00, 0x30, 0x01, 0x05]), 'x')).toHaveLength(2);
    expect(splitDerSequence(Buffer.alloc(0), 'x')).toEqual([]);
  });

  it.each([
    ['not a SEQUENCE', [0x31, 0x00], /expected a DER SEQUENCE/],
    ['truncated header', [0x30], /truncated DER header/],
    ['truncated long length', [0x30, 0x82, 0x01], /truncated DER header/],
    ['indefinite length', [0x30, 0x80, 0x00, 0x00], /unsupported DER length/],
    ['length past the end', [0x30, 0x05, 0x00], /runs past the end/],
    ['trailing garbage', [0x30, 0x00, 0x00], /expected a DER SEQUENCE at byte 2/],
  ])('refuses %s', (_name, bytes, message) => {
    expect(() => splitDerSequence(Buffer.from(bytes), 'bundle')).toThrow(
      expect.objectContaining({
        code: 'ERR_WORKLOAD_API_INVALID_RESPONSE',
        message: expect.stringMatching(message),
      }),
    );
  });
});

describe('createLinearBackoff', () => {
  it('is linear, capped, and starts over after reset (go-spiffe)', () => {
    const b = createLinearBackoff();
    expect(Array.from({ length: 32 }, () => b.next()).slice(0, 3)).toEqual([1000, 2000, 3000]);
    expect(b.next()).toBe(30_000);
    b.reset();
    expect(b.next()).toBe(1000);
    const fast = createLinearBackoff({ initialDelayMs: 10, maxDelayMs: 25 });
    expect([fast.next(), fast.next(), fast.next()]).toEqual([10, 20, 25]);
  });

  it('refuses non-positive delays', () => {
    expect(() => createLinearBackoff({ initialDelayMs: 0 })).toThrow(RangeError);
    expect(() => createLinearBackoff({ maxDelayMs: Number.NaN })).toThrow(RangeError);
  });
});

describe('parseX509Svid / parseX509Context', () => {
  let ca: Awaited<ReturnType<typeof createTestCa>>;
  let svid: Svid;
  const message = (s: Svid, overrides: Partial<X509SvidMessage> = {}): X509SvidMessage => ({
    spiffe_id: s.spiffeId!,
    x509_svid: Buffer.concat(s.chainDer),
    x509_svid_key: Buffer.from(
      s.keyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''),
      'base64',
    ),
    bundle: ca.rootDer,
    hint: '',
    ...overrides,
  });

  beforeAll(async () => {
    ca = await createTestCa({ trustDomain: 'td.test', intermediate: true });
    svid = await ca.issueSvid({ spiffeId: 'spiffe://td.test/api' });
  });

  it('parses the chain, key, PEM forms and hint', () => {
    const parsed = parseX509Svid(message(svid, { hint: 'internal' }));
    expect(parsed.id.toString()).toBe('spiffe://td.test/api');
    expect(parsed.certificates).toHaveLength(2);
    expect(parsed.certChainPem).toBe(svid.chainPem);
    expect(parsed.privateKey.asymmetricKeyType).toBe('ec');
    expect(parsed.privateKeyPem).toContain('-----BEGIN PRIVATE KEY-----');
    expect(parsed.hint).toBe('internal');
    expect('hint' in parseX509Svid(message(svid))).toBe(false);
  });

  it.each([
    ['an invalid spiffe_id', { spiffe_id: 'spiffe://TD/x' }, /invalid spiffe_id/],
    [
      'a spiffe_id other than the leaf',
      { spiffe_id: 'spiffe://td.test/other' },
      /is for spiffe:\/\/td.test\/api/,
    ],
    ['an empty chain', { x509_svid: Buffer.alloc(0) }, /empty x509_svid/],
    ['a chain that is not DER', { x509_svid: Buffer.from('nope') }, /DER SEQUENCE/],
    ['a key that is not PKCS#8', { x509_svid_key: Buffer.from([0x30, 0x00]) }, /not a PKCS#8/],
  ])('refuses %s', (_name, overrides, pattern) => {
    expect(() => parseX509Svid(message(svid, overrides))).toThrow(
      expect.objectContaining({
        code: 'ERR_WORKLOAD_API_INVALID_RESPONSE',
        message: expect.stringMatching(pattern),
      }),
    );
  });

  it('refuses a key that does not match the leaf', async () => {
    const other = await ca.issueSvid({ spiffeId: 'spiffe://td.test/api' });
    expect(() =>
      parseX509Svid(message(svid, { x509_svid_key: message(other).x509_svid_key })),
    ).toThrow(/does not match the leaf/);
  });

  it('refuses a CA certificate as the leaf', async () => {
    const bad = await ca.issueSvid({ spiffeId: 'spiffe://td.test/api', isCa: true });
    expect(() => parseX509Svid(message(bad))).toThrow(/leaf certificate must not be a CA|ERR_SVID/);
  });

  it('collects own and federated bundles; the SVID bundle wins; no SVID is refused', async () => {
    const fed = await createTestCa({ trustDomain: 'fed.test' });
    const ctx = parseX509Context({
      svids: [message(svid)],
      crl: [],
      federated_bundles: { 'spiffe://fed.test': fed.rootDer, 'spiffe://td.test': fed.rootDer },
    });
    expect([...ctx.bundles.keys()].sort()).toEqual(['fed.test', 'td.test']);
    expect(ctx.bundles.get('td.test')!.authorities[0]!.raw).toEqual(ca.rootDer);
    expect(() => parseX509Context({ svids: [], crl: [], federated_bundles: {} })).toThrow(
      /holds no SVID/,
    );
    expect(() =>
      parseX509Context({
        svids: [message(svid)],
        crl: [],
        federated_bundles: { 'not a td!': fed.rootDer },
      }),
    ).toThrow(/not a trust domain/);
  });
});

describe('structToJson', () => {
  it('converts every google.protobuf.Value kind', () => {
    expect(
      structToJson({
        fields: {
          s: { kind: 'stringValue', stringValue: 'x' },
          n: { kind: 'numberValue', numberValue: 3 },
          b: { kind: 'boolValue', boolValue: true },
          z: { kind: 'nullValue', nullValue: 0 },
          l: {
            kind: 'listValue',
            listValue: { values: [{ kind: 'stringValue', stringValue: 'a' }] },
          },
          o: {
            kind: 'structValue',
            structValue: { fields: { k: { kind: 'numberValue', numberValue: 1 } } },
          },
        },
      }),
    ).toEqual({ s: 'x', n: 3, b: true, z: null, l: ['a'], o: { k: 1 } });
    expect(structToJson(null)).toEqual({});
  });
});
