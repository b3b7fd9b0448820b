// Syslog-format lines as rsyslog writes them to files: fail2ban 1.0.2's syslog payloads wrapped in
// both file formats with several hosts, the captures of a real rsyslogd (test/fixtures/rsyslog), the
// derived lines, the HOST field (event.host), RFC 3339 fractions and offsets.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { parseLine, parseSpan } from '../../src/parser/index.js';
import type { F2bEvent } from '../../src/parser/types.js';
import { grammarRows, loadGrammar, readFixture, splitLines, type Row } from './helpers.js';

const grammar = await loadGrammar();
const CAPTURES = new URL('../fixtures/rsyslog/', import.meta.url);
const capture = (name: string) => splitLines(readFileSync(new URL(name, CAPTURES), 'utf8'));

/** The datagrams fail2ban 1.0.2 sent, "<PRI>" and all. */
const payloads = splitLines(readFixture('fail2ban-1.0.2-syslog-payloads.txt')).filter((l) => !l.startsWith('#'));
/** What rsyslog keeps of a datagram: everything after "<PRI>". */
const body = (p: string) => p.slice(p.indexOf('>') + 1);
/** The events the reference grammar finds in the payloads, without line numbers or times. */
const expected: Row[] = grammarRows(grammar, payloads.join('\n')).map(({ line: _l, time: _t, isoTime: _i, ...r }) => ({ ...r, line: 0 }));

const HOSTS = ['web1', 'web2', 'web2.example.org', '192.0.2.9', '2001:db8::9'];
const NOW = Date.UTC(2026, 11, 4, 18, 0, 0);

/** Every event of `lines`, with its host and times; `line` zeroed (the tables compare sequences). */
function events(lines: string[], now?: number): Array<Omit<F2bEvent, 'raw' | 'family'>> {
  return lines.flatMap((l) => {
    const r = parseLine(l, now === undefined ? undefined : { now });
    if (r.kind === 'none') return [];
    if (r.kind === 'rejected') throw new Error(`rejected: ${r.raw}`); // none of these captures has one
    const { raw: _raw, family: _family, ...e } = r.event;
    return [e];
  });
}

const strip = (rows: Array<Omit<F2bEvent, 'raw' | 'family'>>) =>
  rows.map(({ host: _h, time: _t, isoTime: _i, ...r }) => ({ kind: 'event', line: 0, ...r }));

describe('fail2ban 1.0.2 payloads wrapped as rsyslog writes them', () => {
  it('the payloads hold events to find', () => {
    expect(expected.filter((r) => r.type === 'ban')).toHaveLength(4);
    expect(expected.length).toBeGreaterThan(10);
  });

  describe.each(HOSTS)('host %s', (host) => {
    it('RFC 3339 (RSYSLOG_FileFormat): same events as the payloads, host and ISO time', () => {
      const lines = payloads.map((p) => `2026-12-04T12:00:00.123456+01:00 ${host} ${body(p)}`);
      const got = events(lines);
      expect(strip(got)).toEqual(expected);
      for (const e of got) {
        expect(e).toMatchObject({ host, time: '2026-12-04T12:00:00.123456+01:00', isoTime: '2026-12-04T12:00:00.123' });
      }
    });

    it('traditional (RSYSLOG_TraditionalFileFormat, day padded with a space), with and without now', () => {
      const lines = payloads.map((p) => `Dec  4 12:00:00 ${host} ${body(p)}`);
      const withNow = events(lines, NOW);
      expect(strip(withNow)).toEqual(expected);
      for (const e of withNow) expect(e).toMatchObject({ host, time: 'Dec  4 12:00:00', isoTime: '2026-12-04T12:00:00.000' });
      const without = events(lines);
      expect(strip(without)).toEqual(expected);
      for (const e of without) {
        expect(e).toMatchObject({ host, time: 'Dec  4 12:00:00' });
        expect(e).not.toHaveProperty('isoTime');
      }
    });
  });

  it('parseSpan over a combined file of many hosts names each line by its host', () => {
    const lines = payloads.flatMap((p, i) => {
      const host = HOSTS[i % HOSTS.length] as string;
      return [`Dec  4 12:00:00 ${host} ${body(p)}`];
    });
    const text = lines.join('\n');
    let pos = 0;
    const hosts: string[] = [];
    const want: string[] = [];
    lines.forEach((l, i) => {
      const r = parseSpan(text, pos, pos + l.length, { now: NOW });
      if (r.kind === 'event') {
        hosts.push(r.event.host as string);
        want.push(HOSTS[i % HOSTS.length] as string);
      }
      pos += l.length + 1;
    });
    expect(hosts.length).toBe(expected.length);
    expect(hosts).toEqual(want);
  });
});

