import { afterEach, describe, expect, it, vi } from 'vitest';
import { pollEvery } from '../../src/app/poll.js';

afterEach(() => void vi.useRealTimers());

describe('pollEvery', () => {
  it('looks at once and then every interval, never twice at a time, warns on a failed look, stops at shutdown', async () => {
    vi.useFakeTimers();
    const stops: (() => unknown)[] = [];
    let looks = 0;
    let release: () => void = () => undefined;
    const errors: unknown[] = [];
    const look = () => {
      looks++;
      if (looks === 2) return Promise.reject(new Error('EACCES'));
      return new Promise<void>((r) => (release = r));
    };
    pollEvery(look, 1000, (e) => errors.push(e), { add: (f) => void stops.push(f) });
    expect(looks).toBe(1);
    // The first look is still running: the tick is skipped.
    await vi.advanceTimersByTimeAsync(1000);
    expect(looks).toBe(1);
    release();
    await vi.advanceTimersByTimeAsync(1000);
    expect(looks).toBe(2);
    expect(errors).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(looks).toBe(3);
    release();
    for (const s of stops) s();
    await vi.advanceTimersByTimeAsync(5000);
    expect(looks).toBe(3);
  });
});
