/** Status snapshots for the metrics tests. */
import type { StatusSnapshot } from '../../src/metrics/status.js';

export const T0 = Date.parse('2026-03-01T12:00:00.000Z');
export const iso = (ms: number): string => new Date(ms).toISOString();

/** Two firewalls, three groups, a readable log: everything healthy. */
export function healthySnapshot(): StatusSnapshot {
  return {
    groups: [
      {
        firewall: 'edge',
        group: 'f2b-ssh-v4',
        family: 'IPv4',
        desired: 12,
        applied: 10,
        pendingAdds: 3,
        pendingRemoves: 1,
        suspended: 2,
        lastSuccess: iso(T0 - 5_000),
      },
      {
        firewall: 'edge',
        group: 'f2b-ssh-v6',
        family: 'IPv6',
        desired: 4,
        applied: 4,
        pendingAdds: 0,
        pendingRemoves: 0,
        suspended: 0,
        lastSuccess: iso(T0 - 60_000),
      },
      { firewall: 'branch', group: 'f2b-web', family: 'IPv4', desired: 7, applied: 0, pendingAdds: 7, pendingRemoves: 0, suspended: 0 },
    ],
    firewalls: [
      { name: 'edge', reachable: true, lastContact: iso(T0 - 5_000), consecutiveFailures: 0 },
      { name: 'branch', reachable: true, lastContact: iso(T0 - 1_000), consecutiveFailures: 0 },
    ],
    log: { path: '/var/log/fail2ban.log', readable: true, lastLineAt: iso(T0 - 2_000) },
  };
}
