// The WebAssembly fast path of `parse` against the generic one: whatever the module writes for a
// line must be exactly what parseLine + jsonLine/textLine give for it, on every real fixture line,
// on hand-made edge cases and on generated lines; a line it calls "no event" must be none for
// parseLine; and the fast path must really be taken for fail2ban's common shapes (else the bench
// measures the slow path).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { OutBuffer, Scanner, fastLine, jsonLine, newTotals, textLine, type FastResult, type Format } from '../../src/cli/commands/parse-scan.js';
import { parseLine } from '../../src/parser/index.js';
import { listFixtures, readFixture, splitLines } from '../parser/helpers.js';

const FORMATS: Format[] = [
  { json: true, raw: false },
  { json: true, raw: true },
  { json: false, raw: false },
  { json: false, raw: true },
];

/** What the generic path prints for one line (without its newline). */
function generic(line: string, fmt: Format): string {
  const r = parseLine(line);
  if (r.kind !== 'event') return '';
  return fmt.json ? jsonLine(r.event, fmt.raw) : textLine(r.event, fmt.raw);
}

const WRITTEN = 'written';
const NOT_EVENT = 'not-event';
const DECLINED = 'declined';

/** The whole text through the Scanner, in chunks of `size` bytes. */
function scan(text: string, fmt: Format, size: number): { out: string; events: number; rejected: number; lines: number } {
  const chunks: Buffer[] = [];
  const out = new OutBuffer(
    (full) => chunks.push(Buffer.from(full)),
    () => Buffer.alloc(4096),
  );
  const totals = newTotals();
  const sc = new Scanner(out, totals, fmt);
  const bytes = Buffer.from(text, 'utf8');
  for (let p = 0; p < bytes.length; p += size) sc.chunk(bytes.subarray(p, p + size));
  sc.end();
  out.finish();
  return { out: Buffer.concat(chunks).toString('utf8'), events: totals.events, rejected: totals.rejected, lines: totals.lines };
}

function checkLine(line: string, fmt: Format): FastResult {
  const f = fastLine(Buffer.from(line, 'utf8'), fmt);
  if (f.result === WRITTEN) expect(f.out, line).toBe(generic(line, fmt));
  else expect(f.out, line).toBe('');
  if (f.result === NOT_EVENT) expect(parseLine(line).kind, line).toBe('none');
  return f.result;
}

const fixtureLines = listFixtures(/\.log$/).flatMap((name) => splitLines(readFixture(name)));

