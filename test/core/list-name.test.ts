import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LIST_NAME_MAX, MAX_SHARD, XG_NAME_MAX, listNamer } from '../../src/core/list-name.js';

describe('listNamer', () => {
  it('prefix + group + shard, parsed back; other names and other groups are not its lists', () => {
    const n = listNamer('f2b_', 'blocked');
    expect(n.name(1)).toBe('f2b_blocked.list1');
    expect(n.shardOf('f2b_blocked.list42')).toBe(42);
    expect(n.stem).toBe('f2b_blocked.list');
    expect(n.name(7).startsWith(n.stem)).toBe(true);
    for (const other of [
      'f2b_blocked.list0',
      'f2b_blocked.list01',
      'f2b_blocked.list',
      'f2b_blocked.list1x',
      'f2b_blocked6.list1',
      'f2b_198.51.100.1',
      'x_blocked.list1',
    ]) {
      expect(n.shardOf(other), other).toBeUndefined();
    }
    expect(listNamer('f2b_', 'blocked6').shardOf('f2b_blocked.list1')).toBeUndefined();
    expect(() => n.name(0)).toThrow(RangeError);
    expect(() => n.name(MAX_SHARD + 1)).toThrow(RangeError);
  });

  it('long, upper-case and unicode group names: within the limit, ASCII, distinct, and parsed back', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 50, unit: 'grapheme' }),
        fc.string({ minLength: 1, maxLength: 50, unit: 'grapheme' }),
        fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,19}$/),
        fc.integer({ min: 1, max: MAX_SHARD }),
        fc.constantFrom(LIST_NAME_MAX, XG_NAME_MAX),
        (g1, g2, prefix, shard, max) => {
          const a = listNamer(prefix, g1, max);
          const name = a.name(shard);
          expect([...name].length).toBeLessThanOrEqual(max);
          expect(name.length).toBeLessThanOrEqual(max);
          expect(name).toMatch(/^[A-Za-z0-9_.-]+$/);
          expect(name.startsWith(prefix)).toBe(true);
          expect(name.includes(',') || name.startsWith('#')).toBe(false);
          expect(a.shardOf(name)).toBe(shard);
          if (g1 !== g2) expect(listNamer(prefix, g2, max).shardOf(name)).toBeUndefined();
          // no upper case: firmware that ignores case cannot confuse two groups' lists
          expect(name.slice(prefix.length)).toBe(name.slice(prefix.length).toLowerCase());
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('examples: a 50-character group, a name with capitals, a non-Latin name', () => {
    const long = listNamer('f2b_', 'x'.repeat(50)).name(999_999);
    expect(long.length).toBeLessThanOrEqual(LIST_NAME_MAX);
    expect(long).toMatch(/^f2b_x+-[0-9a-f]{8}\.list999999$/);
    expect(listNamer('f2b_', 'Blocké').name(1)).toMatch(/^f2b_blocke-[0-9a-f]{8}\.list1$/);
    expect(listNamer('f2b_', 'Blocked').name(1)).not.toBe(listNamer('f2b_', 'blocked').name(1));
    expect(listNamer('f2b_', 'ブロック').name(3)).toMatch(/^f2b_.*-[0-9a-f]{8}\.list3$/);
  });

  it('refuses a limit over 60 and a prefix that leaves no room', () => {
    expect(() => listNamer('f2b_', 'g', 61)).toThrow(RangeError);
    expect(() => listNamer('p'.repeat(40), 'g')).toThrow(RangeError);
  });
});
