// fail2ban-client output readers on the captured outputs (client/*.txt: first line the command,
// then stdout+stderr, then "[exit code: N]"), plus the Python-literal reader's edge cases.
import { describe, expect, it } from 'vitest';

import {
  ClientOutputError,
  parseBanIpWithTime,
  parseBanned,
  parseJailBanned,
  parsePyLiteral,
  parseStatusJails,
} from '../../src/parser/client.js';
import { listFixtures, readFixture } from './helpers.js';

/** The command's output as the sidecar would receive it (without the capture's framing lines). */
function clientOutput(name: string): { command: string; stdout: string; exit: number } {
  const lines = readFixture(`client/${name}`).split('\n');
  if (lines.at(-1) === '') lines.pop();
  const command = (lines.shift() as string).replace(/^\$ /, '');
  const exit = Number(/^\[exit code: (\d+)\]$/.exec(lines.pop() as string)?.[1]);
  return { command, stdout: lines.length ? `${lines.join('\n')}\n` : '', exit };
}

describe('parseBanned (`fail2ban-client banned`)', () => {
  const table: Array<[string, Record<string, string[]>]> = [
    ['client-banned.txt', { sshd: ['192.0.2.10', '2001:db8::10'], 'webapp-auth': ['bad-host.example', '2001:db8:0:1::7'] }],
    ['client-banned-after-restart.txt', { sshd: ['192.0.2.10', '2001:db8::10'], 'webapp-auth': [] }],
    ['client-edge/client-banned-mixed.txt', { sshd: ['192.0.2.99', '2001:db8::99', '198.51.100.99'], 'webapp-auth': [] }],
    ['client-edge/client-banned-none.txt', { sshd: [], 'webapp-auth': [] }],
  ];
  it.each(table)('%s', (name, want) => {
    const { command, stdout, exit } = clientOutput(name);
    expect([command, exit]).toEqual(['fail2ban-client banned', 0]);
    expect(Object.fromEntries(parseBanned(stdout))).toEqual(want);
  });

  it('`banned IP…` (a list of lists) is not the jail map', () => {
    expect(() => parseBanned(clientOutput('client-banned-ips.txt').stdout)).toThrow(ClientOutputError);
  });

  it('merges a jail printed twice and keeps an ID with a quote intact', () => {
    const out = parseBanned(`[{'a': ['192.0.2.1']}, {'a': ["it's"]}, {"b": []}]\n`);
    expect(Object.fromEntries(out)).toEqual({ a: ['192.0.2.1', "it's"], b: [] });
  });

  it.each([
    ["{'sshd': []}", 'not a list'],
    ["[['sshd']]", 'not a dict'],
    ['[{1: []}]', 'jail name is not a string'],
    ["[{'sshd': [1]}]", 'list of strings'],
    ["[{'sshd': '192.0.2.1'}]", 'list of strings'],
  ])('%s → error (%s)', (text, msg) => {
    expect(() => parseBanned(text)).toThrow(msg);
  });
});

describe('parseJailBanned (`get JAIL banned`)', () => {
  it('on the capture', () => {
    const { stdout } = clientOutput('client-get-sshd-banned.txt');
    expect(parseJailBanned(stdout)).toEqual(['192.0.2.10', '2001:db8::10']);
  });
  it('rejects a non-list', () => {
    expect(() => parseJailBanned('1\n')).toThrow(ClientOutputError);
  });
});