const T = '2026-11-25 04:39:52,876';
const A = `${T} fail2ban.actions        [4711]: NOTICE  `;
const EDGE = [
  `${A}[sshd] Ban 192.0.2.1`,
  `${A}[sshd] Ban 192.0.2.01`,
  `${A}[sshd] Ban 0.0.0.0`,
  `${A}[sshd] Ban 256.1.1.1`,
  `${A}[sshd] Ban 2001:DB8::1`,
  `${A}[sshd] Ban 2001:db8:0:0:0:0:0:1`,
  `${A}[sshd] Ban 2001:db8::0:1`,
  `${A}[sshd] Ban 2001:db8:0:0:1::1`,
  `${A}[sshd] Ban ::ffff:192.0.2.1`,
  `${A}[sshd] Ban ::ffff:c000:201`,
  `${A}[sshd] Ban ::`,
  `${A}[sshd] Ban ::1`,
  `${A}[sshd] Ban 2001:db8::`,
  `${A}[sshd] Ban 2001:db8:1:2:3:4:5:6:7`,
  `${A}[sshd] Ban 2001:db8::1::2`,
  `${A}[sshd] Ban 192.0.2.0/24`,
  `${A}[sshd] Ban example.org`,
  `${A}[sshd] Unban 198.51.100.7`,
  `${A}[sshd] Restore Ban 198.51.100.7`,
  `${A}[sshd] Repeal Ban 198.51.100.7`,
  `${A}[sshd] 198.51.100.7 already banned`,
  `${A}[sshd] Ban 198.51.100.7   `,
  `${A}[sshd] Ban 198.51.100.7\r`,
  `${A}[sshd] Ban 198.51.100.7\t`,
  `${A}[my "jail"] Ban 198.51.100.7`,
  `${A}[back\\slash] Ban 198.51.100.7`,
  `${A}[jäil] Ban 198.51.100.7`,
  `${A}[] Ban 198.51.100.7`,
  `${A}[sshd]  Ban 198.51.100.7`,
  `${A}[sshd] ban 198.51.100.7`,
  `${A}Ban 198.51.100.7`,
  `${A}[sshd] Found 198.51.100.7`,
  `${T} fail2ban.actions        [0042]: NOTICE  [sshd] Ban 198.51.100.7`,
  `${T} fail2ban.actions        [0]: NOTICE  [sshd] Ban 198.51.100.7`,
  `${T} fail2ban.actions2       [4711]: NOTICE  [sshd] Ban 198.51.100.7`,
  `${T} fail2ban.actions: NOTICE  [sshd] Ban 198.51.100.7`,
  `${T} fail2ban.actions        [4711]: notice  [sshd] Ban 198.51.100.7`,
  `${T} fail2ban.actions        [4711]: NOTICE [sshd] Ban 198.51.100.7`,
  `${T} fail2ban.actions        [4711]: NOTICE  [sshd] Ban 198.51.100.7 (user "x\\")`,
  `2026-11-25 04:39:52.876 fail2ban.actions        [4711]: NOTICE  [sshd] Ban 198.51.100.7`,
  `2026-11-2x 04:39:52,876 fail2ban.actions        [4711]: NOTICE  [sshd] Ban 198.51.100.7`,
  `${T} fail2ban.actions        [4711]: NOTICE  [sshd] Ban 198.51.100.7 \u00e9`,
  // Found by mutation testing of the module: each of these tells a dropped or loosened check.
  `${T} fail2ban.actions        [12345678901]: NOTICE  [sshd] Ban 192.0.2.1`,
  `${T} fail2ban.actions        [4711]:xNOTICE  [sshd] Ban 192.0.2.1`,
  `${T} fail2ban.actions        [4711]:  [sshd] Ban 192.0.2.1`,
  `${A}[sshd] Ban 192.0.2.1\u000e`,
  `${A}[sshd]xBan 192.0.2.1`,
  `${A}[ss\u001fhd] Ban 192.0.2.1`,
  `${A}[sshd] Ban 2001:0db8::1`,
  `${A}[sshd] Ban 2001:db8::12345`,
  `${A}[sshd] Ban 2001:db8::1:`,
  `9026-11-25 04:39:52,876 fail2ban.actions        [4711]: NOTICE  [sshd] Ban 192.0.2.1`,
  '<29>fail2ban.actions[4711]: NOTICE [sshd] Ban 192.0.2.1',
  `${A}[sshd] Ban 1:2:3:4:5:6:7:8:`,
  `2026-11-25 04:39:52,87x fail2ban.actions        [4711]: NOTICE  [sshd] Ban 192.0.2.1`,
];

const S = `${T} fail2ban.server         [4711]: INFO    `;
const J = `${T} fail2ban.jail           [4711]: INFO    `;
/** Lifecycle lines and other messages of the server and jail loggers, and lines before any header. */
const LIFECYCLE = [
  `${J}Jail 'sshd' started`,
  `${J}Jail 'sshd' stopped`,
  `${J}Jail u'sshd' started`,
  `${J}Jail "sshd" stopped`,
  `${J}Jail 'sshd" started`,
  `${J}Jail '' started`,
  `${J}Jail 'a"b' started`,
  `${J}Jail 'jäil' started`,
  `${J}Jail 'sshd' started   `,
  `${J}Jail 'sshd' reloaded`,
  `${J}Creating new jail 'sshd'`,
  `${J}[sshd] Ban 192.0.2.1`,
  `${S}Jail 'sshd' started`,
  `${S}Starting Fail2ban v1.0.2`,
  `${S}Starting Fail2ban v1.1.0.dev1`,
  `${S}Starting Fail2ban v`,
  `${S}Starting Fail2ban v1.0 2`,
  `${S}Starting Fail2ban v"1"`,
  `${S}Starting Fail2ban v1.0.2\u000e`,
  `${S}Starting Fail2ban v1.0.2\u00a0`,
  `${J}Jail 'sshd'.started`,
  `${S}Shutdown in progress...`,
  `${S}Shutdown in progress... `,
  `${S}Shutdown in progress....`,
  `${S}Stopping all jails`,
  `${S}Stopping all jails\u00a0`,
  `${S}Exiting Fail2ban`,
  `${S}Exiting Fail2ban now`,
  `${S}Changed logging target to /var/log/fail2ban.log for Fail2ban v0.9.6`,
  `${S}rollover performed on /var/log/fail2ban.log`,
  `${S}flush performed on /var/log/fail2ban.log`,
  `${S}Reload all jails`,
  `${S}Jail 'sshd' reloaded`,
  `${S}--------------------------------------------------`,
  `${S}[sshd] Ban 192.0.2.1`,
  `${S}\u00e9`,
  `${T} fail2ban.server         [04711]: INFO    Exiting Fail2ban`,
  `${T} fail2ban.serverx        [4711]: INFO    Exiting Fail2ban`,
  `${T} fail2ban.jails          [4711]: INFO    Jail 'sshd' started`,
  'Traceback (most recent call last):',
  "IsADirectoryError: [Errno 21] Is a directory: '/var/log/auth.log'",
  'Nov 25 04:42:54 host fail2ban.actions[4711]: NOTICE [sshd] Ban 192.0.2.1',
  'Nov  5 04:42:54 host fail2ban.actions[4711]: NOTICE [sshd] Ban 192.0.2.1',
];

