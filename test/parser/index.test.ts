// Whole-file tests: the exact event sequence parseLine yields for every captured log, compared with
// hand-reviewed expectations (the fixtures' .events.jsonl), the reference grammar, hand-written
// tables, and the lines derived per fail2ban version.
import { beforeAll, describe, expect, it } from 'vitest';

import { parseLine, parseMessage, parseSpan } from '../../src/parser/index.js';
import {
  type Row,
  REF_TYPE,
  expectedRow,
  grammarRows,
  listFixtures,
  loadGrammar,
  parseAll,
  project,
  readFixture,
  splitLines,
} from './helpers.js';

type Grammar = Awaited<ReturnType<typeof loadGrammar>>;
let grammar: Grammar;
beforeAll(async () => {
  grammar = await loadGrammar();
});

interface RefEvent {
  line: number;
  ts: string;
  pid: number;
  event: string;
  jail?: string;
  id?: string;
  version?: string;
}

function rowsFromEventsJsonl(name: string): Row[] {
  return splitLines(readFixture(name))
    .map((l) => JSON.parse(l) as RefEvent)
    .map((e) => expectedRow(e.line, e, { ts: e.ts, pid: e.pid }))
    .filter((r): r is Row => r !== undefined);
}

describe('captured logs with hand-reviewed events (.events.jsonl)', () => {
  it.each(listFixtures(/\.events\.jsonl$/))('%s', (jsonl) => {
    const log = jsonl.replace(/\.events\.jsonl$/, '.log');
    const expected = rowsFromEventsJsonl(jsonl);
    expect(expected.length).toBeGreaterThan(10);
    expect(parseAll(readFixture(log))).toEqual(expected);
  });

  it('full cycle: the sequence a reader needs, spelled out', () => {
    const rows = parseAll(readFixture('fail2ban-1.0.2-full-cycle.log'));
    const short = rows.map((r) => (r.kind === 'rejected' ? `rejected ${r.jail}` : [r.type, r.jail, r.ip].filter(Boolean).join(' ')));
    expect(short.slice(0, 14)).toEqual([
      'server-start',
      'jail-start sshd',
      'jail-start webapp-auth',
      'ban sshd 192.0.2.10',
      'ban sshd 2001:db8::10',
      'ban webapp-auth 203.0.113.7',
      'already-banned sshd 192.0.2.10',
      'rejected webapp-auth', // Ban bad-host.example (usedns = raw)
      'ban webapp-auth 2001:db8:0:1::7',
      'unban webapp-auth 203.0.113.7',
      'rejected webapp-auth', // Unban bad-host.example
      'unban webapp-auth 2001:db8:0:1::7',
      'ban webapp-auth 203.0.113.7',
      'unban webapp-auth 203.0.113.7',
    ]);
    expect(short.slice(-6)).toEqual([
      'unban sshd 192.0.2.10',
      'unban sshd 2001:db8::10',
      'unban sshd 198.51.100.21',
      'jail-stop sshd',
      'jail-stop webapp-auth',
      'server-stop',
    ]);
    const first = rows[3];
    expect(first).toEqual({
      line: 32,
      kind: 'event',
      type: 'ban',
      jail: 'sshd',
      ip: '192.0.2.10',
      time: '2026-11-25 04:39:52,876',
      isoTime: '2026-11-25T04:39:52.876',
      pid: 10839,
    });
    expect(rows.filter((r) => r.type === 'server-start').map((r) => [r.pid, r.version])).toEqual([
      [10839, '1.0.2'],
      [11071, '1.0.2'],
    ]);
  });

  it('the three rotation files concatenated give the full-cycle events', () => {
    const parts = [1, 2, 3].map((n) => listFixtures(new RegExp(`rotation-${n}-.*\\.log$`))[0] as string);
    const strip = (rows: Row[]) => rows.map(({ line: _line, ...rest }) => rest);
    const joined = parts.flatMap((p) => strip(parseAll(readFixture(p))));
    expect(joined).toEqual(strip(parseAll(readFixture('fail2ban-1.0.2-full-cycle.log'))));
    // The Ban written between rename and flushlogs lands in the old file; the rollover opens the new one.
    expect(strip(parseAll(readFixture(parts[0] as string))).at(-1)).toMatchObject({ type: 'ban', ip: '203.0.113.66' });
    expect(parseAll(readFixture(parts[1] as string))[0]).toMatchObject({ line: 1, type: 'log-reopened' });
  });
});

