import { describe, expect, it } from 'vitest';
import { normalizeRequestPath, type PathNormalization } from '../../src/http/request-path.js';

const MODES = ['NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'] as const;

/** raw request-target → expected path per mode [NONE, BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES]. */
const BYPASS_SHAPES: [string, [string, string, string, string]][] = [
  // CVE-2019-9901: dot segments
  ['/public/../admin', ['/public/../admin', '/admin', '/admin', '/admin']],
  ['/public/./../admin', ['/public/./../admin', '/admin', '/admin', '/admin']],
  ['/../../admin', ['/../../admin', '/admin', '/admin', '/admin']],
  ['/a/b/..', ['/a/b/..', '/a/', '/a/', '/a/']],
  ['/a/./b/.', ['/a/./b/.', '/a/b/', '/a/b/', '/a/b/']],
  ['/..', ['/..', '/', '/', '/']],
  // CVE-2021-31920: double slashes, escaped slashes and backslashes
  ['//admin', ['//admin', '//admin', '/admin', '/admin']],
  ['/a//b///c', ['/a//b///c', '/a//b///c', '/a/b/c', '/a/b/c']],
  ['/a/%2F/admin', ['/a/%2F/admin', '/a/%2F/admin', '/a/%2F/admin', '/a/admin']],
  ['/a%2fadmin', ['/a%2fadmin', '/a%2Fadmin', '/a%2Fadmin', '/a/admin']],
  [
    '/public%2F..%2Fadmin',
    ['/public%2F..%2Fadmin', '/public%2F..%2Fadmin', '/public%2F..%2Fadmin', '/admin'],
  ],
  ['/a%5Cadmin', ['/a%5Cadmin', '/a%5Cadmin', '/a%5Cadmin', '/a/admin']],
  [
    '/public%5c..%5cadmin',
    ['/public%5c..%5cadmin', '/public%5C..%5Cadmin', '/public%5C..%5Cadmin', '/admin'],
  ],
  ['/public\\..\\admin', ['/public\\..\\admin', '/admin', '/admin', '/admin']],
  ['/\\admin', ['/\\admin', '//admin', '/admin', '/admin']],
  // Unreserved escapes are decoded (once), reserved escapes kept with upper-case hex
  ['/%61dmin', ['/%61dmin', '/admin', '/admin', '/admin']],
  ['/%41%5a%30%2D%2e%5F%7e', ['/%41%5a%30%2D%2e%5F%7e', '/AZ0-._~', '/AZ0-._~', '/AZ0-._~']],
  ['/public/%2e%2e/admin', ['/public/%2e%2e/admin', '/admin', '/admin', '/admin']],
  ['/public/%2E./admin', ['/public/%2E./admin', '/admin', '/admin', '/admin']],
  [
    '/%252e%252e/admin',
    ['/%252e%252e/admin', '/%252e%252e/admin', '/%252e%252e/admin', '/%252e%252e/admin'],
  ],
  ['/%2561dmin', ['/%2561dmin', '/%2561dmin', '/%2561dmin', '/%2561dmin']],
  ['/a%3fb%3Dc', ['/a%3fb%3Dc', '/a%3Fb%3Dc', '/a%3Fb%3Dc', '/a%3Fb%3Dc']],
  ['/caf%c3%a9', ['/caf%c3%a9', '/caf%C3%A9', '/caf%C3%A9', '/caf%C3%A9']],
  ['/a%2f%2Fb', ['/a%2f%2Fb', '/a%2F%2Fb', '/a%2F%2Fb', '/a/b']],
  // Case is preserved (paths are case-sensitive)
  ['/ADMIN', ['/ADMIN', '/ADMIN', '/ADMIN', '/ADMIN']],
];

describe('normalizeRequestPath: bypass shapes in each mode', () => {
  for (const [raw, expected] of BYPASS_SHAPES) {
    MODES.forEach((mode, i) => {
      it(`${mode}: ${JSON.stringify(raw)} → ${JSON.stringify(expected[i])}`, () => {
        expect(normalizeRequestPath(raw, mode)).toEqual({
          ok: true,
          path: expected[i],
          query: undefined,
        });
      });
    });
  }
});

