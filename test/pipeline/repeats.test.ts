// The repeat filter (issue 13): a line a syslog transport delivered twice is dropped, per named source.
import { describe, expect, it } from 'vitest';
import type { F2bEvent } from '../../src/parser/types.js';
import { LineWindow, REPEAT_WINDOW, RepeatFilter, lineKey } from '../../src/pipeline/repeats.js';

// A central rsyslog file line (RSYSLOG_FileFormat); isoTime as the parser derives it (µs cut to ms).
function line(host: string, us: number, text: string): F2bEvent {
  const base = Date.UTC(2026, 11, 4, 17, 30, 0);
  const ms = base + Math.floor(us / 1000);
  const iso = new Date(ms).toISOString().slice(0, 19);
  const frac = String(us % 1_000_000).padStart(6, '0');
  const stamp = `${iso}.${frac}+00:00`;
  return {
    type: 'ban',
    time: stamp,
    isoTime: `${iso}.${frac.slice(0, 3)}`,
    raw: `${stamp} ${host} fail2ban.actions[123]: NOTICE  [sshd] ${text}`,
  };
}

/** check() of each event in turn: 0 = applied, n = the n-th repeat of a run. */
const run = (f: RepeatFilter, source: string, evs: F2bEvent[]): number[] => evs.map((e) => f.check(source, e));

describe('lineKey', () => {
  it('is a 53-bit integer, stable, and differs for lines differing in one character or their time stamp', () => {
    const a = line('web1', 1, 'Ban 192.0.2.1');
    const k = lineKey(a.raw);
    expect(Number.isSafeInteger(k)).toBe(true);
    expect(k).toBeGreaterThanOrEqual(0);
    expect(lineKey(`${a.raw}`)).toBe(k);
    expect(lineKey(a.raw.replace('192.0.2.1', '192.0.2.2'))).not.toBe(k);
    expect(lineKey(line('web1', 2, 'Ban 192.0.2.1').raw)).not.toBe(k);
  });

  it('gives 200,000 distinct lines 200,000 distinct keys', () => {
    const keys = new Set<number>();
    for (let i = 0; i < 200_000; i++) keys.add(lineKey(line('web1', i * 37, `Ban 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`).raw));
    expect(keys.size).toBe(200_000);
  });
});