describe('every captured file-format log agrees with the reference grammar', () => {
  it.each(listFixtures(/\.log$/))('%s', (name) => {
    const text = readFixture(name);
    const expected = grammarRows(grammar, text);
    expect(expected.length).toBeGreaterThan(0);
    expect(parseAll(text)).toEqual(expected);
  });

  it.each(listFixtures(/sysout.*stdout\.txt$/))('%s (SYSOUT: no time, interleaved stdout)', (name) => {
    const text = readFixture(name);
    const rows = parseAll(text);
    expect(rows).toEqual(grammarRows(grammar, text));
    expect(rows.every((r) => r.time === undefined && r.pid !== undefined)).toBe(true);
    expect(rows.filter((r) => r.type === 'jail-start').map((r) => r.jail)).toEqual(['sshd', 'webapp-auth']);
  });

  it('syslog payloads (<PRI>logger[pid]: LEVEL msg)', () => {
    const text = splitLines(readFixture('fail2ban-1.0.2-syslog-payloads.txt'))
      .filter((l) => !l.startsWith('#'))
      .join('\n');
    const rows = parseAll(text);
    expect(rows).toEqual(grammarRows(grammar, text));
    expect(rows.filter((r) => r.type === 'ban').map((r) => r.ip)).toEqual(['192.0.2.30', '2001:db8::30', '203.0.113.30', '198.51.100.30']);
  });
});

