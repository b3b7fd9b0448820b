import { describe, expect, it } from 'vitest';
import { toSnapshot } from '../../src/app/snapshot.js';
import type { SidecarStatus } from '../../src/pipeline/sidecar.js';

const err = { message: 'boom', code: 'XG_TIMEOUT', at: '2026-01-01T00:00:00.000Z', xgStatus: 500, xgText: 'internal' };

const status = (): SidecarStatus => ({
  groups: [
    {
      firewall: 'main',
      group: 'g4',
      family: 'IPv4',
      desired: 3,
      applied: 2,
      synced: true,
      pendingAdds: 1,
      pendingRemoves: 0,
      suspended: 1,
      lastSuccess: 'T1',
      lastError: err,
    },
    {
      firewall: 'main',
      group: 'g6',
      family: 'IPv6',
      desired: 0,
      applied: 0,
      synced: false,
      pendingAdds: 0,
      pendingRemoves: 2,
      suspended: 0,
    },
  ],
  firewalls: [
    { firewall: 'main', reachable: false, lastContact: 'T0', consecutiveFailures: 4, permanentError: err, nextRetry: 'T9' },
    { firewall: 'spare', reachable: true, consecutiveFailures: 0 },
  ],
  persist: { consecutiveFailures: 0 },
  counters: {} as SidecarStatus['counters'],
  waiting: 0,
});

describe('toSnapshot', () => {
  it('keeps what metrics, health and status.json show, errors reduced to message, code and time', () => {
    expect(toSnapshot(status(), '/var/log/fail2ban.log', true, 'T5')).toEqual({
      groups: [
        {
          firewall: 'main',
          group: 'g4',
          family: 'IPv4',
          desired: 3,
          applied: 2,
          pendingAdds: 1,
          pendingRemoves: 0,
          suspended: 1,
          lastSuccess: 'T1',
          lastError: { message: 'boom', code: 'XG_TIMEOUT', at: err.at },
        },
        {
          firewall: 'main',
          group: 'g6',
          family: 'IPv6',
          desired: 0,
          applied: 0,
          pendingAdds: 0,
          pendingRemoves: 2,
          suspended: 0,
          lastSuccess: undefined,
          lastError: undefined,
        },
      ],
      firewalls: [
        {
          name: 'main',
          reachable: false,
          lastContact: 'T0',
          consecutiveFailures: 4,
          permanentError: { message: 'boom', code: 'XG_TIMEOUT', since: err.at },
        },
        { name: 'spare', reachable: true, lastContact: undefined, consecutiveFailures: 0, permanentError: undefined },
      ],
      log: { path: '/var/log/fail2ban.log', readable: true, lastLineAt: 'T5' },
    });
  });

  it('reports an unreadable log without a last line', () => {
    expect(toSnapshot(status(), '/x.log', false).log).toEqual({ path: '/x.log', readable: false, lastLineAt: undefined });
  });
});
