// bench/idle.ts's reading of /proc/PID/stat.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cpuSeconds } from '../../bench/idle.js';

describe('cpuSeconds', () => {
  it('adds utime and stime (fields 14, 15) in clock ticks, even with spaces and parentheses in the name', () => {
    const rest = 'S 1 2 3 4 5 6 7 8 9 10 250 130 11 12';
    expect(cpuSeconds(`42 (node) ${rest}`)).toBeCloseTo(3.8);
    expect(cpuSeconds(`42 (a (weird) name) ${rest}`)).toBeCloseTo(3.8);
    expect(() => cpuSeconds('42 (x) S 1')).toThrow(/unreadable/);
  });

  it.runIf(process.platform === 'linux')('reads this process, which has used some CPU', () => {
    expect(cpuSeconds(readFileSync('/proc/self/stat', 'utf8'))).toBeGreaterThan(0);
  });
});