describe('captured from a real rsyslogd 8.2302 (test/fixtures/rsyslog/README.md)', () => {
  const rfc = capture('local-web1.RSYSLOG_FileFormat.log');
  const trad = capture('local-web1.RSYSLOG_TraditionalFileFormat.log');

  it('one line per datagram, no <PRI>, no NUL, one space after the tag', () => {
    expect(rfc).toHaveLength(payloads.length);
    expect(trad).toHaveLength(payloads.length);
    rfc.forEach((l, i) => {
      expect(l.endsWith(` web1 ${body(payloads[i] as string)}`), l).toBe(true);
      expect(trad[i]?.endsWith(` web1 ${body(payloads[i] as string)}`), trad[i]).toBe(true);
    });
  });

  it("RFC 3339 file: the payloads' events, host web1, ISO time = the stamp to the millisecond", () => {
    const got = events(rfc);
    expect(strip(got)).toEqual(expected);
    for (const e of got) {
      const t = e.time as string;
      expect(t).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
      expect(e).toMatchObject({ host: 'web1', isoTime: `${t.slice(0, 23)}` });
    }
  });

  it("traditional file: same events; with now, the ISO time equals the RFC 3339 file's to the second", () => {
    const now = Date.parse(rfc[0]?.slice(0, 32) as string);
    const got = events(trad, now);
    expect(strip(got)).toEqual(expected);
    const fromRfc = events(rfc).map((e) => `${(e.isoTime as string).slice(0, 19)}.000`);
    expect(got.map((e) => e.isoTime)).toEqual(fromRfc);
    for (const e of got) expect(e.host).toBe('web1');
  });

  it('other hosts and senders (FQDN, IPv4, RFC 5424 with IPv6, mangled RFC 3164 hosts)', () => {
    const want = [
      { host: 'web2.example.org', ip: '192.0.2.7' },
      { host: 'web2.example.org', ip: '192.0.2.8' },
      { host: '192.0.2.9', ip: '192.0.2.10' },
      { host: '2001:db8::9', ip: '192.0.2.11' }, // RFC 5424: "fail2ban.actions[1234] NOTICE", no colon
      { host: 'db1.example.org', ip: '192.0.2.12' },
      // rsyslog wrote "localhost fe80: :1 fail2ban…" and "localhost a/b fail2ban…": no fail2ban line
    ];
    for (const name of ['hosts-web2-fqdn.RSYSLOG_FileFormat.log', 'hosts-web2-fqdn.RSYSLOG_TraditionalFileFormat.log']) {
      const lines = capture(name);
      expect(lines).toHaveLength(7);
      expect(events(lines, NOW).map((e) => ({ host: e.host, ip: e.ip }))).toEqual(want);
    }
    expect(parseLine(capture('hosts-web2-fqdn.RSYSLOG_FileFormat.log')[3] as string)).toMatchObject({
      kind: 'event',
      event: { time: '2026-12-04T12:00:00.5+01:00', isoTime: '2026-12-04T12:00:00.500', pid: 1234 },
    });
  });
});

