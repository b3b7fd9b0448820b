// The year of a traditional syslog time ("Dec  4 12:00:00"), chosen against an injected "now":
// New Year both ways, Feb 29, the one day of slack, no now at all; and a property against an oracle
// that works on ISO strings rather than on the module's arithmetic.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { parseLine } from '../../src/parser/index.js';
import { bsdIsoTime, pickYear } from '../../src/parser/syslog-year.js';

const at = (iso: string): number => Date.parse(`${iso}Z`);
const line = (stamp: string, host = 'web1') => `${stamp} ${host} fail2ban.actions[1234]: NOTICE [sshd] Ban 192.0.2.7`;
const iso = (stamp: string, now?: number) => {
  const r = parseLine(line(stamp), now === undefined ? undefined : { now });
  if (r.kind !== 'event') throw new Error(`not an event: ${stamp}`);
  return r.event.isoTime;
};

describe('year of the traditional syslog time', () => {
  const table: Array<[string, string, string, string | undefined]> = [
    ['same day', 'Dec  4 12:00:00', '2026-12-04T18:00:00', '2026-12-04T12:00:00.000'],
    ['New Year: last second of the year read on Jan 1 is last year', 'Dec 31 23:59:59', '2027-01-01T00:00:05', '2026-12-31T23:59:59.000'],
    [
      'New Year: Jan 1 read on Dec 31 (sender a little ahead) is next year',
      'Jan  1 00:00:03',
      '2026-12-31T23:59:59',
      '2027-01-01T00:00:03.000',
    ],
    ['Jan 1 read on Dec 30, more than a day before: a year ago', 'Jan  1 00:00:03', '2026-12-30T23:00:00', '2026-01-01T00:00:03.000'],
    ['a sender up to one day ahead keeps this year', 'Dec  5 00:00:00', '2026-12-04T00:00:00', '2026-12-05T00:00:00.000'],
    ['one second more than a day ahead is last year', 'Dec  5 00:00:01', '2026-12-04T00:00:00', '2025-12-05T00:00:01.000'],
    ['Dec 31 read in June: last year', 'Dec 31 10:00:00', '2026-06-01T00:00:00', '2025-12-31T10:00:00.000'],
    ['Feb 29 in a leap year', 'Feb 29 12:00:00', '2028-03-01T00:00:00', '2028-02-29T12:00:00.000'],
    ['Feb 29 read the day before, in the leap year', 'Feb 29 00:00:00', '2028-02-28T12:00:00', '2028-02-29T00:00:00.000'],
    ['Feb 29 read in the year after a leap year: Y-1', 'Feb 29 12:00:00', '2029-01-10T00:00:00', '2028-02-29T12:00:00.000'],
    ['Feb 29 read on Dec 31 before a leap year is not next year (too far)', 'Feb 29 12:00:00', '2027-12-31T00:00:00', undefined],
    ['Feb 29 with no leap year among Y-1, Y, Y+1', 'Feb 29 12:00:00', '2026-07-01T00:00:00', undefined],
    ['Apr 31 exists in no year', 'Apr 31 12:00:00', '2026-07-01T00:00:00', undefined],
    ['day 00', 'Dec 00 12:00:00', '2026-12-04T00:00:00', undefined],
    ['day 32', 'Dec 32 12:00:00', '2026-12-04T00:00:00', undefined],
    ['hour 24', 'Dec  4 24:00:00', '2026-12-04T00:00:00', undefined],
    ['minute 60', 'Dec  4 12:60:00', '2026-12-04T00:00:00', undefined],
  ];
  it.each(table)('%s', (_name, stamp, now, want) => {
    expect(iso(stamp, at(now))).toBe(want);
    const r = parseLine(line(stamp), { now: at(now) });
    expect(r.kind === 'event' && r.event.time).toBe(stamp); // the stamp as written, whatever the year
  });

  it('without now there is no year and no isoTime (as before)', () => {
    expect(iso('Dec  4 12:00:00')).toBeUndefined();
    expect(parseLine(line('Dec  4 12:00:00'), {})).toMatchObject({ kind: 'event', event: { time: 'Dec  4 12:00:00' } });
    const r = parseLine(line('Dec  4 12:00:00'), {});
    expect(r.kind === 'event' && 'isoTime' in r.event).toBe(false);
  });

  it('a now that is not a number gives no year', () => {
    expect(iso('Dec  4 12:00:00', Number.NaN)).toBeUndefined();
    expect(pickYear(11, 4, 12, 0, 0, Number.POSITIVE_INFINITY)).toBeUndefined();
  });

  it('now only matters for the traditional format', () => {
    const now = at('2030-06-01T00:00:00');
    expect(parseLine(line('2026-12-04T12:00:00.123456+01:00'), { now })).toEqual(parseLine(line('2026-12-04T12:00:00.123456+01:00')));
    const file = '2026-11-25 04:39:52,876 fail2ban.actions        [10839]: NOTICE  [sshd] Ban 192.0.2.10';
    expect(parseLine(file, { now })).toEqual(parseLine(file));
  });

  it('works on a span of a bigger text', () => {
    const text = `xx${line('Jan  1 00:00:03')}\nyy`;
    expect(bsdIsoTime(text, 2, at('2026-12-31T23:59:59'))).toBe('2027-01-01T00:00:03.000');
  });
});

/** Oracle: try Y+1, Y, Y-1 as ISO strings; a date exists when it survives a round trip. */
function oracle(mon: number, day: number, hms: string, now: number): string | undefined {
  const y = new Date(now).getUTCFullYear();
  for (const year of [y + 1, y, y - 1]) {
    const s = `${String(year).padStart(4, '0')}-${String(mon + 1).padStart(2, '0')}-${String(day).padStart(2, '0')}T${hms}.000`;
    const t = Date.parse(`${s}Z`);
    if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 23) !== s) continue;
    if (t - now <= 86_400_000) return s;
  }
  return undefined;
}

describe('property: the chosen year is the latest candidate at most one day ahead', () => {
  const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  it('agrees with the oracle', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2100, 0, 1) }),
        fc.integer({ min: 0, max: 11 }),
        fc.integer({ min: 1, max: 31 }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 59 }),
        (now, mon, day, h, m, s) => {
          const two = (n: number) => String(n).padStart(2, '0');
          const hms = `${two(h)}:${two(m)}:${two(s)}`;
          const stamp = `${MON[mon]} ${String(day).padStart(2, ' ')} ${hms}`;
          expect(iso(stamp, now)).toBe(oracle(mon, day, hms, now));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('New Year is covered around every year boundary', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1990, max: 2100 }), fc.integer({ min: -86_400_000, max: 86_400_000 }), (year, delta) => {
        const now = Date.UTC(year, 0, 1) + delta;
        expect(iso('Dec 31 23:59:59', now)).toBe(oracle(11, 31, '23:59:59', now));
        expect(iso('Jan  1 00:00:00', now)).toBe(oracle(0, 1, '00:00:00', now));
      }),
      { numRuns: 500 },
    );
  });
});
