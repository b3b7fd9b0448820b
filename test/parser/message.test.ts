// The message catalogue (reference §3, §4): each event verb, the context lines that look like one,
// hostile text that carries "Ban 1.2.3.4" where no ban happened, and IDs that are not addresses.
import { describe, expect, it } from 'vitest';

import { parseLine } from '../../src/parser/index.js';
import type { ParseResult } from '../../src/parser/types.js';

const at = (logger: string, level: string, msg: string): string =>
  `2026-11-25 04:39:52,876 ${logger.padEnd(24)}[10839]: ${level.padEnd(7)} ${msg}`;
const actions = (msg: string) => at('fail2ban.actions', 'NOTICE', msg);
const jail = (msg: string) => at('fail2ban.jail', 'INFO', msg);
const server = (msg: string) => at('fail2ban.server', 'INFO', msg);

function summary(r: ParseResult): unknown {
  if (r.kind === 'none') return null;
  if (r.kind === 'rejected') return { rejected: r.reason, jail: r.jail, id: r.id };
  const { type, jail: j, ip, version } = r.event;
  return Object.fromEntries(Object.entries({ type, jail: j, ip, version }).filter(([, v]) => v !== undefined));
}

describe('events', () => {
  const table: Array<[string, unknown]> = [
    [actions('[sshd] Ban 192.0.2.10'), { type: 'ban', jail: 'sshd', ip: '192.0.2.10' }],
    [actions('[sshd] Unban 2001:db8::10'), { type: 'unban', jail: 'sshd', ip: '2001:db8::10' }],
    [actions('[sshd] Restore Ban 192.0.2.10'), { type: 'restore-ban', jail: 'sshd', ip: '192.0.2.10' }],
    [actions('[sshd] Repeal Ban 192.0.2.10'), { type: 'repeal-ban', jail: 'sshd', ip: '192.0.2.10' }],
    [actions('[sshd] 192.0.2.10 already banned'), { type: 'already-banned', jail: 'sshd', ip: '192.0.2.10' }],
    [at('fail2ban.actions', 'WARNING', '[sshd] 192.0.2.10 already banned'), { type: 'already-banned', jail: 'sshd', ip: '192.0.2.10' }],
    [actions('[sshd] Ban 198.51.100.0/24'), { type: 'ban', jail: 'sshd', ip: '198.51.100.0/24' }],
    [
      actions('[webapp-flaky-action-long-name] Ban 203.0.113.60'),
      { type: 'ban', jail: 'webapp-flaky-action-long-name', ip: '203.0.113.60' },
    ],
    [actions('[my jail] Ban 192.0.2.1'), { type: 'ban', jail: 'my jail', ip: '192.0.2.1' }],
    [jail("Jail 'sshd' started"), { type: 'jail-start', jail: 'sshd' }],
    [jail("Jail 'sshd' stopped"), { type: 'jail-stop', jail: 'sshd' }],
    [jail(`Jail "it's" started`), { type: 'jail-start', jail: "it's" }],
    [jail("Jail u'sshd' stopped"), { type: 'jail-stop', jail: 'sshd' }],
    [server('Starting Fail2ban v1.0.2'), { type: 'server-start', version: '1.0.2' }],
    [server('Changed logging target to /var/log/fail2ban.log for Fail2ban v0.9.7'), { type: 'server-start', version: '0.9.7' }],
    [server('Changed logging target to SYSLOG (/dev/log) for Fail2ban v1.0.2'), { type: 'server-start', version: '1.0.2' }],
    [server('Shutdown in progress...'), { type: 'server-stopping' }],
    [server('Stopping all jails'), { type: 'server-stopping' }],
    [server('Exiting Fail2ban'), { type: 'server-stop' }],
    [server('rollover performed on /var/log/fail2ban.log'), { type: 'log-reopened' }],
    [server('flush performed on /var/log/fail2ban.log'), { type: 'log-reopened' }],
  ];
  it.each(table)('%s', (line, want) => {
    expect(summary(parseLine(line))).toEqual(want);
  });
});

