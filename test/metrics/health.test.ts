import { describe, expect, it } from 'vitest';
import { evaluateHealth } from '../../src/metrics/health.js';
import type { StatusSnapshot } from '../../src/metrics/status.js';
import { T0, healthySnapshot, iso } from './snapshot.js';

const LIMIT = 300_000;
const opts = { unreachableAfterMs: LIMIT };

function withFirewall(patch: Partial<StatusSnapshot['firewalls'][number]>): StatusSnapshot {
  const s = healthySnapshot();
  s.firewalls[0] = { ...(s.firewalls[0] as StatusSnapshot['firewalls'][number]), ...patch };
  return s;
}

function withLog(patch: Partial<StatusSnapshot['log']>): StatusSnapshot {
  const s = healthySnapshot();
  s.log = { ...s.log, ...patch };
  return s;
}

describe('evaluateHealth', () => {
  it('is ok with one passing check per firewall and one for the log', () => {
    const r = evaluateHealth(healthySnapshot(), T0, opts);
    expect(r.ok).toBe(true);
    expect(r.checks.map((c) => [c.name, c.ok])).toEqual([
      ['firewall:edge', true],
      ['firewall:branch', true],
      ['log', true],
    ]);
  });

  it.each([
    [
      'unreachable shorter than the threshold',
      withFirewall({ reachable: false, consecutiveFailures: 3, unreachableSince: iso(T0 - LIMIT + 1) }),
      true,
    ],
    [
      'unreachable exactly the threshold',
      withFirewall({ reachable: false, consecutiveFailures: 3, unreachableSince: iso(T0 - LIMIT) }),
      true,
    ],
    [
      'unreachable longer than the threshold',
      withFirewall({ reachable: false, consecutiveFailures: 9, unreachableSince: iso(T0 - LIMIT - 1) }),
      false,
    ],
    [
      'unreachable, no stamp, last contact recent',
      withFirewall({ reachable: false, consecutiveFailures: 1, lastContact: iso(T0 - 10_000) }),
      true,
    ],
    [
      'unreachable, no stamp, last contact long ago',
      withFirewall({ reachable: false, consecutiveFailures: 50, lastContact: iso(T0 - 3_600_000) }),
      false,
    ],
    [
      'permanent error younger than the threshold',
      withFirewall({
        reachable: false,
        consecutiveFailures: 1,
        permanentError: { message: 'exists with family IPv6', code: 'XG_GROUP_FAMILY_MISMATCH', since: iso(T0 - 1_000) },
      }),
      true,
    ],
    [
      'permanent error older than the threshold',
      withFirewall({
        reachable: false,
        consecutiveFailures: 1,
        permanentError: { message: 'exists with family IPv6', code: 'XG_GROUP_FAMILY_MISMATCH', since: iso(T0 - LIMIT - 1_000) },
      }),
      false,
    ],
    // Issue 11: a refused login or API access fails at once (waiting fixes nothing).
    [
      'auth failure, 1 s old',
      withFirewall({
        reachable: true,
        consecutiveFailures: 1,
        state: 'auth-failed',
        permanentError: { message: 'Authentication Failure', code: 'XG_AUTH', since: iso(T0 - 1_000) },
      }),
      false,
    ],
    [
      'API access denied, 1 s old',
      withFirewall({
        reachable: true,
        consecutiveFailures: 1,
        permanentError: { message: 'not allowed', code: 'XG_IP_NOT_ALLOWED', since: iso(T0 - 1_000) },
      }),
      false,
    ],
    // A permanent error is judged by its own stamp even if the transport still answers.
    [
      'permanent error while reachable',
      withFirewall({ reachable: true, permanentError: { message: 'API disabled', code: 'XG_API_DISABLED', since: iso(T0 - 2 * LIMIT) } }),
      false,
    ],
    ['log unreadable shorter than the threshold', withLog({ readable: false, unreadableSince: iso(T0 - 60_000) }), true],
    ['log unreadable longer than the threshold', withLog({ readable: false, unreadableSince: iso(T0 - LIMIT - 60_000) }), false],
  ])('%s → ok=%s', (_name, status, ok) => {
    const r = evaluateHealth(status, T0, opts);
    expect(r.ok).toBe(ok);
    expect(r.checks.filter((c) => !c.ok)).toHaveLength(ok ? 0 : 1);
  });

  it('names the failing firewall and says why and for how long', () => {
    const r = evaluateHealth(withFirewall({ reachable: false, consecutiveFailures: 9, unreachableSince: iso(T0 - 600_000) }), T0, opts);
    const bad = r.checks.find((c) => !c.ok);
    expect(bad?.name).toBe('firewall:edge');
    expect(bad?.detail).toBe('unreachable (9 consecutive failures) for 600s (longer than 300s)');
  });

  it('shows the permanent error code and message', () => {
    const s = withFirewall({
      permanentError: { message: 'exists with family IPv6', code: 'XG_GROUP_FAMILY_MISMATCH', since: iso(T0 - 400_000) },
    });
    const bad = evaluateHealth(s, T0, opts).checks.find((c) => !c.ok);
    expect(bad?.detail).toBe('permanent error XG_GROUP_FAMILY_MISMATCH: exists with family IPv6 for 400s (longer than 300s)');
    const auth = evaluateHealth(
      withFirewall({ state: 'auth-failed', permanentError: { message: 'Authentication Failure', code: 'XG_AUTH', since: iso(T0) } }),
      T0,
      opts,
    );
    expect(auth.checks.find((c) => !c.ok)?.detail).toMatch(/^auth-failed \(XG_AUTH\): Authentication Failure/);
  });

  it('held removals and set-aside addresses: degraded, not failed', () => {
    const base = withFirewall({});
    const s = {
      ...base,
      holds: [{ group: 'edge/f2b-ssh-v4', count: 21, since: iso(T0), reason: '21 removals …', token: 'edge/f2b-ssh-v4#21-abc' }],
      setAside: [
        {
          group: 'edge/f2b-ssh-v4',
          op: 'add' as const,
          address: '192.0.2.9',
          code: 'XG_FOREIGN_HOLDER',
          since: iso(T0),
          retryAt: iso(T0 + 3_600_000),
        },
      ],
    };
    const r = evaluateHealth(s, T0, opts);
    expect(r.ok).toBe(true);
    expect(r.degraded).toBe(true);
    expect(r.checks.filter((c) => c.degraded).map((c) => c.name)).toEqual(['removals-held:edge/f2b-ssh-v4', 'set-aside']);
    expect(r.checks.find((c) => c.name.startsWith('removals-held'))?.detail).toContain(
      'release with: f2b-sophosxg release edge/f2b-ssh-v4#21-abc',
    );
    expect(evaluateHealth(base, T0, opts).degraded).toBe(false);
  });

  it('names the unreadable log path', () => {
    const bad = evaluateHealth(withLog({ readable: false, unreadableSince: iso(T0 - 301_000) }), T0, opts).checks.find((c) => !c.ok);
    expect(bad).toEqual({ name: 'log', ok: false, detail: 'unreadable: /var/log/fail2ban.log for 301s (longer than 300s)' });
  });

  it('without any stamp counts from startedAt, or from now when that is not given', () => {
    const never = withFirewall({ reachable: false, consecutiveFailures: 2, lastContact: undefined });
    expect(evaluateHealth(never, T0, { ...opts, startedAt: T0 - LIMIT - 1 }).ok).toBe(false);
    expect(evaluateHealth(never, T0, { ...opts, startedAt: T0 - 1_000 }).ok).toBe(true);
    expect(evaluateHealth(never, T0, opts).ok).toBe(true);
  });

  it('treats an unparsable stamp as absent, not as the epoch', () => {
    const s = withLog({ readable: false, unreadableSince: 'not a time' });
    expect(evaluateHealth(s, T0, { ...opts, startedAt: T0 - 1_000 }).ok).toBe(true);
    expect(evaluateHealth(s, T0, { ...opts, startedAt: T0 - LIMIT - 1 }).ok).toBe(false);
  });

  it('reports every failure at once', () => {
    const s = healthySnapshot();
    s.firewalls = s.firewalls.map((f) => ({ ...f, reachable: false, unreachableSince: iso(T0 - 2 * LIMIT) }));
    s.log = { ...s.log, readable: false, unreadableSince: iso(T0 - 2 * LIMIT) };
    const r = evaluateHealth(s, T0, opts);
    expect(r.ok).toBe(false);
    expect(r.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['firewall:edge', 'firewall:branch', 'log']);
  });
});

describe('evaluateHealth: groups no firewall rule drops', () => {
  it('a group known not to be enforced degrades the report without failing it; unknown or enforced does not', () => {
    const s = healthySnapshot();
    s.groups[0] = { ...(s.groups[0] as StatusSnapshot['groups'][number]), enforced: false };
    s.groups[1] = { ...(s.groups[1] as StatusSnapshot['groups'][number]), enforced: true, enforcedBy: ['Drop bans'] };
    const r = evaluateHealth(s, T0, opts);
    expect(r.ok).toBe(true);
    expect(r.degraded).toBe(true);
    expect(r.checks.filter((c) => c.degraded)).toEqual([
      {
        name: 'group:edge/f2b-ssh-v4',
        ok: true,
        degraded: true,
        detail: 'NOT ENFORCED: no enabled Drop/Reject firewall rule uses it as a source network',
      },
    ]);
    expect(evaluateHealth(healthySnapshot(), T0, opts).degraded).toBe(false);
  });
});
