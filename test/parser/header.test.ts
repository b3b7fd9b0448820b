// Every wrapper of reference §2 and §5 around the same message, and header look-alikes that must
// not pass. Tables of input → expected, in the style of unjs/ufo's parse tests.
import { describe, expect, it } from 'vitest';

import {
  H,
  LOGGER_ACTIONS,
  LOGGER_JAIL,
  LOGGER_OTHER,
  LOGGER_SERVER,
  LOGGER_UNKNOWN,
  loggerKindOf,
  monthAt,
  scanHeader,
} from '../../src/parser/header.js';
import { parseLine } from '../../src/parser/index.js';

const BAN = '[sshd] Ban 192.0.2.10';

describe('recognised headers (reference §2.1, §5)', () => {
  const table: Array<[string, string, { time?: string; isoTime?: string; pid?: number; host?: string }]> = [
    [
      'file, padded (0.9.1+ default)',
      `2026-11-25 04:39:52,876 fail2ban.actions        [10839]: NOTICE  ${BAN}`,
      { time: '2026-11-25 04:39:52,876', isoTime: '2026-11-25T04:39:52.876', pid: 10839 },
    ],
    [
      'file, padding=off (0.10.3+)',
      `2026-11-25 04:39:52,876 fail2ban.actions[10839]: NOTICE ${BAN}`,
      { time: '2026-11-25 04:39:52,876', isoTime: '2026-11-25T04:39:52.876', pid: 10839 },
    ],
    [
      'file, 0.8.0–0.8.11 (no PID, 16 columns)',
      `2012-06-01 10:05:00,202 fail2ban.actions: WARNING ${BAN}`,
      { time: '2012-06-01 10:05:00,202', isoTime: '2012-06-01T10:05:00.202' },
    ],
    [
      'file, 0.8.12 (16 columns, PID)',
      `2014-03-01 10:05:00,202 fail2ban.actions[1234]: WARNING ${BAN}`,
      { time: '2014-03-01 10:05:00,202', isoTime: '2014-03-01T10:05:00.202', pid: 1234 },
    ],
    [
      'file, container PID 1',
      `2026-11-25 04:39:52,876 fail2ban.actions        [1]: NOTICE  ${BAN}`,
      { time: '2026-11-25 04:39:52,876', isoTime: '2026-11-25T04:39:52.876', pid: 1 },
    ],
    ['SYSOUT (no time)', `fail2ban.actions        [11816]: NOTICE  ${BAN}`, { pid: 11816 }],
    ['syslog datagram payload', `<29>fail2ban.actions[11595]: NOTICE ${BAN}`, { pid: 11595 }],
    [
      'rsyslog RFC 3339 (Debian 12)',
      `2026-11-25T04:42:54.123456+00:00 vm fail2ban.actions[11595]: NOTICE ${BAN}`,
      { time: '2026-11-25T04:42:54.123456+00:00', isoTime: '2026-11-25T04:42:54.123', pid: 11595, host: 'vm' },
    ],
    [
      'rsyslog RFC 3339, Z, no fraction',
      `2026-11-25T04:42:54Z vm fail2ban.actions[11595]: NOTICE ${BAN}`,
      { time: '2026-11-25T04:42:54Z', isoTime: '2026-11-25T04:42:54.000', pid: 11595, host: 'vm' },
    ],
    [
      'rsyslog traditional',
      `Nov 25 04:42:54 vm fail2ban.actions[11595]: NOTICE ${BAN}`,
      { time: 'Nov 25 04:42:54', pid: 11595, host: 'vm' },
    ],
    [
      'rsyslog traditional, day padded with a space',
      `Nov  5 04:42:54 vm fail2ban.actions[11595]: NOTICE ${BAN}`,
      { time: 'Nov  5 04:42:54', pid: 11595, host: 'vm' },
    ],
    [
      'journalctl of SYSOUT',
      `Nov 25 10:29:12 vm fail2ban-server[11816]: fail2ban.actions        [11816]: NOTICE  ${BAN}`,
      { time: 'Nov 25 10:29:12', pid: 11816, host: 'vm' },
    ],
    [
      'journalctl of STDOUT (full header inside)',
      `Nov 25 10:29:12 vm fail2ban-server[11816]: 2026-11-25 10:29:12,001 fail2ban.actions        [11816]: NOTICE  ${BAN}`,
      { time: '2026-11-25 10:29:12,001', isoTime: '2026-11-25T10:29:12.001', pid: 11816, host: 'vm' },
    ],
    [
      'journalctl of SYSTEMD-JOURNAL (bare message)',
      `Nov 25 04:43:21 vm fail2ban[11670]: ${BAN}`,
      { time: 'Nov 25 04:43:21', pid: 11670, host: 'vm' },
    ],
    [
      'journalctl of systemd-journal (lower case: full header)',
      `Nov 25 04:56:55 vm fail2ban[14094]: 2026-11-25 04:56:55,156 fail2ban.actions        [14094]: NOTICE  ${BAN}`,
      { time: '2026-11-25 04:56:55,156', isoTime: '2026-11-25T04:56:55.156', pid: 14094, host: 'vm' },
    ],
    [
      'level #09-Lev. (TRACEDEBUG)',
      `2026-11-25 04:39:52,876 fail2ban.actions        [10839]: #09-Lev. ${BAN}`,
      { time: '2026-11-25 04:39:52,876', isoTime: '2026-11-25T04:39:52.876', pid: 10839 },
    ],
    [
      'level "Level 9" (0.9)',
      `2026-11-25 04:39:52,876 fail2ban.actions        [10839]: Level 9 ${BAN}`,
      { time: '2026-11-25 04:39:52,876', isoTime: '2026-11-25T04:39:52.876', pid: 10839 },
    ],
    [
      'trailing spaces and CR',
      `2026-11-25 04:39:52,876 fail2ban.actions        [10839]: NOTICE  ${BAN}  \r`,
      { time: '2026-11-25 04:39:52,876', isoTime: '2026-11-25T04:39:52.876', pid: 10839 },
    ],
  ];

  it.each(table)('%s', (_name, line, want) => {
    const r = parseLine(line);
    expect(r.kind).toBe('event');
    if (r.kind !== 'event') return;
    const { raw, ...event } = r.event;
    expect(event).toEqual({ type: 'ban', jail: 'sshd', ip: '192.0.2.10', family: 'IPv4', ...want });
    expect(raw).toBe(line.replace(/\r$/, ''));
  });

  it('a logger of exactly 24 characters has no space before its PID', () => {
    expect(scanHeader('2026-11-25 04:45:48,628 fail2ban.filterpyinotify[12208]: DEBUG   Added monitor', 0, 79)).toBe(true);
    expect(H).toMatchObject({ logger: LOGGER_OTHER, pid: 12208 });
  });
});