describe('context lines that are not events', () => {
  const table: string[] = [
    at('fail2ban.filter', 'INFO', '[sshd] Found 192.0.2.10 - 2026-11-25 04:39:52'),
    at('fail2ban.observer', 'INFO', '[webapp-auth] Found 203.0.113.7, bad - 2026-11-25 04:40:09, 1 # -> 2.0, Ban'),
    at('fail2ban.observer', 'NOTICE', '[webapp-auth] Increase Ban 203.0.113.7 (2 # 10s -> 2026-11-25 04:40:19)'),
    at('fail2ban.observer', 'INFO', '[webapp-auth] IP 203.0.113.7 is bad: 1 # last 2026-11-25 04:39:56 - incr 5s to 10s'),
    at('fail2ban.filter', 'INFO', '[sshd] Ignore 127.0.0.1 by ignoreself rule'),
    at('fail2ban.filter', 'INFO', '[sshd] Attempt 192.0.2.1 - 2026-11-25 04:39:52'),
    actions('[sshd] Ignore 192.0.2.8, expired bantime'),
    actions('[sshd] Flush ticket(s) with dummy'),
    actions("[sshd] Reban 192.0.2.6, action 'iptables-multiport'"),
    actions('[sshd] Banned 192.0.2.6'),
    actions('[sshd] Ban'),
    actions('[sshd] Ban '),
    actions('[] Ban 192.0.2.1'),
    actions('[sshd]Ban 192.0.2.1'),
    actions('[sshd] already banned'),
    actions('[sshd] 192.0.2.1 192.0.2.2 already banned'),
    jail("Jail 'sshd' uses pyinotify {}"),
    jail("Jail 'sshd' reloaded"),
    jail("Creating new jail 'sshd'"),
    jail("Jail '' started"),
    jail('Jail sshd started'),
    jail("Jail 'sshd' started now"),
    server("Jail 'sshd' reloaded"),
    server('Reload jail sshd'),
    server('Reload finished.'),
    server('--------------------------------------------------'),
    server('Start Fail2ban v1.0.2'),
    server('Starting Fail2ban v'),
    server('Starting Fail2ban v1.0.2 again'),
    server('Shutdown in progress... now'),
    server('Exiting Fail2ban!'),
    server('rollover performed on '),
    at(
      'fail2ban.transmitter',
      'ERROR',
      "Command ['set', 'sshd', 'unbanip', '--report-absent', '198.51.100.31'] has failed. Received ValueError(\"not banned: ['198.51.100.31']\")",
    ),
  ];
  it.each(table)('%s', (line) => {
    expect(parseLine(line)).toEqual({ kind: 'none' });
  });
});

