import { describe, expect, it } from 'vitest';
import { failureKind, isFirewallWide, nextRetry, stateOf } from '../../src/pipeline/retry-policy.js';

const O = { initialDelayMs: 1000, maxDelayMs: 300_000, multiplier: 2, jitter: 0, probeMaxDelayMs: 5000 };
const half = (): number => 0.5;

describe('retry policy', () => {
  it('classifies by code and permanence', () => {
    expect(failureKind('XG_AUTH', true)).toBe('auth');
    expect(failureKind('XG_API_DISABLED', true)).toBe('access');
    expect(failureKind('XG_IP_NOT_ALLOWED', false)).toBe('access');
    expect(failureKind('XG_ACCESS', false)).toBe('access');
    expect(failureKind('XG_TRANSPORT', false)).toBe('transient');
    expect(failureKind('XG_GROUP_FAMILY_MISMATCH', true)).toBe('refused');
    expect([isFirewallWide('auth'), isFirewallWide('access'), isFirewallWide('transient'), isFirewallWide('refused')]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect([undefined, 'auth', 'access', 'transient', 'refused'].map((k) => stateOf(k as never))).toEqual([
      'ok',
      'auth-failed',
      'api-access-denied',
      'unreachable',
      'refused',
    ]);
  });

  it('progress starts the schedule over; no progress climbs it', () => {
    expect(nextRetry('transient', 7, true, O, half)).toEqual({ attempt: 1, delayMs: 1000 });
    expect(nextRetry('transient', 1, false, O, half)).toEqual({ attempt: 2, delayMs: 2000 });
  });

  it('whole-firewall failures are probed at the low cap; a refused group waits the full schedule', () => {
    for (const k of ['transient', 'auth', 'access'] as const) expect(nextRetry(k, 20, false, O, half).delayMs).toBe(5000);
    expect(nextRetry('refused', 20, false, O, half).delayMs).toBe(300_000);
    // Without a probe cap, the maximum applies.
    expect(nextRetry('transient', 20, false, { ...O, probeMaxDelayMs: undefined }, half).delayMs).toBe(300_000);
  });
});