describe('the module agrees with the generic path', () => {
  it.each(FORMATS.map((f) => [`json ${f.json} raw ${f.raw}`, f] as const))('every line of every real fixture (%s)', (_name, fmt) => {
    const seen = new Map<FastResult, number>();
    for (const line of fixtureLines) {
      const r = checkLine(line, fmt);
      seen.set(r, (seen.get(r) ?? 0) + 1);
    }
    // The real 1.0.2 captures are in the common shape: the fast path must take their bans.
    expect(seen.get(WRITTEN) ?? 0).toBeGreaterThan(20);
  });

  it.each(FORMATS.map((f) => [`json ${f.json} raw ${f.raw}`, f] as const))('hand-made edge cases (%s)', (_name, fmt) => {
    const results = EDGE.map((line) => checkLine(line, fmt));
    // The plain shapes go fast; the odd ones fall back (or are certainly no event).
    expect(results[0]).toBe(WRITTEN);
    expect(results[EDGE.indexOf(`${A}[sshd] Unban 198.51.100.7`)]).toBe(WRITTEN);
    expect(results[EDGE.indexOf(`${A}[sshd] 198.51.100.7 already banned`)]).toBe(WRITTEN);
    expect(results[EDGE.indexOf(`${A}Ban 198.51.100.7`)]).toBe(NOT_EVENT);
    expect(results[EDGE.indexOf(`${A}[sshd] Ban 256.1.1.1`)]).toBe(DECLINED);
  });

  it.each(FORMATS.map((f) => [`json ${f.json} raw ${f.raw}`, f] as const))('server and jail loggers, and lines without a header (%s)', (_name, fmt) => {
    const results = LIFECYCLE.map((line) => checkLine(line, fmt));
    const r = (line: string) => results[LIFECYCLE.indexOf(line)];
    // The lifecycle events of every restart go fast, and so does dismissing the rest.
    for (const line of [`${J}Jail 'sshd' started`, `${J}Jail 'sshd' stopped`, `${S}Starting Fail2ban v1.0.2`, `${S}Shutdown in progress...`, `${S}Stopping all jails`, `${S}Exiting Fail2ban`])
      expect(r(line), line).toBe(WRITTEN);
    expect(r(`${J}Jail u'sshd' started`)).toBe(WRITTEN);
    // A quote in the line is escaped in "raw": that is the generic path's job.
    expect(r(`${J}Jail "sshd" stopped`)).toBe(fmt.raw ? DECLINED : WRITTEN);
    for (const line of [`${S}Reload all jails`, `${S}Jail 'sshd' reloaded`, `${J}Creating new jail 'sshd'`, `${J}[sshd] Ban 192.0.2.1`, 'Traceback (most recent call last):'])
      expect(r(line), line).toBe(NOT_EVENT);
    // Rare shapes are left to the generic parser.
    expect(r(`${S}Changed logging target to /var/log/fail2ban.log for Fail2ban v0.9.6`)).toBe(DECLINED);
    expect(r(`${S}Stopping all jails\u00a0`)).toBe(DECLINED);
    expect(r('Nov 25 04:42:54 host fail2ban.actions[4711]: NOTICE [sshd] Ban 192.0.2.1')).toBe(DECLINED);
  });

  it.each(FORMATS.map((f) => [`json ${f.json} raw ${f.raw}`, f] as const))('bytes that are not UTF-8 in the jail (%s)', (_name, fmt) => {
    // The generic path decodes them to U+FFFD; copying them through would print other bytes.
    const line = Buffer.concat([Buffer.from(`${A}[ss`), Buffer.from([0xff, 0xc3]), Buffer.from('hd] Ban 192.0.2.1')]);
    const f = fastLine(line, fmt);
    expect(f.result).toBe(DECLINED);
    const r = parseLine(line.toString('utf8'));
    expect(r.kind === 'event' && r.event.jail).toBe('ss\ufffd\ufffdhd');
  });

  it('generated lines of the server and jail loggers', () => {
    const name = fc.oneof(fc.constantFrom('sshd', 'nginx-http-auth', "o'q", 'a"b'), fc.string({ maxLength: 8 }));
    const msg = fc.oneof(
      fc.tuple(fc.constantFrom('', 'u'), fc.constantFrom("'", '"'), name, fc.constantFrom(' started', ' stopped', ' reloaded', ' started.')).map(([u, q, n, tail]) => `Jail ${u}${q}${n}${q}${tail}`),
      fc.string({ maxLength: 12 }).map((v) => `Starting Fail2ban v${v}`),
      fc.constantFrom('Shutdown in progress...', 'Stopping all jails', 'Exiting Fail2ban', 'Reload all jails', 'Reload finished.', 'Shutdown', 'Exiting'),
      fc.string({ maxLength: 30 }),
    );
    const line = fc
      .tuple(fc.constantFrom('fail2ban.server         ', 'fail2ban.jail           ', 'fail2ban.jail ', 'fail2ban.server'), fc.constantFrom('INFO    ', 'NOTICE  ', 'INFO '), msg, fc.constantFrom('', ' ', '\r', '\t'))
      .map(([logger, level, m, tail]) => `${T} ${logger}[4711]: ${level}${m}${tail}`);
    const seen = new Map<FastResult, number>();
    fc.assert(
      fc.property(line, fc.constantFrom(...FORMATS), (l, fmt) => {
        const res = checkLine(l, fmt);
        seen.set(res, (seen.get(res) ?? 0) + 1);
      }),
      { numRuns: 3000 },
    );
    expect(seen.get(WRITTEN) ?? 0).toBeGreaterThan(100);
    expect(seen.get(NOT_EVENT) ?? 0).toBeGreaterThan(100);
  });

  it('generated lines in the fast shape with random addresses, jails, PIDs and tails', () => {
    const v4 = fc.tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300), fc.boolean()).map(([a, b, c, d, pad]) => `${pad ? '0' : ''}${a}.${b}.${c}.${d}`);
    const word = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
    const v6 = fc
      .tuple(fc.array(word, { minLength: 8, maxLength: 8 }), fc.nat(8), fc.nat(8), fc.boolean())
      .map(([ws, from, len, upper]) => {
        // Zero a run, compress it (or not), maybe upper-case: canonical and non-canonical forms.
        const w = ws.map((x, i) => (i >= from && i < from + len ? '0' : x));
        let s = w.join(':');
        if (len >= 1 && from < 8) s = `${w.slice(0, from).join(':')}::${w.slice(Math.min(8, from + len)).join(':')}`;
        return upper ? s.toUpperCase() : s;
      });
    const jail = fc.oneof(fc.constantFrom('sshd', 'nginx-http-auth', 'postfix-sasl', 'recidive'), fc.string({ minLength: 0, maxLength: 12 }));
    const verb = fc.constantFrom('Ban ', 'Unban ', 'Restore Ban ', 'Repeal Ban ', 'already');
    const line = fc
      .tuple(fc.oneof(v4, v6, fc.string({ maxLength: 10 })), jail, verb, fc.oneof(fc.integer({ min: 0, max: 99999 }).map(String), fc.constant('007')), fc.constantFrom('', ' ', '\r', ' x', '\t'))
      .map(([ip, j, v, pid, tail]) => {
        const msg = v === 'already' ? `[${j}] ${ip} already banned` : `[${j}] ${v}${ip}`;
        return `${T} fail2ban.actions        [${pid}]: NOTICE  ${msg}${tail}`;
      });
    let written = 0;
    fc.assert(
      fc.property(line, fc.constantFrom(...FORMATS), (l, fmt) => {
        if (checkLine(l, fmt) === WRITTEN) written++;
      }),
      { numRuns: 3000 },
    );
    expect(written).toBeGreaterThan(100);
  });
});

