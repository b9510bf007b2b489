import { describe, expect, it } from 'vitest';
import { Lru } from '../../src/internal/lru.js';

const keysOf = (lru: Lru<string, number>, candidates: string[]): string[] =>
  candidates.filter((k) => lru.has(k));

describe('Lru', () => {
  it('evicts the least recently used entry; get and set refresh recency', () => {
    const lru = new Lru<string, number>(3);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('c', 3);
    expect(lru.get('a')).toBe(1); // a is now the newest: b is the oldest
    lru.set('d', 4);
    expect(keysOf(lru, ['a', 'b', 'c', 'd'])).toEqual(['a', 'c', 'd']);
    lru.set('c', 30); // update refreshes c: a is the oldest
    lru.set('e', 5);
    expect(keysOf(lru, ['a', 'b', 'c', 'd', 'e'])).toEqual(['c', 'd', 'e']);
    expect(lru.get('c')).toBe(30);
    expect(lru.size).toBe(3);
  });

  it('delete and clear keep the recency list consistent', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1);
    lru.delete('a');
    lru.delete('missing');
    expect(lru.size).toBe(0);
    lru.set('b', 2);
    lru.set('c', 3);
    lru.delete('c'); // the newest
    lru.set('d', 4);
    lru.set('e', 5); // evicts b, the oldest
    expect(keysOf(lru, ['b', 'c', 'd', 'e'])).toEqual(['d', 'e']);
    lru.clear();
    expect(lru.size).toBe(0);
    expect(lru.get('d')).toBeUndefined();
    lru.set('f', 6);
    lru.set('g', 7);
    lru.set('h', 8);
    expect(keysOf(lru, ['f', 'g', 'h'])).toEqual(['g', 'h']);
  });

  it('keeps exactly the newest entries under heavy churn, with a single entry capacity too', () => {
    const lru = new Lru<number, number>(1_000);
    for (let i = 0; i < 50_000; i++) {
      lru.set(i, i);
      if (i % 7 === 0) lru.get(i - 500); // refresh some entries still inside the window
    }
    expect(lru.size).toBe(1_000);
    expect(lru.get(49_999)).toBe(49_999);
    expect(lru.has(48_000)).toBe(false); // last used at 48,500 at the latest: 1,500 inserts ago
    const one = new Lru<string, number>(1);
    one.set('x', 1);
    one.set('y', 2);
    expect(one.get('x')).toBeUndefined();
    expect(one.get('y')).toBe(2);
    expect(one.size).toBe(1);
  });

  it('refuses a size below 1', () => {
    expect(() => new Lru(0)).toThrow(RangeError);
    expect(() => new Lru(1.5)).toThrow(RangeError);
  });
});
