import { describe, expect, it } from 'vitest';
import { banLine, benchIp, extrapolate, percentile, median, table } from '../../bench/lib.js';
import { parseArgs } from '../../bench/run.js';
import { parseLine } from '../../src/parser/index.js';
import { makeNeverBlock } from '../../src/core/network.js';
import { DEFAULT_NEVER_BLOCK } from '../../src/config/schema.js';

describe('percentile (nearest rank)', () => {
  const xs = Array.from({ length: 200 }, (_, i) => 200 - i); // 200..1, unsorted on purpose

  it('p50 and p99 of 1..200 are the 100th and 198th values', () => {
    expect(median(xs)).toBe(100);
    expect(percentile(xs, 99)).toBe(198);
    expect(percentile(xs, 100)).toBe(200);
    expect(percentile(xs, 0)).toBe(1);
  });

  it('p99 of a small sample is its maximum', () => {
    expect(percentile([5, 1, 3], 99)).toBe(5);
    expect(median([5, 1, 3])).toBe(3);
  });

  it('does not reorder its input', () => {
    const ys = [3, 1, 2];
    percentile(ys, 50);
    expect(ys).toEqual([3, 1, 2]);
  });

  it('refuses an empty sample and an out-of-range p', () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });
});

describe('extrapolate', () => {
  it('scales a head-only sample linearly', () => {
    expect(extrapolate({ n: 100, ms: 250_000, requests: 300 }, 10_000)).toEqual({ ms: 25_000_000, requests: 30_000 });
  });

  it('averages head and tail per-ban costs (exact for a cost growing linearly with group size)', () => {
    // per-ban ms = 1000 + i: head (i = 0..9) averages 1004.5, tail (i = 990..999) 1994.5
    const cost = (i: number) => 1000 + i;
    const sum = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => cost(from + k)).reduce((a, b) => a + b, 0);
    const est = extrapolate({ n: 10, ms: sum(0, 10), requests: 30 }, 1000, { n: 10, ms: sum(990, 1000), requests: 40 });
    expect(est.ms).toBeCloseTo(sum(0, 1000), 6);
    expect(est.requests).toBe(3500);
  });

  it('refuses an empty sample', () => {
    expect(() => extrapolate({ n: 0, ms: 0, requests: 0 }, 10)).toThrow(RangeError);
  });
});

describe('bench addresses and log lines', () => {
  it('gives distinct public addresses that the default neverBlock lets through', () => {
    const never = makeNeverBlock(DEFAULT_NEVER_BLOCK);
    const ips = Array.from({ length: 100_000 }, (_, i) => benchIp(i));
    expect(new Set(ips).size).toBe(100_000);
    for (const ip of [ips[0], ips[249], ips[250], ips[62_499], ips[99_999]] as string[]) {
      expect(parseLine(banLine(ip).trimEnd())).toMatchObject({ kind: 'event', event: { type: 'ban', ip, jail: 'sshd', family: 'IPv4' } });
      expect(never(ip)).toBeFalsy();
    }
  });

  it('writes one Ban record per line, as fail2ban 1.0.2 does', () => {
    const line = banLine('11.0.0.1', 'sshd', new Date(2026, 0, 2, 3, 4, 5, 6));
    expect(line).toBe('2026-01-02 03:04:05,006 fail2ban.actions        [4242]: NOTICE  [sshd] Ban 11.0.0.1\n');
  });
});

describe('run.ts options', () => {
  it('defaults to the 200 ms variant with both burst sizes and a 50-ban one-shot sample', () => {
    const o = parseArgs([]);
    expect(o).toMatchObject({ latencyMs: 200, sizes: [1000, 10_000], sample: 50, latencyBans: 200, quick: false });
    expect([...o.only]).toEqual(['burst', 'oneshot', 'latency', 'memory', 'parse', 'catch-up']);
  });

  it('takes fewer slow samples at 5 s per write, and --only/--sizes as given', () => {
    const o = parseArgs(['--latency', '5000', '--only', 'burst,latency', '--sizes', '1000']);
    expect(o).toMatchObject({ latencyMs: 5000, sizes: [1000], sample: 20, latencyBans: 30 });
    expect([...o.only]).toEqual(['burst', 'latency']);
  });

  it('rejects unknown sections and options', () => {
    expect(() => parseArgs(['--only', 'speed'])).toThrow(/unknown section/);
    expect(() => parseArgs(['--fast'])).toThrow(/unknown option/);
    expect(() => parseArgs(['--latency'])).toThrow(/needs a value/);
  });
});

describe('table', () => {
  it('pads columns to the widest cell', () => {
    expect(table(['a', 'bb'], [['ccc', 'd']])).toBe('| a   | bb |\n|-----|----|\n| ccc | d  |');
  });
});
