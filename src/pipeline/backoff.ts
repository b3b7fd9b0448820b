/** Retry delays. Pure: the random source is a parameter so schedules are testable. */

export interface RetryOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
  /** Fraction (0..1) of the delay that is randomised: delay × (1 − jitter + 2·jitter·random). */
  jitter: number;
  /**
   * Cap for failures of the whole firewall (unreachable, API disabled, login refused): it is
   * probed this often at most, so its return is noticed within seconds (retry-policy.ts).
   */
  probeMaxDelayMs?: number;
}

export const DEFAULT_RETRY: RetryOptions = { initialDelayMs: 1000, maxDelayMs: 300_000, multiplier: 2, jitter: 0.2, probeMaxDelayMs: 5000 };

/**
 * Delay before retry number `attempt` (1 = first retry): exponential, jittered both ways so a
 * fleet of sidecars behind one firewall does not retry in lock-step, and never above maxDelayMs.
 */
export function retryDelay(attempt: number, o: RetryOptions, random: () => number): number {
  const n = Math.max(1, attempt);
  const base = Math.min(o.maxDelayMs, o.initialDelayMs * Math.pow(o.multiplier, n - 1));
  const r = Math.min(1, Math.max(0, random()));
  const jittered = base * (1 - o.jitter + 2 * o.jitter * r);
  return Math.round(Math.min(o.maxDelayMs, Math.max(0, jittered)));
}