describe('explicit tables for the address-shape captures', () => {
  const short = (name: string) =>
    parseAll(readFixture(name))
      .filter((r) => r.kind === 'rejected' || ['ban', 'unban'].includes(r.type as string))
      .map((r) => [r.line, r.kind === 'rejected' ? 'rejected' : r.type, r.ip ?? null]);

  it('subnets, IPv4-mapped, full-form IPv6 (all logged already normalised by fail2ban)', () => {
    expect(short('fail2ban-1.0.2-subnet-mapped-dns-ids.log')).toEqual([
      [29, 'ban', '198.51.100.0/24'],
      [30, 'ban', '2001:db8:1::/64'],
      [31, 'ban', '192.0.2.123'],
      [32, 'ban', '2001:db8::42'],
      [40, 'ban', '2001:db8::77'],
      [41, 'unban', '198.51.100.0/24'],
      [49, 'unban', '2001:db8:1::/64'],
      [50, 'unban', '192.0.2.123'],
      [51, 'unban', '2001:db8::42'],
      [52, 'unban', '2001:db8::77'],
    ]);
  });

  it('permanent bans and a manual "Ban not_an_ip" (rejected, never an event)', () => {
    expect(short('fail2ban-1.0.2-permanent-and-non-ip-manual-bans.log')).toEqual([
      [31, 'ban', '192.0.2.99'],
      [32, 'ban', '2001:db8::99'],
      [34, 'ban', '198.51.100.99'],
      [35, 'rejected', null],
      [43, 'unban', '192.0.2.99'],
      [44, 'unban', '2001:db8::99'],
      [45, 'unban', '198.51.100.99'],
      [46, 'rejected', null],
    ]);
    const lines = splitLines(readFixture('fail2ban-1.0.2-permanent-and-non-ip-manual-bans.log'));
    expect(parseLine(lines[34] as string)).toEqual({
      kind: 'rejected',
      reason: 'not-an-ip',
      raw: lines[34],
      jail: 'sshd',
      id: 'not_an_ip',
    });
  });

  it('hostname IDs (usedns = raw), UTF-8 and ~500 characters, are rejected as hostnames', () => {
    const lines = splitLines(readFixture('fail2ban-1.0.2-action-errors-multiline-traceback.log'));
    const rejected = lines.map((l) => parseLine(l)).filter((r) => r.kind === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    for (const r of rejected) expect(r).toMatchObject({ reason: 'hostname' });
    expect(rejected.map((r) => (r.kind === 'rejected' ? r.id : ''))).toContain('bäd-host.example');
    expect(rejected.some((r) => r.kind === 'rejected' && (r.id ?? '').length > 400)).toBe(true);
  });
});

interface Derived {
  version: string;
  transport: string;
  line: string;
  expect: { event: string; jail?: string; id?: string; version?: string };
}

describe('derived lines, per fail2ban version (0.8 – 1.1.1, every transport)', () => {
  const rows = splitLines(readFixture('derived-lines-by-version.jsonl')).map((l) => JSON.parse(l) as Derived);
  const versions = [...new Set(rows.map((r) => r.version))];

  it('covers the versions the reference lists', () => {
    for (const v of ['0.8.0-0.8.11', '0.8.12-0.8.14', '0.9.0', '0.9.1-0.9.7', '0.10.x', '0.11.x', '1.0.1-1.1.0', '1.1.1+']) {
      expect(versions).toContain(v);
    }
  });

  it.each(versions)('%s', (version) => {
    const table = rows.filter((r) => r.version === version);
    const got = table.map((r) => {
      const row = project(1, parseLine(r.line));
      return row ? { type: row.type, jail: row.jail, ip: row.ip, version: row.version } : null;
    });
    const want = table.map((r) => {
      const type = REF_TYPE[r.expect.event];
      if (type === undefined) return null; // found, reban, reload, errors…: context, not events
      return { type, jail: r.expect.jail, ip: r.expect.id, version: r.expect.version };
    });
    expect(got).toEqual(want);
  });

  it('time as written and its ISO form, per transport', () => {
    const byTransport = new Map<string, { time?: string; isoTime?: string }>();
    for (const r of rows) {
      const res = parseLine(r.line);
      if (res.kind === 'event' && !byTransport.has(r.transport))
        byTransport.set(r.transport, { time: res.event.time, isoTime: res.event.isoTime });
    }
    expect(Object.fromEntries(byTransport)).toEqual({
      file: { time: '2012-06-01 10:00:00,101', isoTime: '2012-06-01T10:00:00.101' },
      'syslog-datagram': { time: undefined, isoTime: undefined },
      'syslog-file': { time: '2026-11-25T04:42:54.123456+00:00', isoTime: '2026-11-25T04:42:54.123' },
      'journal-sysout': { time: 'Nov 25 10:29:12', isoTime: undefined },
      'journal-native': { time: 'Nov 25 04:43:21', isoTime: undefined },
    });
  });
});

describe('journal entries (SYSTEMD-JOURNAL target): parseMessage with LOGGER', () => {
  interface Entry {
    kept_by_journald: { MESSAGE: string; LOGGER?: string };
  }
  const entries = splitLines(readFixture('fail2ban-1.0.2-journal-entries.jsonl')).map((l) => (JSON.parse(l) as Entry).kept_by_journald);

  it('classifies every MESSAGE like the reference grammar does', () => {
    const got = entries.map((e) => project(0, parseMessage(e.MESSAGE, e.LOGGER === undefined ? {} : { logger: e.LOGGER })) ?? null);
    const want = entries.map((e) => {
      const c = grammar.classify(e.MESSAGE);
      return (c && expectedRow(0, c, {})) ?? null;
    });
    expect(got).toEqual(want);
    expect(got.filter((r) => r?.type === 'ban').map((r) => r?.ip)).toContain('192.0.2.40');
  });

  it('the LOGGER field vetoes a ban-looking message from another logger', () => {
    expect(parseMessage('[sshd] Ban 192.0.2.40', { logger: 'fail2ban.filter' })).toEqual({ kind: 'none' });
    expect(parseMessage('[sshd] Ban 192.0.2.40', { logger: 'fail2ban.actions', pid: 7, time: 't', isoTime: 'i' })).toMatchObject({
      kind: 'event',
      event: { type: 'ban', ip: '192.0.2.40', pid: 7, time: 't', isoTime: 'i' },
    });
  });

  it('a MESSAGE carrying the full header (lower-case target) is decided by that header', () => {
    const msg = '2026-11-25 04:56:55,156 fail2ban.actions        [14094]: NOTICE  [sshd] Ban 192.0.2.41';
    expect(parseMessage(msg, { logger: 'fail2ban.filter' })).toMatchObject({ kind: 'event', event: { ip: '192.0.2.41', pid: 14094 } });
    expect(parseMessage(`${msg}\nsecond line`)).toMatchObject({ kind: 'event', event: { raw: msg } });
  });
});

describe('parseSpan', () => {
  it('parses a line inside a bigger buffer exactly like the line alone', () => {
    const text = readFixture('fail2ban-1.0.2-full-cycle.log');
    let pos = 0;
    let n = 0;
    for (const line of splitLines(text)) {
      expect(parseSpan(text, pos, pos + line.length)).toEqual(parseLine(line));
      pos += line.length + 1;
      n++;
    }
    expect(n).toBe(188);
  });

  it('ignores a CR before the newline (CRLF files)', () => {
    const line = '2026-11-25 04:39:52,876 fail2ban.actions        [10839]: NOTICE  [sshd] Ban 192.0.2.10';
    expect(parseSpan(`${line}\r\n`, 0, line.length + 1)).toEqual(parseLine(line));
  });
});