describe('derived lines with a syslog HOST (rsyslog file, journalctl)', () => {
  interface Derived {
    transport: string;
    line: string;
  }
  const rows = splitLines(readFixture('derived-lines-by-version.jsonl')).map((l) => JSON.parse(l) as Derived);

  it.each(['syslog-file', 'journal-sysout', 'journal-native'])('%s: host "vm"', (transport) => {
    const lines = rows.filter((r) => r.transport === transport).map((r) => r.line);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(parseLine(l)).toMatchObject({ kind: 'event', event: { host: 'vm' } });
  });

  it.each(['file', 'syslog-datagram'])('%s: no host', (transport) => {
    const lines = rows.filter((r) => r.transport === transport).map((r) => r.line);
    const evs = lines.map((l) => parseLine(l)).filter((r) => r.kind === 'event');
    expect(evs.length).toBeGreaterThan(0);
    for (const r of evs) expect(r.kind === 'event' && 'host' in r.event).toBe(false);
  });

  it('traditional derived line with now: isoTime of the right year', () => {
    const l = rows.find((r) => r.transport === 'syslog-file' && r.line.startsWith('Nov'))?.line as string;
    expect(parseLine(l, { now: Date.UTC(2026, 10, 25, 5) })).toMatchObject({ event: { isoTime: '2026-11-25T04:42:54.000' } });
    expect(parseLine(l, { now: Date.UTC(2027, 0, 2) })).toMatchObject({ event: { isoTime: '2026-11-25T04:42:54.000' } });
  });
});

describe('the HOST field', () => {
  const MSG = 'fail2ban.actions[1234]: NOTICE [sshd] Ban 192.0.2.7';
  const hostOf = (host: string, stamp = 'Dec  4 12:00:00') => {
    const r = parseLine(`${stamp} ${host} ${MSG}`);
    return r.kind === 'event' ? (r.event.host ?? '(none)') : r.kind;
  };

  it.each([
    ['short name', 'web1', 'web1'],
    ['FQDN', 'web1.dc1.example.org', 'web1.dc1.example.org'],
    ['IPv4 literal', '192.0.2.9', '192.0.2.9'],
    ['IPv6 literal', '2001:db8::9', '2001:db8::9'],
    ['IPv4-mapped literal', '::ffff:192.0.2.9', '::ffff:192.0.2.9'],
    ['underscore, upper case', 'Web_1', 'Web_1'],
    ['localhost', 'localhost', 'localhost'],
    ['UTF-8 name', 'wéb1', 'wéb1'],
    ['a "/" makes no source name: event kept, no host', 'web/1', '(none)'],
    ['a no-break space makes no source name', 'web\u00a01', '(none)'],
    ['an ideographic space makes no source name', 'web\u30001', '(none)'],
  ])('%s', (_name, host, want) => {
    expect(hostOf(host)).toBe(want);
    expect(hostOf(host, '2026-12-04T12:00:00Z')).toBe(want);
  });

  it.each([
    ['empty host (two spaces)', `Dec  4 12:00:00  ${MSG}`],
    ['tab inside the host', `Dec  4 12:00:00 we\tb1 ${MSG}`],
    ['tab after the host', `Dec  4 12:00:00 web1\t${MSG}`],
    ['no host at all', `Dec  4 12:00:00 ${MSG}`],
    ['RFC 3339, empty host', `2026-12-04T12:00:00Z  ${MSG}`],
  ])('%s: not a syslog line', (_name, l) => {
    expect(parseLine(l)).toEqual({ kind: 'none' });
  });

  it('only events carry it; other fail2ban lines of a syslog file stay "none"', () => {
    expect(parseLine('Dec  4 12:00:00 web1 fail2ban.filter[1234]: INFO [sshd] Found 192.0.2.7 - 2026-12-04 12:00:00')).toEqual({
      kind: 'none',
    });
  });

  it('journalctl lines get the host too', () => {
    expect(hostOf('vm').length).toBeGreaterThan(0);
    const r = parseLine('Nov 25 04:43:21 db-2 fail2ban[11670]: [sshd] Ban 192.0.2.30');
    expect(r).toMatchObject({ kind: 'event', event: { host: 'db-2', pid: 11670 } });
  });

  it('the event of a line whose host is unusable is otherwise the same', () => {
    const a = parseLine(`Dec  4 12:00:00 web1 ${MSG}`);
    const b = parseLine(`Dec  4 12:00:00 web/1 ${MSG}`);
    if (a.kind !== 'event' || b.kind !== 'event') throw new Error('events expected');
    const { host: _h, raw: _r, ...restA } = a.event;
    const { raw: _r2, ...restB } = b.event;
    expect(restB).toEqual(restA);
  });
});