describe('header look-alikes (no event)', () => {
  const table: Array<[string, string]> = [
    ['continuation line', `  File "/usr/lib/python3/dist-packages/fail2ban/server/actions.py", line 1, in x ${BAN}`],
    ['no level', `2026-11-25 04:39:52,876 fail2ban.actions        [10839]: ${BAN}`],
    ['lower-case level', `2026-11-25 04:39:52,876 fail2ban.actions        [10839]: notice ${BAN}`],
    ['other program', `2026-11-25 04:39:52,876 sshd.actions            [10839]: NOTICE  ${BAN}`],
    ['logger prefix only', `2026-11-25 04:39:52,876 fail2banactions         [10839]: NOTICE  ${BAN}`],
    ['dot without a name', `2026-11-25 04:39:52,876 fail2ban.               [10839]: NOTICE  ${BAN}`],
    ['bad PID', `2026-11-25 04:39:52,876 fail2ban.actions        [12a]: NOTICE  ${BAN}`],
    ['empty PID', `2026-11-25 04:39:52,876 fail2ban.actions        []: NOTICE  ${BAN}`],
    ['PID too long', `2026-11-25 04:39:52,876 fail2ban.actions        [12345678901]: NOTICE  ${BAN}`],
    ['missing milliseconds', `2026-11-25 04:39:52 fail2ban.actions        [10839]: NOTICE  ${BAN}`],
    ['dot before milliseconds', `2026-11-25 04:39:52.876 fail2ban.actions        [10839]: NOTICE  ${BAN}`],
    ['letters in the date', `2026-1x-25 04:39:52,876 fail2ban.actions        [10839]: NOTICE  ${BAN}`],
    ['text before the time', `x 2026-11-25 04:39:52,876 fail2ban.actions        [10839]: NOTICE  ${BAN}`],
    ['leading space', ` 2026-11-25 04:39:52,876 fail2ban.actions        [10839]: NOTICE  ${BAN}`],
    ['SYSOUT without PID', `fail2ban.actions        : NOTICE  ${BAN}`],
    ['syslog PRI not closed', `<29fail2ban.actions[11595]: NOTICE ${BAN}`],
    ['syslog PRI of 4 digits', `<1234>fail2ban.actions[11595]: NOTICE ${BAN}`],
    ['syslog line of another tag', `Nov 25 04:42:54 vm sshd[11595]: NOTICE ${BAN}`],
    ['syslog line, bad month', `Foo 25 04:42:54 vm fail2ban.actions[11595]: NOTICE ${BAN}`],
    ['syslog line, no host', `Nov 25 04:42:54 fail2ban.actions[11595]: NOTICE ${BAN}`],
    ['RFC 3339 without offset', `2026-11-25T04:42:54.123 vm fail2ban.actions[11595]: NOTICE ${BAN}`],
    ['journal fail2ban[] without PID', `Nov 25 04:43:21 vm fail2ban[]: ${BAN}`],
    ['bare message (no header at all)', BAN],
    ['empty', ''],
  ];
  it.each(table)('%s', (_name, line) => {
    expect(parseLine(line)).toEqual({ kind: 'none' });
  });
});

describe('loggerKindOf', () => {
  it.each([
    ['fail2ban.actions', LOGGER_ACTIONS],
    ['fail2ban.jail', LOGGER_JAIL],
    ['fail2ban.server', LOGGER_SERVER],
    ['fail2ban.filter', LOGGER_OTHER],
    ['fail2ban.observer', LOGGER_OTHER],
    ['fail2ban.actionsX', LOGGER_OTHER],
    ['fail2ban', LOGGER_OTHER],
    ['', LOGGER_OTHER],
  ])('%j → %i', (name, kind) => {
    expect(loggerKindOf(name)).toBe(kind);
    expect(kind).not.toBe(LOGGER_UNKNOWN);
  });
});

describe('monthAt', () => {
  const names = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  it('reads every English abbreviation in place and nothing else', () => {
    names.forEach((n, m) => expect(monthAt(`x ${n} 4`, 2)).toBe(m));
    // every other 3-letter Capitalised word built from the letters of the real names
    const letters = [...new Set(names.join(''))];
    for (const a of letters.filter((c) => c === c.toUpperCase()))
      for (const b of letters) for (const c of letters) if (!names.includes(a + b + c)) expect(monthAt(a + b + c, 0), a + b + c).toBe(-1);
    expect(monthAt('Ja', 0)).toBe(-1);
    expect(monthAt('jan', 0)).toBe(-1);
  });
});
