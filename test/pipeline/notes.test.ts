import { describe, expect, it } from 'vitest';
import { logNote } from '../../src/pipeline/notes.js';
import type { Note } from '../../src/pipeline/model.js';
import { recordingLogger } from './harness.js';

const cases: [Note, string, string][] = [
  [{ kind: 'never-block', jail: 'sshd', address: '10.0.0.1' }, 'warn', 'ban ignored: address is in neverBlock'],
  [{ kind: 'no-ipv6-group', jail: 'sshd', address: '2001:db8::1', groups: ['fw1/a'] }, 'warn', 'IPv6 ban skipped for groups without an ipv6Name'],
  [{ kind: 'invalid-address', jail: 'sshd', address: 'nope' }, 'warn', 'ban ignored: not an IP address or network'],
  [{ kind: 'unrouted', jail: 'web', address: '192.0.2.1' }, 'debug', 'ban ignored: no group takes this jail'],
  [{ kind: 'crash-restart', pid: 42, suspended: 3 }, 'warn', 'fail2ban restarted without a stop sequence: all bans suspended until their jails restore them'],
  [{ kind: 'expired-unban', jail: 'sshd', address: '192.0.2.1' }, 'info', 'unban confirmed'],
  [{ kind: 'not-restored', jail: 'sshd', address: '192.0.2.1' }, 'info', 'suspended ban not restored: removing'],
  [{ kind: 'max-suspend', jail: 'sshd', address: '192.0.2.1' }, 'info', 'suspension too old: removing'],
  [{ kind: 'held', jail: 'sshd', address: '192.0.2.1' }, 'debug', 'held'],
  [{ kind: 'restore-grace', jail: 'sshd', suspended: 2 }, 'debug', 'restore-grace'],
];

describe('logNote', () => {
  it.each(cases)('%o → %s', (note, level, msg) => {
    const log = recordingLogger();
    logNote(log, note);
    // The note itself is the line's fields: nothing of it is lost.
    expect(log.entries).toEqual([{ level, obj: note, msg }]);
  });
});
