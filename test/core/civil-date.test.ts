// daysFromCivil against Date.UTC: the parser's syslog year and the pipeline's event time rest on it.
import { describe, expect, it } from 'vitest';
import { daysFromCivil } from '../../src/core/civil-date.js';

describe('daysFromCivil', () => {
  it('equals Date.UTC / 1 day on every day from 1899 to 2201 and on the epoch', () => {
    expect(daysFromCivil(1970, 1, 1)).toBe(0);
    for (let t = Date.UTC(1899, 0, 1); t <= Date.UTC(2201, 11, 31); t += 86_400_000) {
      const d = new Date(t);
      expect(daysFromCivil(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate())).toBe(t / 86_400_000);
    }
  });
});
