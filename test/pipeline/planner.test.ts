import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { chunk, diff, pending, plan } from '../../src/pipeline/planner.js';

describe('plan', () => {
  it('adds what is missing and removes what is extra, sorted and chunked', () => {
    const desired = new Set(['192.0.2.5', '192.0.2.1', '192.0.2.3', '192.0.2.4', '192.0.2.2']);
    const known = new Set(['192.0.2.3', '198.51.100.1', '198.51.100.2']);
    expect(plan(desired, known, 2)).toEqual({
      add: [
        ['192.0.2.1', '192.0.2.2'],
        ['192.0.2.4', '192.0.2.5'],
      ],
      remove: [['198.51.100.1', '198.51.100.2']],
    });
  });
  it('leaves held addresses alone: not removed when present, not added when absent', () => {
    const known = new Set(['192.0.2.1', '192.0.2.2']);
    expect(plan(new Set(['192.0.2.3']), known, 50, new Set(['192.0.2.1', '192.0.2.9']))).toEqual({
      add: [['192.0.2.3']],
      remove: [['192.0.2.2']],
    });
  });
  it('plans nothing when equal', () => {
    expect(plan(new Set(['a', 'b']), new Set(['b', 'a']), 50)).toEqual({ add: [], remove: [] });
  });
  it('chunks exactly at the size', () => {
    expect(chunk([1, 2, 3, 4, 5, 6], 3)).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(chunk([1, 2, 3, 4, 5, 6, 7], 3)).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(chunk([], 3)).toEqual([]);
    expect(() => chunk([1], 0)).toThrow(RangeError);
  });
});

describe('pending', () => {
  it('counts what diff lists, for any desired, known and kept sets', () => {
    const addr = fc.integer({ min: 0, max: 40 }).map((i) => `192.0.2.${i}`);
    const set = fc.uniqueArray(addr, { maxLength: 30 }).map((a) => new Set(a));
    fc.assert(
      fc.property(set, set, set, (desired, known, keep) => {
        const d = diff(desired, known, keep);
        expect(pending(desired, known, keep)).toEqual({ add: d.add.length, remove: d.remove.length });
      }),
    );
  });

  it('before the first read everything desired is pending and nothing is removed', () => {
    expect(pending(new Set(['192.0.2.1', '192.0.2.2']), undefined)).toEqual({ add: 2, remove: 0 });
  });
});
