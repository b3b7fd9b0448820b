import { describe, expect, it } from 'vitest';
import { OnceSet } from '../../src/pipeline/once.js';

describe('OnceSet', () => {
  it('says "first" once per key', () => {
    const s = new OnceSet(10);
    expect(['a', 'b', 'a', 'a', 'b', 'c'].map((k) => s.first(k))).toEqual([true, true, false, false, false, true]);
  });

  it('stays within its cap, forgetting the least recently seen key first', () => {
    const s = new OnceSet(3);
    for (const k of ['a', 'b', 'c']) s.first(k);
    expect(s.first('a')).toBe(false); // refreshes a: b is now the oldest
    expect(s.first('d')).toBe(true); // evicts b
    expect(s.size).toBe(3);
    expect(s.first('a')).toBe(false);
    expect(s.first('c')).toBe(false);
    expect(s.first('b')).toBe(true); // forgotten, so reported again
  });

  it('a flood of distinct keys keeps memory at the cap; a key that keeps recurring is reported once', () => {
    const s = new OnceSet(100);
    let reportsOfRecurring = 0;
    for (let i = 0; i < 10_000; i++) {
      if (s.first('restored-never-block')) reportsOfRecurring++;
      s.first(`flood-${i}`);
    }
    expect(s.size).toBe(100);
    expect(reportsOfRecurring).toBe(1);
  });

  it('forget makes a key news again', () => {
    const s = new OnceSet();
    s.first('x');
    s.forget('x');
    expect(s.first('x')).toBe(true);
    expect(() => new OnceSet(0)).toThrow(RangeError);
  });
});