describe('parseBanIpWithTime (`get JAIL banip --with-time`)', () => {
  const files = [
    ...listFixtures(/banip-with-time/, 'client/'),
    ...listFixtures(/banip-with-time/, 'client/client-edge/'),
    ...listFixtures(/banip-with-time/, 'client/client-ids/'),
  ];

  it('reads every captured output, one entry per printed line', () => {
    expect(files.length).toBeGreaterThanOrEqual(9);
    for (const f of files) {
      const { stdout, command } = clientOutput(f.replace(/^client\//, ''));
      expect(command).toMatch(/banip --with-time$/);
      const entries = parseBanIpWithTime(stdout);
      expect(entries.length).toBe(stdout.split('\n').filter((l) => l !== '').length);
      for (const e of entries) expect(stdout).toContain(`${e.id} \t${e.start} + ${e.bantime} = ${e.end}`);
    }
  });

  it.each([
    [
      'client-get-sshd-banip-with-time.txt',
      [
        { id: '2001:db8::10', start: '2026-11-25 04:39:54', bantime: 3600, end: '2026-11-25 05:39:54' },
        { id: '192.0.2.10', start: '2026-11-25 04:39:52', bantime: 3607, end: '2026-11-25 05:39:59' },
      ],
    ],
    [
      'client-edge/client-get-sshd-banip-with-time-permanent.txt',
      [
        { id: '192.0.2.99', start: '2026-11-25 04:46:43', bantime: -1, end: '9999-12-31 23:59:59' },
        { id: '2001:db8::99', start: '2026-11-25 04:46:43', bantime: -1, end: '9999-12-31 23:59:59' },
      ],
    ],
    ['client-edge/client-get-sshd-banip-with-time-none.txt', []],
  ])('%s', (name, want) => {
    expect(parseBanIpWithTime(clientOutput(name).stdout)).toEqual(want);
  });

  it('keeps non-IP IDs (the caller validates) and networks as printed', () => {
    expect(
      parseBanIpWithTime(clientOutput('client-edge/client-get-sshd-banip-with-time-after-invalid.txt').stdout).map((e) => e.id),
    ).toEqual(['192.0.2.99', '2001:db8::99', '198.51.100.99', 'not_an_ip']);
    expect(parseBanIpWithTime(clientOutput('client-ids/client-get-sshd-banip-with-time.txt').stdout).map((e) => e.id)).toEqual([
      '198.51.100.0/24',
      '2001:db8:1::/64',
      '192.0.2.123',
      '2001:db8::42',
    ]);
  });

  it.each([
    ['192.0.2.1 2026-11-25 04:39:54 + 3600 = 2026-11-25 05:39:54'], // no TAB
    ['192.0.2.1 \t2026-11-25 04:39 + 3600 = 2026-11-25 05:39:54'],
    ['2026-11-25 04:46:40,130 fail2ban                [12480]: ERROR   Failed to access socket path'],
  ])('rejects %j', (line) => {
    expect(() => parseBanIpWithTime(`${line}\n`)).toThrow(ClientOutputError);
  });
});

describe('parseStatusJails (`status`)', () => {
  it.each([
    ['client-status.txt', ['sshd', 'webapp-auth']],
    ['client-status-after-jail-stop.txt', ['sshd']],
    ['client-status-after-readd.txt', ['sshd', 'webapp-auth']],
  ])('%s', (name, want) => {
    expect(parseStatusJails(clientOutput(name).stdout)).toEqual(want);
  });

  it('no jails', () => {
    expect(parseStatusJails('Status\n|- Number of jail:\t0\n`- Jail list:\t\n')).toEqual([]);
  });

  it('a count that disagrees with the list is an error', () => {
    expect(() => parseStatusJails('Status\n|- Number of jail:\t3\n`- Jail list:\tsshd, x\n')).toThrow(/3 jail/);
  });

  it.each(['client-status-sshd.txt', 'client-edge/client-status-server-not-running.txt', 'client-edge/client-status-unknown-jail.txt'])(
    '%s is not a `status` listing',
    (name) => {
      expect(() => parseStatusJails(clientOutput(name).stdout)).toThrow(ClientOutputError);
    },
  );
});

describe('parsePyLiteral', () => {
  it.each([
    ["['192.0.2.10', '2001:db8::10']", ['192.0.2.10', '2001:db8::10']],
    ['[1, 0]', [1, 0]],
    ['(1, -2, +3)', [1, -2, 3]],
    ['[None, True, False]', [null, true, false]],
    ["'it\\'s'", "it's"],
    ['"it\'s"', "it's"],
    ["'a\\\\b'", 'a\\b'],
    ["'\\t\\n\\x41\\u00e4\\U0001F600\\101'", '\t\nAä😀A'],
    ["'\\d'", '\\d'],
    ["'bäd-host.example'", 'bäd-host.example'],
    ['  [ ]  \n', []],
    ['[1,]', [1]],
  ])('%s', (text, want) => {
    expect(parsePyLiteral(text)).toEqual(want);
  });

  it('dicts become Maps with insertion order', () => {
    const v = parsePyLiteral("{'b': 1, 'a': [2], 3: 'x'}");
    expect(v).toBeInstanceOf(Map);
    expect([...(v as Map<string | number, unknown>)]).toEqual([
      ['b', 1],
      ['a', [2]],
      [3, 'x'],
    ]);
  });

  it.each([
    ['', 'unexpected end'],
    ['[1', 'expected ","'],
    ["'abc", 'unterminated'],
    ["'a\nb'", 'unterminated'],
    ['[1 2]', 'expected ","'],
    ["{'a' 1}", 'expected ":"'],
    ['{[1]: 2}', 'dict key'],
    ['[1] x', 'after the value'],
    ['12345678901234567890', 'out of range'],
    ["'\\x4'", 'bad escape'],
    ["'\\U00110000'", 'bad escape'],
    ['__import__("os")', 'unexpected'],
    ['['.repeat(100) + ']'.repeat(100), 'nested too deeply'],
  ])('%j → ClientOutputError (%s)', (text, msg) => {
    let err: unknown;
    try {
      parsePyLiteral(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ClientOutputError);
    expect(err).toMatchObject({ code: 'F2B_CLIENT_OUTPUT', retryable: false });
    expect((err as Error).message).toContain(msg);
  });
});