describe("RFC 5424 tag without a colon (rsyslog's %syslogtag% of an RFC 5424 message)", () => {
  it.each([
    ['tag[pid] LEVEL', 'Dec  4 12:00:00 web1 fail2ban.actions[1234] NOTICE [sshd] Ban 192.0.2.7', 'event'],
    ['RFC 3339', '2026-12-04T12:00:00.5+01:00 web1 fail2ban.actions[1234] NOTICE [sshd] Unban 192.0.2.7', 'event'],
    ['no PID, no colon', 'Dec  4 12:00:00 web1 fail2ban.actions NOTICE [sshd] Ban 192.0.2.7', 'none'],
    ['padded logger, no colon', 'Dec  4 12:00:00 web1 fail2ban.actions [1234] NOTICE [sshd] Ban 192.0.2.7', 'none'],
    ['no space after the tag', 'Dec  4 12:00:00 web1 fail2ban.actions[1234]NOTICE [sshd] Ban 192.0.2.7', 'none'],
    ["fail2ban's own file format needs its colon", '2026-12-04 12:00:00,123 fail2ban.actions[1234] NOTICE [sshd] Ban 192.0.2.7', 'none'],
    ['SYSOUT needs its colon', 'fail2ban.actions        [1234] NOTICE  [sshd] Ban 192.0.2.7', 'none'],
    ['a datagram needs its colon', '<29>fail2ban.actions[1234] NOTICE [sshd] Ban 192.0.2.7', 'none'],
  ])('%s', (_name, l, kind) => {
    expect(parseLine(l).kind).toBe(kind);
  });
});

describe('RFC 3339 stamps: fraction of any length, any offset; isoTime is the wall time', () => {
  it.each([
    ['2026-12-04T12:00:00Z', '2026-12-04T12:00:00.000'],
    ['2026-12-04T12:00:00+01:00', '2026-12-04T12:00:00.000'],
    ['2026-12-04T12:00:00.5+01:00', '2026-12-04T12:00:00.500'],
    ['2026-12-04T12:00:00.12Z', '2026-12-04T12:00:00.120'],
    ['2026-12-04T12:00:00.123+01:00', '2026-12-04T12:00:00.123'],
    ['2026-12-04T12:00:00.1234Z', '2026-12-04T12:00:00.123'],
    ['2026-12-04T12:00:00.123456+01:00', '2026-12-04T12:00:00.123'],
    ['2026-12-04T12:00:00.999999999-05:30', '2026-12-04T12:00:00.999'],
    ['2026-12-31T23:59:59.9999+14:00', '2026-12-31T23:59:59.999'],
  ])('%s → %s', (stamp, want) => {
    expect(parseLine(`${stamp} web1 fail2ban.actions[1]: NOTICE [sshd] Ban 192.0.2.7`)).toMatchObject({
      kind: 'event',
      event: { time: stamp, isoTime: want, host: 'web1' },
    });
  });

  it.each([
    ['no offset', '2026-12-04T12:00:00.123'],
    ['dot without digits', '2026-12-04T12:00:00.+01:00'],
    ['offset without colon', '2026-12-04T12:00:00+0100'],
    ['lower-case z', '2026-12-04T12:00:00z'],
  ])('%s: not a syslog line', (_name, stamp) => {
    expect(parseLine(`${stamp} web1 fail2ban.actions[1]: NOTICE [sshd] Ban 192.0.2.7`)).toEqual({ kind: 'none' });
  });
});
