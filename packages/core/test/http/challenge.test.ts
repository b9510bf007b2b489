import { describe, expect, it } from 'vitest';
import { bearerChallenge } from '../../src/http/challenge.js';

describe('bearerChallenge (RFC 6750)', () => {
  it('defaults the realm', () => {
    expect(bearerChallenge()).toBe('Bearer realm="meshless"');
  });

  it('adds error and description', () => {
    expect(
      bearerChallenge({ realm: 'api', error: 'invalid_token', description: 'token is expired' }),
    ).toBe('Bearer realm="api", error="invalid_token", error_description="token is expired"');
  });

  it('strips quotes, backslashes and control characters (no header injection)', () => {
    const header = bearerChallenge({
      realm: 'a"b\\c',
      description: 'x"\r\nSet-Cookie: s=1\u0000\u007f',
    });
    expect(header).toBe('Bearer realm="abc", error_description="xSet-Cookie: s=1"');
    expect([...header].filter((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)).toEqual(
      [],
    );
  });
});