describe('Scanner', () => {
  const text = [...fixtureLines, ...EDGE, ...LIFECYCLE].join('\n');
  const lines = text.split('\n');
  it.each(FORMATS.map((f) => [`json ${f.json} raw ${f.raw}`, f] as const))('equals the generic path line by line, whatever the chunk size (%s)', (_name, fmt) => {
    const expected = lines.map((l) => generic(l.endsWith('\r') ? l.slice(0, -1) : l, fmt)).join('');
    const expectedEvents = lines.filter((l) => parseLine(l).kind === 'event').length;
    const expectedRejected = lines.filter((l) => parseLine(l).kind === 'rejected').length;
    for (const size of [1, 7, 4096, 1 << 20]) {
      const r = scan(text, fmt, size);
      expect(r.out).toBe(expected);
      expect(r.events).toBe(expectedEvents);
      expect(r.rejected).toBe(expectedRejected);
      expect(r.lines).toBe(lines.length);
    }
    expect(expectedRejected).toBeGreaterThan(0);
  });

  it('takes blocks larger than the module input, and a line longer than it, in order', () => {
    const fmt: Format = { json: true, raw: false };
    const ban = (i: number) => `${A}[sshd] Ban 192.0.2.${i % 250}`;
    const huge = `${A}[sshd] Ban 192.0.2.1 ${'x'.repeat(3 << 20)}`;
    const hugeEvent = `${A}[${'j'.repeat(3 << 20)}] Ban 192.0.2.2`;
    const lines = [...Array.from({ length: 30000 }, (_, i) => ban(i)), huge, ban(7), hugeEvent, ...Array.from({ length: 30000 }, (_, i) => ban(i + 1))];
    const all = lines.join('\n');
    const expected = lines.map((l) => generic(l, fmt)).join('');
    // One 8 MiB chunk: blocks of several MiB go to the module in pieces.
    const r = scan(all, fmt, 8 << 20);
    expect(r.lines).toBe(lines.length);
    expect(r.events).toBe(lines.filter((l) => parseLine(l).kind === 'event').length);
    expect(r.out).toBe(expected);
    expect(r.out).toContain(`"jail":"${'j'.repeat(100)}`);
  });

  it('counts every line and keeps every event, whatever follows a line', () => {
    for (const tail of ['x\n', '\n', '', 'x']) {
      const r = scan(`${A}[sshd] Ban 192.0.2.1\n${tail}`, { json: false, raw: false }, 1 << 20);
      expect(r.out, tail).toBe(`${T} ban sshd 192.0.2.1\n`);
      expect(r.lines, tail).toBe(1 + (tail === '' ? 0 : tail.split('\n').length - (tail.endsWith('\n') ? 1 : 0)));
    }
  });

  it.each(FORMATS.map((f) => [`json ${f.json} raw ${f.raw}`, f] as const))('long lines fill the module output many times over (%s)', (_name, fmt) => {
    // Lines up to the fast-path limit (16 KiB), raw doubling them: each must fit before it is written.
    const lines = Array.from({ length: 400 }, (_, i) => `${A}[${'j'.repeat(1000 + ((i * 7919) % 15000))}] Ban 192.0.2.${i % 250}`);
    const r = scan(lines.join('\n'), fmt, 1 << 20);
    expect(r.events).toBe(lines.length);
    expect(r.out).toBe(lines.map((l) => generic(l, fmt)).join(''));
    expect(r.out.length).toBeGreaterThan(3 << 20);
  });

  it('generated mixes of every kind of line, whatever the chunk size', () => {
    const pool = [...fixtureLines, ...EDGE, ...LIFECYCLE];
    const mutate = (l: string, at: number, c: string) => l.slice(0, at % (l.length + 1)) + c + l.slice((at % (l.length + 1)) + 1);
    const line = fc.oneof(
      fc.constantFrom(...pool),
      fc.tuple(fc.constantFrom(...pool), fc.nat(200), fc.constantFrom(' ', '[', ']', '0', '\u00e9', ':', '.', 'a', '')).map(([l, at, c]) => mutate(l, at, c)),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 40 }), fc.constantFrom(...FORMATS), fc.constantFrom(1, 13, 4096, 1 << 20), (ls, fmt, size) => {
        const r = scan(ls.join('\n'), fmt, size);
        const want = ls.map((l) => generic(l.endsWith('\r') ? l.slice(0, -1) : l, fmt)).join('');
        expect(r.out).toBe(want);
        expect(r.lines).toBe(ls.length === 0 ? 0 : ls.join('\n').split('\n').length);
      }),
      { numRuns: 300 },
    );
  });
});
