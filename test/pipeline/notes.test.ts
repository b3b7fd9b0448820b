import { describe, expect, it } from 'vitest';
import { logNote } from '../../src/pipeline/notes.js';
import type { Note } from '../../src/pipeline/model.js';
import { recordingLogger } from './harness.js';

const cases: [Note, string, string][] = [
  [
    {
      kind: 'never-block',
      jail: 'sshd',
      address: '10.0.0.1',
      reason: 'never-block',
      detail: 'overlaps never-block 10.0.0.0/8',
      groups: ['fw/g'],
    },
    'warn',
    'ban ignored: address is in neverBlock',
  ],
  [
    { kind: 'refused', jail: 'sshd', address: '0.0.0.0', reason: 'unspecified', detail: 'overlaps 0.0.0.0', groups: ['fw/g'] },
    'warn',
    'ban refused: unspecified',
  ],
  [
    { kind: 'stale-log', time: '2025-12-01T08:00:00.000', newest: '2026-12-04T10:00:00.000' },
    'warn',
    'log lines far older than the newest line seen (a replaced or old log?): ignored, not taken as live bans or unbans',
  ],
  [
    { kind: 'no-ipv6-group', jail: 'sshd', address: '2001:db8::1', groups: ['fw1/a'] },
    'warn',
    'IPv6 ban skipped for groups without an ipv6Name',
  ],
  [{ kind: 'invalid-address', jail: 'sshd', address: 'nope' }, 'warn', 'ban ignored: not an IP address or network'],
  [{ kind: 'unrouted', jail: 'web', address: '192.0.2.1' }, 'debug', 'ban ignored: no group takes this jail'],
  [
    { kind: 'crash-restart', pid: 42, suspended: 3 },
    'warn',
    'fail2ban restarted without a stop sequence: all bans suspended until their jails restore them',
  ],
  [{ kind: 'expired-unban', jail: 'sshd', address: '192.0.2.1' }, 'info', 'unban confirmed'],
  [{ kind: 'not-restored', jail: 'sshd', address: '192.0.2.1' }, 'info', 'suspended ban not restored: removing'],
  [{ kind: 'max-suspend', jail: 'sshd', address: '192.0.2.1' }, 'info', 'suspension too old: removing'],
  [{ kind: 'held', jail: 'sshd', address: '192.0.2.1' }, 'debug', 'held'],
  [{ kind: 'restore-grace', jail: 'sshd', suspended: 2 }, 'debug', 'restore-grace'],
  // Issue 13: one source of a fleet.
  [
    { kind: 'crash-restart', pid: 42, suspended: 3, source: 'web1' },
    'warn',
    "fail2ban restarted without a stop sequence: this source's bans suspended until its jails restore them",
  ],
  [
    { kind: 'jail-restart', source: 'web1', jail: 'sshd', suspended: 2 },
    'warn',
    "jail started again without a stop (fail2ban restarted?): this source's bans of the jail suspended until it restores them",
  ],
  [{ kind: 'forgot', source: 'web1', slots: 9, removed: 4 }, 'warn', 'source forgotten: the bans only it held are lifted'],
];

describe('logNote', () => {
  it.each(cases)('%o → %s', (note, level, msg) => {
    const log = recordingLogger();
    logNote(log, note);
    // The note itself is the line's fields: nothing of it is lost.
    expect(log.entries).toEqual([{ level, obj: note, msg }]);
  });
});

describe('logNote: a refusal is warned once per address and reason', () => {
  it('the same never-block address restored at every fail2ban restart warns once; another address or reason warns again', async () => {
    const { OnceSet } = await import('../../src/pipeline/once.js');
    const once = new OnceSet();
    const log = recordingLogger();
    const nb = (address: string, reason: 'never-block' | 'too-wide' = 'never-block'): Note => ({
      kind: reason === 'never-block' ? 'never-block' : 'refused',
      jail: 'sshd',
      address,
      reason,
      detail: 'x',
      groups: ['fw/g'],
    });
    for (let restart = 0; restart < 5; restart++) logNote(log, nb('10.0.0.1'), once);
    logNote(log, nb('10.0.0.2'), once);
    logNote(log, nb('10.0.0.1', 'too-wide'), once);
    expect(log.entries.filter((e) => e.level === 'warn').map((e) => `${e.msg} ${(e.obj as { address: string }).address}`)).toEqual([
      'ban ignored: address is in neverBlock 10.0.0.1',
      'ban ignored: address is in neverBlock 10.0.0.2',
      'ban refused: too-wide 10.0.0.1',
    ]);
    expect(log.entries.filter((e) => e.level === 'debug')).toHaveLength(4);
  });
});