describe('RepeatFilter', () => {
  it('drops the same line read twice, counted, and tells the run length', () => {
    const f = new RepeatFilter();
    const a = line('web1', 5, "Jail 'sshd' started");
    const b = line('web1', 900, 'Ban 192.0.2.7');
    expect(run(f, 'web1', [a, b, a, b, { ...a }])).toEqual([0, 0, 1, 2, 3]);
    expect(f.dropped).toBe(3);
  });

  it('keeps a different line with the same time stamp (two lines in one millisecond)', () => {
    const f = new RepeatFilter();
    const a = line('web1', 1000, 'Ban 192.0.2.1');
    const b = { ...a, raw: a.raw.replace('192.0.2.1', '192.0.2.2') };
    expect(run(f, 'web1', [a, b, b])).toEqual([0, 0, 1]);
  });

  it('keeps an older line it has not seen (a clock stepped back) and a newer one, and ends a run', () => {
    const f = new RepeatFilter();
    const late = line('web1', 5_000_000, 'Ban 192.0.2.1');
    const early = line('web1', 1_000, 'Ban 192.0.2.2');
    expect(run(f, 'web1', [late, early, late, line('web1', 6_000_000, 'Ban 192.0.2.3'), late])).toEqual([0, 0, 1, 0, 1]);
  });

  it('drops a whole in-order segment replayed after newer lines (RELP after a central restart)', () => {
    const f = new RepeatFilter();
    const segment = [
      line('web1', 1_000, "Jail 'sshd' started"),
      ...Array.from({ length: 200 }, (_, i) => line('web1', 2_000 + i * 10_000, `Ban 192.0.2.${i}`)),
      line('web1', 3_000_000, 'Unban 192.0.2.7'),
    ];
    const newer = [line('web1', 4_000_000, 'Ban 198.51.100.1')];
    expect(run(f, 'web1', [...segment, ...newer]).every((r) => r === 0)).toBe(true);
    expect(run(f, 'web1', segment)).toEqual(segment.map((_, i) => i + 1));
    expect(f.dropped).toBe(segment.length);
    // The run ends at the next new line; the window still holds the segment.
    expect(run(f, 'web1', [line('web1', 5_000_000, 'Ban 198.51.100.2'), segment[0]!])).toEqual([0, 1]);
  });

  it("never filters the single log '' (nor undefined) nor a line without a time stamp", () => {
    const f = new RepeatFilter();
    const a = line('web1', 5, 'Ban 192.0.2.1');
    expect(run(f, '', [a, a])).toEqual([0, 0]);
    expect([f.check(undefined, a), f.check(undefined, a)]).toEqual([0, 0]);
    const untimed: F2bEvent = { type: 'ban', raw: 'Ban 192.0.2.1' };
    expect(run(f, 'web1', [untimed, untimed])).toEqual([0, 0]);
    expect(f.dropped).toBe(0);
    expect(f.sources).toBe(0);
  });

  it('keeps sources apart: the same text from another host is news', () => {
    const f = new RepeatFilter();
    const a = line('web1', 5, 'Ban 192.0.2.1');
    expect([f.check('web1', a), f.check('web2', a), f.check('web1', a), f.check('web2', a)]).toEqual([0, 0, 1, 1]);
  });

  it('accepts a repeat older than the window (documented limit): a window of 8 forgets the 9th line back', () => {
    const f = new RepeatFilter(8);
    const lines = Array.from({ length: 9 }, (_, i) => line('web1', i * 1000, `Ban 192.0.2.${i}`));
    run(f, 'web1', lines);
    expect(f.check('web1', lines[0]!)).toBe(0); // left the window: taken as news (and remembered again)
    expect(f.check('web1', lines[2]!)).toBe(1); // still in it
    expect(REPEAT_WINDOW).toBe(8192);
  });

  it('remembers start/stop lines beyond the window: a long replay opening with a jail start drops it', () => {
    const f = new RepeatFilter(8);
    const start: F2bEvent = { ...line('web1', 0, "Jail 'sshd' started"), type: 'jail-start', jail: 'sshd' };
    const bans = Array.from({ length: 20 }, (_, i) => line('web1', (i + 1) * 1000, `Ban 192.0.2.${i}`));
    run(f, 'web1', [start, ...bans]);
    // The start left the 8-line window; the ban of the same age did too and is accepted again.
    expect(run(f, 'web1', [start, bans[0]!, bans[19]!])).toEqual([1, 0, 1]);
  });

  it('remember() primes a window without deciding; forget() drops it', () => {
    const f = new RepeatFilter();
    const a = line('web1', 5, "Jail 'sshd' started");
    f.remember('web1', a);
    expect(f.check('web1', a)).toBe(1);
    f.forget('web1');
    expect(f.sources).toBe(0);
    expect(f.check('web1', a)).toBe(0);
  });
});

describe('LineWindow', () => {
  it('grows from 16 lines to its window and holds exactly the last `max` keys after every add, through many wraparounds', () => {
    const max = 64;
    const w = new LineWindow(max);
    expect(w.bytes).toBeLessThan(400);
    const keys: number[] = [];
    // Keys with few distinct low bits crowd the same slots: long probe chains, many shifts on delete.
    for (let i = 0; i < 1000; i++) {
      const k = (i % 7) * 4294967296 * 3 + ((i * 64) % 4096) + (i % 3);
      keys.push(k + i * 4294967296 * 21);
      w.add(keys[i]!);
      {
        const live = keys.slice(Math.max(0, i + 1 - max));
        expect(live.every((x) => w.has(x))).toBe(true);
        expect(keys.slice(0, Math.max(0, i + 1 - max)).some((x) => w.has(x))).toBe(false);
      }
    }
    expect(w.length).toBe(max);
  });

  it('finds random keys after wraparound of a full-size window and none of the evicted ones', () => {
    const w = new LineWindow();
    const all: number[] = [];
    for (let i = 0; i < 3 * REPEAT_WINDOW + 5; i++) {
      const k = lineKey(`line ${i}`);
      all.push(k);
      w.add(k);
    }
    const cut = all.length - REPEAT_WINDOW;
    expect(all.slice(cut).every((k) => w.has(k))).toBe(true);
    expect(all.slice(0, cut).filter((k) => w.has(k))).toEqual([]);
    expect(w.bytes).toBe(REPEAT_WINDOW * 8 + REPEAT_WINDOW * 2 * 2);
  });
});
