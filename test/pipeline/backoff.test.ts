import { describe, expect, it } from 'vitest';
import { retryDelay, type RetryOptions } from '../../src/pipeline/backoff.js';

const o: RetryOptions = { initialDelayMs: 1000, maxDelayMs: 30_000, multiplier: 2, jitter: 0.5 };

describe('retryDelay', () => {
  it.each([
    // attempt, random, delay
    [1, 0, 500],
    [1, 0.5, 1000],
    [1, 1, 1500],
    [2, 0.5, 2000],
    [3, 0, 2000],
    [3, 1, 6000],
    [5, 0.5, 16_000],
    [5, 1, 24_000],
    [6, 0.5, 30_000], // 32 s capped
    [6, 1, 30_000], // jitter never exceeds the cap
    [6, 0, 15_000], // ...but still spreads below it
    [50, 0.5, 30_000],
    [0, 0.5, 1000], // attempt < 1 treated as the first retry
  ])('attempt %i, random %d → %i ms', (attempt, r, expected) => {
    expect(retryDelay(attempt, o, () => r)).toBe(expected);
  });
  it('without jitter is a plain capped exponential', () => {
    const plain = { ...o, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelay(n, plain, () => 0.9))).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });
});