describe('hostile text that echoes a ban (must not produce an event)', () => {
  const table: Array<[string, string]> = [
    ['traceback line', '  File "/x.py", line 3, in f: raise ValueError("[sshd] Ban 1.2.3.4")'],
    ['traceback line quoting a header', `ValueError: ${actions('[sshd] Ban 1.2.3.4')}`],
    ['Ban from the filter logger (crafted user name echoed by Found)', at('fail2ban.filter', 'NOTICE', '[sshd] Ban 1.2.3.4')],
    ['Ban from the observer logger', at('fail2ban.observer', 'NOTICE', '[sshd] Ban 1.2.3.4')],
    ['Ban from utils (action stdout)', at('fail2ban.utils', 'ERROR', "7f226f770030 -- stdout: '[sshd] Ban 1.2.3.4'")],
    ['Ban inside a utils exec line', at('fail2ban.utils', 'ERROR', '7f226f770030 -- exec: echo "[sshd] Ban 1.2.3.4" >&2; exit 1')],
    [
      'Failed to process line with a crafted user',
      at(
        'fail2ban.filter',
        'ERROR',
        "Failed to process line: 'Invalid user [sshd] Ban 1.2.3.4 from 192.0.2.1', caught exception: ValueError()",
      ),
    ],
    ['jail lifecycle from the actions logger', actions("Jail 'sshd' started")],
    ['server lifecycle from the jail logger', jail('Exiting Fail2ban')],
    ['text prefixed to the message', actions('x [sshd] Ban 1.2.3.4')],
    ['Ban not at the verb position', actions('[sshd] Found Ban 1.2.3.4')],
    ['another program’s line', 'Nov 25 04:42:54 vm sshd[999]: Invalid user [sshd] Ban 1.2.3.4 from 192.0.2.1'],
    ['another program prefixing a fail2ban line', `sshd[999]: ${actions('[sshd] Ban 1.2.3.4')}`],
    ['fail2ban-client error header (bare fail2ban logger)', at('fail2ban', 'ERROR', '[sshd] Ban 1.2.3.4')],
  ];
  it.each(table)('%s', (_name, line) => {
    expect(parseLine(line)).toEqual({ kind: 'none' });
  });

  it('text suffixed to the ID makes it an invalid ID: rejected, never an event', () => {
    expect(summary(parseLine(actions('[sshd] Ban 1.2.3.4 and more')))).toEqual({
      rejected: 'not-an-ip',
      jail: 'sshd',
      id: '1.2.3.4 and more',
    });
    expect(summary(parseLine(actions('[sshd] Ban 1.2.3.4; rm -rf /')))).toEqual({
      rejected: 'bad-prefix',
      jail: 'sshd',
      id: '1.2.3.4; rm -rf /',
    });
    expect(summary(parseLine(actions('[sshd] Ban 1.2.3.4\u0000')))).toMatchObject({ rejected: 'not-an-ip' });
  });
});

describe('event-shaped lines with an invalid ID are rejected with a reason', () => {
  const table: Array<[string, string, string]> = [
    ['[sshd] Ban not_an_ip', 'not-an-ip', 'not_an_ip'],
    ['[webapp-auth] Ban bad-host.example', 'hostname', 'bad-host.example'],
    ['[webapp-auth] Unban bäd-host.example', 'hostname', 'bäd-host.example'],
    ['[sshd] Restore Ban 010.0.0.1', 'leading-zero', '010.0.0.1'],
    ['[sshd] Repeal Ban fe80::1%eth0', 'zone-id', 'fe80::1%eth0'],
    ['[sshd] Ban 192.0.2.0/33', 'bad-prefix', '192.0.2.0/33'],
    ['[sshd] Ban 2001:db8::/129', 'bad-prefix', '2001:db8::/129'],
    ['[sshd] Ban 256.1.1.1', 'not-an-ip', '256.1.1.1'],
    ['[sshd] Ban 1.2.3', 'not-an-ip', '1.2.3'],
    ['[sshd] Ban 127.1', 'not-an-ip', '127.1'],
    ['[sshd] Ban 0x7f.0.0.1', 'hostname', '0x7f.0.0.1'], // inet_aton would read 127.0.0.1; we do not
    ['[sshd] Ban 2001:db8:::1', 'not-an-ip', '2001:db8:::1'],
    ['[sshd] <script> already banned', 'not-an-ip', '<script>'],
  ];
  it.each(table)('%s', (msg, reason, id) => {
    const line = actions(msg);
    expect(parseLine(line)).toEqual({ kind: 'rejected', reason, raw: line, jail: msg.slice(1, msg.indexOf(']')), id });
  });
});

describe('IDs are normalised in events', () => {
  const table: Array<[string, string, 'IPv4' | 'IPv6']> = [
    ['2001:0DB8:0000:0000:0000:0000:0000:0042', '2001:db8::42', 'IPv6'],
    ['::ffff:192.0.2.123', '192.0.2.123', 'IPv4'],
    ['198.51.100.7/24', '198.51.100.0/24', 'IPv4'],
    ['192.0.2.1/32', '192.0.2.1', 'IPv4'],
    ['2001:DB8:1::5/64', '2001:db8:1::/64', 'IPv6'],
  ];
  it.each(table)('%s → %s', (id, ip, family) => {
    const r = parseLine(actions(`[sshd] Ban ${id}`));
    expect(r).toMatchObject({ kind: 'event', event: { ip, family } });
  });
});
