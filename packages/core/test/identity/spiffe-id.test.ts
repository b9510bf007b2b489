import { describe, expect, it } from 'vitest';
import {
  MeshlessError,
  PolicyError,
  SpiffeIdError,
  type SpiffeIdErrorCode,
} from '../../src/errors.js';
import {
  parseSpiffeId,
  parseTrustDomain,
  SpiffeId,
  TrustDomain,
} from '../../src/identity/spiffe-id.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SpiffeIdError);
    expect(error).toBeInstanceOf(MeshlessError);
    return (error as SpiffeIdError).code;
  }
  return undefined;
}

const TD_255 = 'a'.repeat(251) + '.org';
const TD_256 = 'a'.repeat(252) + '.org';

describe('parseSpiffeId: valid IDs', () => {
  it.each([
    ['spiffe://example.org', 'example.org', '', []],
    [
      'spiffe://example.org/ns/payments/sa/checkout',
      'example.org',
      '/ns/payments/sa/checkout',
      ['ns', 'payments', 'sa', 'checkout'],
    ],
    [
      'spiffe://td-1_x.example/Path.With-Upper_case',
      'td-1_x.example',
      '/Path.With-Upper_case',
      ['Path.With-Upper_case'],
    ],
    ['spiffe://0.1/a/b.c/...', '0.1', '/a/b.c/...', ['a', 'b.c', '...']],
    ['spiffe://td/.a/a./..b', 'td', '/.a/a./..b', ['.a', 'a.', '..b']],
    [`spiffe://${TD_255}/w`, TD_255, '/w', ['w']],
  ])('%s', (input, td, path, segments) => {
    const id = parseSpiffeId(input);
    expect(id).toBeInstanceOf(SpiffeId);
    expect(id.trustDomain).toBeInstanceOf(TrustDomain);
    expect(id.trustDomain.name).toBe(td);
    expect(id.path).toBe(path);
    expect(id.segments).toEqual(segments);
    expect(id.toString()).toBe(input);
    expect(id.isTrustDomainId).toBe(path === '');
  });

  it('accepts an ID of exactly 2048 bytes', () => {
    const input = 'spiffe://td/' + 'a'.repeat(2048 - 'spiffe://td/'.length);
    expect(input).toHaveLength(2048);
    expect(parseSpiffeId(input).toString()).toBe(input);
  });
});