describe('normalizeRequestPath: query and fragment', () => {
  it.each(MODES)('%s: the fragment is stripped (CVE-2021-39156)', (mode) => {
    expect(normalizeRequestPath('/admin#frag', mode)).toEqual({
      ok: true,
      path: '/admin',
      query: undefined,
    });
    expect(normalizeRequestPath('/user/profile#x/../../admin', mode)).toEqual({
      ok: true,
      path: '/user/profile',
      query: undefined,
    });
  });

  it.each(MODES)('%s: the query is split off and preserved verbatim', (mode) => {
    expect(normalizeRequestPath('/admin?x=1', mode)).toEqual({
      ok: true,
      path: '/admin',
      query: 'x=1',
    });
    expect(normalizeRequestPath('/p?a=%2F&b=..//&c=%61', mode)).toEqual({
      ok: true,
      path: '/p',
      query: 'a=%2F&b=..//&c=%61',
    });
    expect(normalizeRequestPath('/admin?', mode)).toEqual({ ok: true, path: '/admin', query: '' });
  });

  it.each(MODES)('%s: query then fragment', (mode) => {
    expect(normalizeRequestPath('/admin?x=1#frag', mode)).toEqual({
      ok: true,
      path: '/admin',
      query: 'x=1',
    });
    // A `?` after the `#` is part of the fragment.
    expect(normalizeRequestPath('/admin#frag?x=1', mode)).toEqual({
      ok: true,
      path: '/admin',
      query: undefined,
    });
  });

  it('normalizes the path but never the query', () => {
    expect(normalizeRequestPath('/public/../admin?next=/public/../x', 'BASE')).toEqual({
      ok: true,
      path: '/admin',
      query: 'next=/public/../x',
    });
  });
});

describe('normalizeRequestPath: refusals', () => {
  it.each(MODES)('%s: an encoded NUL is refused', (mode) => {
    for (const raw of ['/admin%00', '/a%00b/c', '/%00', '/x%00.json?y=1']) {
      const r = normalizeRequestPath(raw, mode);
      expect(r.ok, raw).toBe(false);
      if (!r.ok) expect(r.detail).toMatch(/NUL/);
    }
  });

  it('%2500 is not a NUL (decoded once)', () => {
    expect(normalizeRequestPath('/a%2500', 'DECODE_AND_MERGE_SLASHES')).toEqual({
      ok: true,
      path: '/a%2500',
      query: undefined,
    });
  });

  it.each(['admin', '', '?x=1', 'http://evil/admin', '#/admin'])(
    'a non-absolute path %j is refused',
    (raw) => {
      expect(normalizeRequestPath(raw).ok).toBe(false);
    },
  );

  it('accepts the asterisk-form request-target', () => {
    expect(normalizeRequestPath('*')).toEqual({ ok: true, path: '*', query: undefined });
  });
});

describe('normalizeRequestPath: default mode', () => {
  it('is DECODE_AND_MERGE_SLASHES', () => {
    const raw = '//a/%2F/b/%5C/../c%2fd';
    expect(normalizeRequestPath(raw)).toEqual(
      normalizeRequestPath(raw, 'DECODE_AND_MERGE_SLASHES'),
    );
    // Envoy's order: `%2F`/`%5C` become slashes, then dot segments are removed (`..` removes the
    // empty segment before it), then slashes merge.
    expect(normalizeRequestPath(raw)).toEqual({ ok: true, path: '/a/b/c/d', query: undefined });
    expect(normalizeRequestPath('/a//../b')).toEqual({ ok: true, path: '/a/b', query: undefined });
  });

  it('is idempotent on its own output', () => {
    for (const [raw] of BYPASS_SHAPES) {
      for (const mode of MODES as readonly PathNormalization[]) {
        const once = normalizeRequestPath(raw, mode);
        if (!once.ok || mode === 'NONE') continue;
        // `%2F` kept by BASE/MERGE_SLASHES stays `%2F`; everything else is a fixed point.
        expect(normalizeRequestPath(once.path, mode), `${mode} ${raw}`).toEqual(once);
      }
    }
  });
});
