import { describe, expect, it } from 'vitest';
import { decodeToken } from '../../src/jwt/token-decode.js';

const seg = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const raw = (bytes: number[]): string => Buffer.from(bytes).toString('base64url');

describe('decodeToken', () => {
  it('decodes header and payload once, ignoring the signature segment', () => {
    const decoded = decodeToken(
      `${seg({ alg: 'ES256', kid: 'k' })}.${seg({ iss: 'i', n: 1 })}.sig`,
    );
    expect(decoded).toEqual({ header: { alg: 'ES256', kid: 'k' }, payload: { iss: 'i', n: 1 } });
  });

  it.each([
    ['a header that is an array', `${seg([{ alg: 'ES256' }])}.${seg({})}.s`],
    ['a payload that is a string', `${seg({ alg: 'ES256' })}.${seg('claims')}.s`],
    ['a payload that is null', `${seg({ alg: 'ES256' })}.${seg(null)}.s`],
    ['a header that is not JSON', `${Buffer.from('{alg:1}').toString('base64url')}.${seg({})}.s`],
    ['a payload that is not UTF-8', `${seg({ alg: 'ES256' })}.${raw([0x7b, 0xff, 0x7d])}.s`],
    ['a segment of length 4n+1', `${seg({ alg: 'ES256' })}A.${seg({})}.s`],
  ])('refuses %s', (_name, token) => {
    expect(decodeToken(token)).toBeUndefined();
  });

  it('keeps a "__proto__" member as data, not as a prototype', () => {
    const payloadJson = '{"__proto__":{"admin":true},"sub":"s"}';
    const token = `${seg({ alg: 'ES256' })}.${Buffer.from(payloadJson).toString('base64url')}.s`;
    const decoded = decodeToken(token);
    expect(Object.getPrototypeOf(decoded?.payload)).toBe(Object.prototype);
    expect((decoded?.payload as { admin?: unknown }).admin).toBeUndefined();
    expect(Object.hasOwn(decoded?.payload ?? {}, '__proto__')).toBe(true);
  });
});