describe('parseSpiffeId: rejections with their exact code', () => {
  const cases: [string, string, SpiffeIdErrorCode][] = [
    ['empty', '', 'ERR_SPIFFE_ID_EMPTY'],
    ['upper-case scheme', 'SPIFFE://example.org/x', 'ERR_SPIFFE_ID_SCHEME'],
    ['mixed-case scheme', 'Spiffe://example.org/x', 'ERR_SPIFFE_ID_SCHEME'],
    ['wrong scheme', 'https://example.org/x', 'ERR_SPIFFE_ID_SCHEME'],
    ['typo scheme (go verify_test)', 'sparfe://domain1.test/workload', 'ERR_SPIFFE_ID_SCHEME'],
    ['one slash', 'spiffe:/example.org/x', 'ERR_SPIFFE_ID_SCHEME'],
    ['no scheme', 'example.org/x', 'ERR_SPIFFE_ID_SCHEME'],
    ['leading space', ' spiffe://example.org/x', 'ERR_SPIFFE_ID_SCHEME'],
    ['scheme only', 'spiffe://', 'ERR_SPIFFE_ID_TRUST_DOMAIN_MISSING'],
    ['no trust domain', 'spiffe:///x', 'ERR_SPIFFE_ID_TRUST_DOMAIN_MISSING'],
    ['upper-case trust domain', 'spiffe://Example.org/x', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHAR'],
    ['all upper trust domain', 'spiffe://EXAMPLE.ORG', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHAR'],
    [
      'Kelvin sign in trust domain',
      'spiffe://\u212Aube.example/x',
      'ERR_SPIFFE_ID_TRUST_DOMAIN_CHAR',
    ],
    [
      'dotted capital I in trust domain',
      'spiffe://\u0130.example/x',
      'ERR_SPIFFE_ID_TRUST_DOMAIN_CHAR',
    ],
    [
      'Cyrillic a in trust domain',
      'spiffe://ex\u0430mple.org/x',
      'ERR_SPIFFE_ID_TRUST_DOMAIN_CHAR',
    ],
    ['port', 'spiffe://td:8080/x', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHAR'],
    ['userinfo', 'spiffe://u@td/x', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHAR'],
    ['userinfo with password', 'spiffe://u:p@td/x', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHAR'],
    ['query without path', 'spiffe://td?x=1', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHAR'],
    ['fragment without path', 'spiffe://td#f', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHAR'],
    ['percent-encoding in trust domain', 'spiffe://t%41d/x', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHAR'],
    ['trailing newline in trust domain', 'spiffe://td\n', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHAR'],
    ['query', 'spiffe://td/x?q=1', 'ERR_SPIFFE_ID_PATH_CHAR'],
    ['fragment', 'spiffe://td/x#frag', 'ERR_SPIFFE_ID_PATH_CHAR'],
    ['percent-encoded slash', 'spiffe://td/a%2Fb', 'ERR_SPIFFE_ID_PATH_CHAR'],
    ['percent-encoded letter', 'spiffe://td/%61', 'ERR_SPIFFE_ID_PATH_CHAR'],
    ['Kelvin sign in path', 'spiffe://td/\u212A', 'ERR_SPIFFE_ID_PATH_CHAR'],
    ['space in path', 'spiffe://td/a b', 'ERR_SPIFFE_ID_PATH_CHAR'],
    ['NUL in path', 'spiffe://td/a\u0000b', 'ERR_SPIFFE_ID_PATH_CHAR'],
    ['trailing newline in path', 'spiffe://td/a\n', 'ERR_SPIFFE_ID_PATH_CHAR'],
    ['SAN string injection', 'spiffe://td/a, URI:spiffe://td/admin', 'ERR_SPIFFE_ID_PATH_CHAR'],
    ['colon in path', 'spiffe://td/a:b', 'ERR_SPIFFE_ID_PATH_CHAR'],
    ['backslash in path', 'spiffe://td/a\\b', 'ERR_SPIFFE_ID_PATH_CHAR'],
    ['empty first segment', 'spiffe://td//x', 'ERR_SPIFFE_ID_PATH_EMPTY_SEGMENT'],
    ['empty middle segment', 'spiffe://td/a//b', 'ERR_SPIFFE_ID_PATH_EMPTY_SEGMENT'],
    ['dot segment', 'spiffe://td/.', 'ERR_SPIFFE_ID_PATH_DOT_SEGMENT'],
    ['dot-dot segment', 'spiffe://td/..', 'ERR_SPIFFE_ID_PATH_DOT_SEGMENT'],
    ['inner dot segment', 'spiffe://td/a/./b', 'ERR_SPIFFE_ID_PATH_DOT_SEGMENT'],
    ['inner dot-dot segment', 'spiffe://td/a/../b', 'ERR_SPIFFE_ID_PATH_DOT_SEGMENT'],
    ['trailing slash on trust domain', 'spiffe://td/', 'ERR_SPIFFE_ID_TRAILING_SLASH'],
    ['trailing slash on path', 'spiffe://td/a/', 'ERR_SPIFFE_ID_TRAILING_SLASH'],
    [
      'over-long ID (2049 bytes)',
      'spiffe://td/' + 'a'.repeat(2049 - 'spiffe://td/'.length),
      'ERR_SPIFFE_ID_TOO_LONG',
    ],
    [
      'over-long trust domain (256 bytes)',
      `spiffe://${TD_256}/w`,
      'ERR_SPIFFE_ID_TRUST_DOMAIN_TOO_LONG',
    ],
  ];

  it.each(cases)('%s: %j → %s', (_name, input, code) => {
    expect(codeOf(() => parseSpiffeId(input))).toBe(code);
  });

  it('rejects a non-string input as empty', () => {
    expect(codeOf(() => parseSpiffeId(undefined as unknown as string))).toBe('ERR_SPIFFE_ID_EMPTY');
    expect(codeOf(() => parseSpiffeId(42 as unknown as string))).toBe('ERR_SPIFFE_ID_EMPTY');
  });

  it('error messages do not echo the input', () => {
    const input = 'spiffe://td/secret-value?token=abc';
    try {
      parseSpiffeId(input);
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain('secret-value');
      expect((error as Error).name).toBe('SpiffeIdError');
    }
  });
});

describe('parseTrustDomain', () => {
  it.each([
    ['example.org', 'example.org'],
    ['spiffe://example.org', 'example.org'],
    ['td-1_x.0', 'td-1_x.0'],
    [TD_255, TD_255],
  ])('%s → %s', (input, name) => {
    const td = parseTrustDomain(input);
    expect(td.name).toBe(name);
    expect(td.toString()).toBe(name);
    expect(td.idString).toBe(`spiffe://${name}`);
  });

  it.each<[string, SpiffeIdErrorCode]>([
    ['', 'ERR_SPIFFE_ID_TRUST_DOMAIN_MISSING'],
    ['Example.org', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHAR'],
    ['\u212Aube.example', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHAR'],
    ['example.org:8080', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHAR'],
    ['u@example.org', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHAR'],
    ['example.org/x', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHAR'],
    [TD_256, 'ERR_SPIFFE_ID_TRUST_DOMAIN_TOO_LONG'],
    ['spiffe://', 'ERR_SPIFFE_ID_TRUST_DOMAIN_MISSING'],
    ['SPIFFE://example.org', 'ERR_SPIFFE_ID_SCHEME'],
    ['spiffe://example.org/', 'ERR_SPIFFE_ID_TRAILING_SLASH'],
    ['spiffe://example.org/workload', 'ERR_SPIFFE_ID_PATH_CHAR'],
  ])('%j → %s', (input, code) => {
    expect(codeOf(() => parseTrustDomain(input))).toBe(code);
  });

  it('compares by value', () => {
    expect(parseTrustDomain('example.org').equals(parseTrustDomain('spiffe://example.org'))).toBe(
      true,
    );
    expect(parseTrustDomain('example.org').equals(parseTrustDomain('example.com'))).toBe(false);
  });
});

describe('SpiffeId value semantics', () => {
  it('equals compares the full ID', () => {
    const a = parseSpiffeId('spiffe://example.org/ns/a/sa/b');
    expect(a.equals(parseSpiffeId('spiffe://example.org/ns/a/sa/b'))).toBe(true);
    expect(a.equals(parseSpiffeId('spiffe://example.org/ns/a/sa/B'))).toBe(false);
    expect(a.equals(parseSpiffeId('spiffe://example.com/ns/a/sa/b'))).toBe(false);
    expect(a.equals(parseSpiffeId('spiffe://example.org/ns/a/sa'))).toBe(false);
    expect(a.trustDomain.equals(parseSpiffeId('spiffe://example.org').trustDomain)).toBe(true);
  });

  it('a trust domain ID has no segments; a workload ID does', () => {
    const td = parseSpiffeId('spiffe://example.org');
    expect(td.isTrustDomainId).toBe(true);
    expect(td.segments).toEqual([]);
    expect(td.path).toBe('');
    const w = parseSpiffeId('spiffe://example.org/w');
    expect(w.isTrustDomainId).toBe(false);
    expect(w.segments).toEqual(['w']);
  });

  it('serializes to its string form', () => {
    const id = parseSpiffeId('spiffe://example.org/ns/a/sa/b');
    expect(JSON.stringify({ id })).toBe('{"id":"spiffe://example.org/ns/a/sa/b"}');
    expect(`${id.toString()}`).toBe('spiffe://example.org/ns/a/sa/b');
  });

  it('segments is a fresh copy (mutating it does not change the ID)', () => {
    const id = parseSpiffeId('spiffe://example.org/a/b');
    id.segments.push('c');
    expect(id.segments).toEqual(['a', 'b']);
    expect(id.toString()).toBe('spiffe://example.org/a/b');
  });
});

describe('MeshlessError branding', () => {
  it('recognizes branded errors from another copy of the package, subclasses included', () => {
    const brands = Symbol.for('@meshless/core.error.brands');
    const foreign = new Error('x');
    Object.defineProperty(foreign, brands, { value: ['SpiffeIdError', 'MeshlessError'] });
    expect(foreign).toBeInstanceOf(MeshlessError);
    expect(foreign).toBeInstanceOf(SpiffeIdError);
    expect(foreign).not.toBeInstanceOf(PolicyError);
    expect(new Error('plain')).not.toBeInstanceOf(MeshlessError);
    const own = new PolicyError('ERR_POLICY_FIELD', 'x');
    expect(own).toBeInstanceOf(PolicyError);
    expect(own).toBeInstanceOf(MeshlessError);
    expect(own).not.toBeInstanceOf(SpiffeIdError);
  });
});
