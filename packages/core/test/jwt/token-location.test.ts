import { describe, expect, it } from 'vitest';
import { findBearerToken } from '../../src/jwt/token-location.js';

describe('findBearerToken (default location: Authorization: Bearer)', () => {
  it.each<
    [string, Record<string, string | string[] | undefined>, ReturnType<typeof findBearerToken>]
  >([
    ['no header', {}, { kind: 'none' }],
    ['undefined header', { authorization: undefined }, { kind: 'none' }],
    [
      'Bearer token',
      { authorization: 'Bearer abc.def.ghi' },
      { kind: 'found', token: 'abc.def.ghi' },
    ],
    [
      'surrounding spaces trimmed',
      { authorization: 'Bearer   abc.def.ghi  ' },
      { kind: 'found', token: 'abc.def.ghi' },
    ],
    ['another scheme', { authorization: 'Basic dXNlcjpwYXNz' }, { kind: 'none' }],
    ['scheme without separator', { authorization: 'Bearerabc' }, { kind: 'none' }],
    ['empty array', { authorization: [] }, { kind: 'none' }],
    [
      'two Authorization headers',
      { authorization: ['Bearer a.b.c', 'Bearer d.e.f'] },
      { kind: 'ambiguous' },
    ],
    ['a token elsewhere is not looked at', { 'x-token': 'Bearer a.b.c' }, { kind: 'none' }],
  ])('%s', (_name, headers, expected) => {
    expect(findBearerToken(headers)).toEqual(expected);
  });

  it('matches the Bearer scheme case-insensitively (RFC 7235 §2.1; istio-semantics §11.8)', () => {
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      expect(findBearerToken({ authorization: `${scheme} abc.def.ghi` }), scheme).toEqual({
        kind: 'found',
        token: 'abc.def.ghi',
      });
    }
  });
});
