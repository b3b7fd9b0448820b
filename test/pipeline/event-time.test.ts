// timeOf: the one reading of an event's time (model stale check, repeat filter) and its fast path.
import { describe, expect, it } from 'vitest';
import { timeOf } from '../../src/pipeline/event-time.js';

describe('timeOf', () => {
  it('reads the canonical isoTime exactly as Date.parse(isoTime + "Z") does, on 20,000 times from 1970 to 2199', () => {
    let x = 12345;
    const rnd = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 4294967296;
    for (let i = 0; i < 20_000; i++) {
      const iso = new Date(Math.floor(rnd() * Date.UTC(2199, 11, 31))).toISOString().slice(0, 23);
      expect(timeOf({ isoTime: iso })).toBe(Date.parse(`${iso}Z`));
    }
    for (const iso of [
      '2024-02-29T23:59:59.999',
      '2026-12-31T00:00:00.000',
      '2000-03-01T00:00:00.000',
      '2026-12-04T17:30:05.9',
      '2026-12-04T17:30:05',
    ])
      expect(timeOf({ isoTime: iso })).toBe(Date.parse(`${iso}Z`));
    expect(timeOf({})).toBeNaN();
    expect(timeOf({ isoTime: 'not a time at all, 23ch' })).toBeNaN();
  });
});
